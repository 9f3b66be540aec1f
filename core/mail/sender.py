"""The sender: events -> messages -> SMTP, in a loop.

One pass (`run_once`): the mail consumer turns new events into queued messages
(core.outbox.consume, in the transaction that moves its cursor), reminders due today are
queued, then due messages are claimed a batch at a time, sent after commit and their
outcome recorded (core.mail.messages). With no SMTP_URL, due messages are kept instead.

Failures: a 4xx answer or an unreachable server leaves the message queued with backoff
(30 s, doubling, at most an hour; failed after MAX_ATTEMPTS); a 5xx answer for the
recipient or an address that is not one fails that message only, with the reason. Later
messages to the same address wait behind one that is retrying, so they arrive in order.

Every app process runs `start_sender` (a daemon thread, like the hold sweeper); a commit in
the process wakes it at once, so an e-mail follows its booking by a pass, not a poll;
`python -m core send-mail --forever` runs the same loop alone.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import threading
import time
import weakref
from dataclasses import dataclass, fields

from sqlalchemy.engine import Engine

from core import db
from core.config import SmtpServer, get_settings, utc_now
from core.errors import CoreError
from core.mail import messages as mq
from core.mail.reminders import queue_reminders
from core.mail.smtp import BadAddress, Connection, Permanent, ServerAway, Temporary, build, sender_address
from core.outbox import Start, consume

log = logging.getLogger(__name__)

# The modules whose builders say who is told what (core.mail.messages.builder); a new kind
# of e-mail is a module here and its templates.
BUILDER_MODULES = ("core.mail.bookings", "core.mail.requalify")
for _module in BUILDER_MODULES:
    importlib.import_module(_module)

BATCH = 20                # messages a claim: what one crash can send twice, at most once each
LEASE_SECONDS = 120.0     # a claim is taken back after this (a sender that died); > a batch's SMTP time
BACKOFF_FIRST = 30.0
BACKOFF_MOST = 3600.0
MAX_ATTEMPTS = 12         # about seven hours of retries, then failed (staff see it; resend)
PASS_SECONDS = 2.0        # between passes with nothing to wake the sender
REMINDER_SECONDS = 60.0   # how often due reminders are looked for
# Events a consumer transaction: each is rendered inside it (~5-10 ms with its .ics), and on
# DuckDB that transaction holds the one writer's turn, so bookings wait behind it. With 500
# (the consumer's default) a burst of 1,000 bookings took 91 s to book instead of ~3 s
# (measured, bench/mail.py, on a loaded machine); 25 keeps a turn to a few tens of ms.
CONSUME_LIMIT = 25
_CONFIGURED = object()


@dataclass
class Report:
    queued: int = 0    # events handled by the consumer
    reminders: int = 0
    sent: int = 0
    kept: int = 0
    failed: int = 0
    retrying: int = 0

    def add(self, other: Report) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def __str__(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name}" for f in fields(self))


def backoff(attempt: int, first: float = BACKOFF_FIRST) -> float:
    """Seconds to wait after the `attempt`-th failed try."""
    return min(first * 2 ** max(attempt - 1, 0), BACKOFF_MOST)


def send_due(engine: Engine, *, smtp: SmtpServer | None | object = _CONFIGURED, batch: int = BATCH,
             lease: float = LEASE_SECONDS, backoff_first: float = BACKOFF_FIRST) -> Report:
    """Send (or keep) every due message; returns what happened. Never raises for SMTP."""
    settings = get_settings()
    server = settings.smtp if smtp is _CONFIGURED else smtp
    report = Report()
    if server is None:
        while kept := mq.keep_due(engine):
            report.kept += kept
        return report
    try:
        envelope_from = sender_address(settings.smtp_from).addr_spec
    except BadAddress as exc:
        envelope_from, bad_from = None, f"SMTP_FROM: {exc}"
    smtp: Connection | None = None  # one SMTP session for every batch of this call
    try:
        while claimed := mq.claim(engine, limit=batch, lease=lease):
            try:
                if envelope_from is None:
                    raise ServerAway(bad_from)
                if smtp is None:
                    smtp = Connection(server).__enter__()
                outcomes = _send_batch(smtp, claimed, settings.smtp_from, envelope_from, backoff_first)
            except ServerAway as exc:  # no session: every message of the batch waits
                outcomes = [_later(m, str(exc), backoff_first) for m in claimed]
            mq.record(engine, outcomes, max_attempts=MAX_ATTEMPTS)
            for o in outcomes:
                if o.status == mq.SENT:
                    report.sent += 1
                elif o.status == mq.FAILED:
                    report.failed += 1
                else:
                    report.retrying += 1
            if any(o.status == mq.QUEUED for o in outcomes):
                break  # the server is away or busy: the next pass tries again, after the backoff
    finally:
        if smtp is not None:
            smtp.__exit__(None, None, None)
    return report


def _later(m: mq.Claimed, why: str, first: float) -> mq.Outcome:
    return mq.Outcome(m.id, mq.QUEUED, why, retry_after=backoff(m.attempts + 1, first))


def _send_batch(smtp: Connection, claimed: list[mq.Claimed], smtp_from: str, envelope_from: str,
                first: float) -> list[mq.Outcome]:
    outcomes: list[mq.Outcome] = []
    for n, m in enumerate(claimed):
        try:
            smtp.send(build(m, smtp_from, utc_now()), envelope_from, m.recipient)
            outcomes.append(mq.Outcome(m.id, mq.SENT))
        except (BadAddress, Permanent) as exc:
            outcomes.append(mq.Outcome(m.id, mq.FAILED, str(exc)))
        except ServerAway as exc:
            outcomes.append(_later(m, str(exc), first))
            outcomes += [mq.Outcome(o.id, mq.QUEUED, counts=False) for o in claimed[n + 1:]]
            break
        except Temporary as exc:
            outcomes.append(_later(m, str(exc), first))
    return outcomes


def run_once(engine: Engine, *, start: Start = "now", reminders: bool = True, **send) -> Report:
    """One pass: events to messages, reminders, then send. Raises Busy/DatabaseUnavailable."""
    report = Report(queued=consume(engine, mq.CONSUMER, mq.handle_event, start=start, limit=CONSUME_LIMIT))
    if reminders:
        report.reminders = queue_reminders(engine)
    report.add(send_due(engine, **send))
    return report


# --- in every app process ---------------------------------------------------------------------

_senders: weakref.WeakKeyDictionary[Engine, tuple[threading.Thread, threading.Event, threading.Event]] = \
    weakref.WeakKeyDictionary()
_senders_lock = threading.Lock()


def _wake(engine: Engine, _version: int) -> None:
    found = _senders.get(engine)
    if found:
        found[2].set()


db.on_commit(_wake)


def start_sender(engine: Engine, every: float = PASS_SECONDS, *, start: Start = "now", **send) -> None:
    """Run the sender in a daemon thread of this process (once per engine); every commit of
    this process wakes it. Stopped by `stop_sender` and at interpreter exit."""
    with _senders_lock:
        running = _senders.get(engine)
        if running and running[0].is_alive():
            return
        ref, stop, wake = weakref.ref(engine), threading.Event(), threading.Event()

        def loop() -> None:
            last_reminders = 0.0
            while not stop.is_set():
                current = ref()
                if current is None:
                    return
                wake.clear()
                try:
                    due = time.monotonic() - last_reminders >= REMINDER_SECONDS
                    run_once(current, start=start, reminders=due, **send)
                    if due:
                        last_reminders = time.monotonic()
                except CoreError as exc:  # database away or busy: try again next pass
                    log.info("mail sender: %s", exc)
                except Exception as exc:  # noqa: BLE001  (never let the sender die)
                    if stop.is_set() or "Interrupt" in type(getattr(exc, "orig", exc)).__name__:
                        return
                    log.exception("mail sender failed")
                del current
                wake.wait(every)

        thread = threading.Thread(target=loop, name="mail-sender", daemon=True)
        _senders[engine] = (thread, stop, wake)
        thread.start()


def stop_sender(engine: Engine | None = None, timeout: float = 10.0) -> None:
    """Stop the sender of `engine` (None: every sender) and wait for it."""
    with _senders_lock:
        chosen = [v for k, v in _senders.items() if engine is None or k is engine]
    for _thread, stop, wake in chosen:
        stop.set()
        wake.set()
    for thread, _stop, _wake in chosen:
        thread.join(timeout)


atexit.register(stop_sender)
db.on_forget(stop_sender)


# --- python -m core send-mail -----------------------------------------------------------------


def add_send_mail_parser(subparsers) -> None:
    p = subparsers.add_parser("send-mail", help="turn booking events into e-mails and send them (SMTP_URL)")
    p.add_argument("--forever", action="store_true", help="keep running (a process of its own for e-mail)")
    p.add_argument("--every", type=float, default=PASS_SECONDS, help="seconds between passes (with --forever)")
    p.add_argument("--lease", type=float, default=LEASE_SECONDS,
                   help="seconds before a message claimed by a sender that died is sent again")
    p.add_argument("--start", choices=("now", "beginning"), default="now",
                   help="the first time only: mail events from now on (default), or the whole history")
    p.set_defaults(run=_send_mail)


def _send_mail(args) -> str:
    import signal

    from core.db import get_engine

    engine = get_engine(args.database_url)
    if not args.forever:
        return f"Mail: {run_once(engine, start=args.start, lease=args.lease)}."
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    total, last_reminders = Report(), 0.0
    while not stop.is_set():
        try:
            due = time.monotonic() - last_reminders >= REMINDER_SECONDS
            total.add(run_once(engine, start=args.start, reminders=due, lease=args.lease))
            if due:
                last_reminders = time.monotonic()
        except CoreError as exc:
            log.warning("mail sender: %s", exc)
        stop.wait(args.every)
    return f"Mail: {total}."


