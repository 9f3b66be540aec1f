"""8. Booking e-mails: a burst of 1,000 bookings, and how fast their confirmations leave.

For each database: 1,000 one-place bookings from 8 threads on 84 sessions, with the mail
sender running as it does in every app process (a daemon thread woken by each commit of
the process) and a real SMTP server (aiosmtpd) in the same process. Measured: messages a
second (1,000 over the time from the first booking's commit to the last message accepted)
and, per booking, the time from its commit (booking.book returned) to the SMTP server
accepting its confirmation: p50 and p95. The bookers, the sender and the SMTP server share
one Python process (and its GIL) and the machine's cores with the database.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from bench.stats import percentile
from core import booking, config
from core.db import forget_engine, get_engine, migrate
from core.mail import messages, sender
from core.outbox import register
from core.sessions import create_sessions
from tests.actors import ADMIN, STAFF
from tests.smtp_server import SmtpHarness

BOOKINGS = 1000
BOOKERS = 8


def _burst(engine, count: int) -> dict:
    register(engine, messages.CONSUMER, "beginning")
    first_day = config.today() + dt.timedelta(days=30)
    specs = [dict(course_type="First Aid at Work", session_date=first_day + dt.timedelta(days=n // 2),
                  start_time="09:00", end_time="16:30", location=f"Location {'AB'[n % 2]}", max_capacity=12)
             for n in range(count // 12 + 1)]
    sessions = create_sessions(engine, specs, actor=ADMIN)
    committed: dict[str, float] = {}
    lock = threading.Lock()

    def book(first: int) -> None:
        for n in range(first, count, BOOKERS):
            address = f"caller{n}@example.co.uk"
            booking.book(engine, sessions[n // 12].id, contact_name=f"Caller {n}", contact_email=address, actor=STAFF)
            at = time.monotonic()
            with lock:
                committed[address] = at

    with SmtpHarness() as (inbox, server):
        sender.start_sender(engine, smtp=server, start="beginning")
        try:
            started = time.monotonic()
            threads = [threading.Thread(target=book, args=(t,)) for t in range(BOOKERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            booked = time.monotonic() - started
            got = inbox.wait_for(count, timeout=300)
        finally:
            sender.stop_sender(engine)
    latencies = [r.at - committed[r.recipients[0]] for r in got]
    span = max(r.at for r in got) - min(committed.values())
    return {"bookings": count, "messages": len(got), "booking_seconds": round(booked, 2),
            "seconds": round(span, 2), "messages_per_s": round(len(got) / span, 1),
            "latency_p50_ms": round(1000 * percentile(latencies, 50), 0),
            "latency_p95_ms": round(1000 * percentile(latencies, 95), 0),
            "latency_max_ms": round(1000 * max(latencies), 0),
            "distinct_message_ids": len({r.message_id for r in got})}


def run(ctx) -> dict:
    count = 200 if ctx.quick else BOOKINGS
    out: dict = ctx.partial
    out.update({"bookers": BOOKERS, "batch": sender.BATCH})

    def postgresql() -> dict:
        engine = ctx.db.new_schema("mail")
        got = _burst(engine, count)
        ctx.log(f"  postgresql: {got}")
        return got

    def duckdb() -> dict:
        engine = get_engine(f"duckdb:///{ctx.tmp / 'mail.duckdb'}")
        try:
            migrate(engine)
            got = _burst(engine, count)
        finally:
            forget_engine(engine)
        ctx.log(f"  duckdb: {got}")
        return got

    ctx.part(out, "postgresql", postgresql)
    ctx.part(out, "duckdb", duckdb)
    out["measured_at"] = time.strftime("%Y-%m-%d %H:%M")
    return out
