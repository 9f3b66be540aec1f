"""E-mails with several sender processes on one PostgreSQL database, and a sender killed
mid-burst: exactly one confirmation per booking, none lost, a duplicate at most once and
with the same Message-ID. The senders are `python -m core send-mail --forever`
processes; the SMTP server is aiosmtpd in this process."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from core import booking
from core.mail import messages
from core.outbox import consumer_status, register
from core.sessions import create_session
from tests.actors import ADMIN, STAFF
from tests.e2e.conftest import ROOT, _stop
from tests.smtp_server import SmtpHarness

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]
BOOKINGS = 200


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _sender(engine, smtp_url: str, log_path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "SMTP_URL": smtp_url, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "core", "--database-url", _url(engine), "send-mail", "--forever", "--every", "0.2",
         "--start", "beginning", *extra],
        cwd=ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def _sessions(engine, future_day, count: int) -> list:
    return [create_session(engine, course_type="First Aid at Work", session_date=future_day + dt.timedelta(days=n // 2),
                           start_time="09:00", end_time="16:30", location=f"Location {'AB'[n % 2]}", actor=ADMIN)
            for n in range(count)]


def _book_all(engine, sessions, threads: int = 8) -> list:
    made, errors = [], []
    lock = threading.Lock()

    def work(first: int) -> None:
        for n in range(first, BOOKINGS, threads):
            try:
                b = booking.book(engine, sessions[n // 12].id, contact_name=f"Caller {n}",
                                 contact_email=f"caller{n}@example.co.uk", actor=STAFF)
            except Exception as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
                continue
            with lock:
                made.append(b)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors[:3]
    return made


def _all_sent(engine) -> bool:
    with engine.connect() as conn:
        waiting = conn.execute(sa.text("SELECT count(*) FROM messages WHERE status <> 'sent'")).scalar_one()
    return waiting == 0 and consumer_status(engine, messages.CONSUMER).lag == 0


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def test_two_sender_processes_on_one_database_send_exactly_one_confirmation_for_each_of_200_bookings(
        make_database, future_day, tmp_path):
    engine = make_database("postgresql")
    register(engine, messages.CONSUMER, "beginning")
    sessions = _sessions(engine, future_day, BOOKINGS // 12 + 1)
    with SmtpHarness() as (inbox, server):
        procs = [_sender(engine, f"smtp://127.0.0.1:{server.port}", tmp_path / f"sender{n}.log") for n in range(2)]
        try:
            made = _book_all(engine, sessions)
            inbox.wait_for(BOOKINGS, timeout=180)
            _wait(lambda: _all_sent(engine), 60, "every message recorded as sent")
            assert all(p.poll() is None for p in procs), "a sender process died"
        finally:
            for p in procs:
                _stop(p)
        got = inbox.messages()
    assert len(made) == BOOKINGS
    assert len(got) == BOOKINGS
    assert sorted(r.recipients[0] for r in got) == sorted(b.contact_email for b in made)
    assert len({r.message_id for r in got}) == BOOKINGS
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM messages")).scalar_one() == BOOKINGS


def test_a_sender_killed_mid_burst_loses_nothing_and_sends_a_duplicate_at_most_once_with_the_same_message_id(
        make_database, future_day, tmp_path):
    engine = make_database("postgresql")
    register(engine, messages.CONSUMER, "beginning")
    sessions = _sessions(engine, future_day, BOOKINGS // 12 + 1)
    made = _book_all(engine, sessions)
    with SmtpHarness() as (inbox, server):
        smtp_url = f"smtp://127.0.0.1:{server.port}"
        first = _sender(engine, smtp_url, tmp_path / "first.log", "--lease", "2")
        try:
            inbox.wait_for(40, timeout=120)
            os.killpg(first.pid, signal.SIGKILL)  # mid-burst: between claims, sends and records
            first.wait(timeout=10)
            assert len(inbox.messages()) < BOOKINGS, "the burst was over before the kill"
            second = _sender(engine, smtp_url, tmp_path / "second.log", "--lease", "2")
            try:
                _wait(lambda: {r.recipients[0] for r in inbox.messages()} >= {b.contact_email for b in made}, 120,
                      "every booking's confirmation arrived")
                _wait(lambda: _all_sent(engine), 60, "every message recorded as sent")
            finally:
                _stop(second)
        finally:
            _stop(first)
        got = inbox.messages()
    per_recipient = collections.defaultdict(list)
    for r in got:
        per_recipient[r.recipients[0]].append(r.message_id)
    assert set(per_recipient) == {b.contact_email for b in made}  # nothing lost
    assert all(len(ids) <= 2 for ids in per_recipient.values())  # a duplicate at most once
    assert all(len(set(ids)) == 1 for ids in per_recipient.values())  # ... with the same Message-ID
