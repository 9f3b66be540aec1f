"""The messages table: what the mail consumer queues, the sender claims and records, and
the Outbox page reads.

Exactly one message per event and recipient: `event_key` ("event:<version>" for an event of
the feed, "reminder:<booking>:<session>:<date>" for a reminder) and `recipient` are a
unique key, and rows are inserted with ON CONFLICT DO NOTHING, in the transaction that
moves the consumer's cursor (core.outbox), so a batch handled twice queues nothing twice.

Builders: `BUILDERS[kind](conn, change) -> [Draft]` says who is told what about an event of
that kind. A new kind of e-mail (say `requalification.due`) is one module that decorates a
function with `@builder("requalification.due")` and renders its templates with
`render.render`, named in `sender.BUILDER_MODULES` (core/mail/bookings.py is the example).

Sending (core/mail/sender.py) claims due rows under a lease (`claimed_until`): the claim
is its own short transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so several processes
take different rows), SMTP happens outside any transaction, and the outcome is recorded
in another. A sender killed between SMTP's accept and the record leaves the row queued;
when the lease runs out it is sent again with the same Message-ID (one duplicate at most,
which mail clients fold into one). Per recipient, messages go in `seq` order: a row is
claimed only when no earlier row for the same address is still queued.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from core import validation
from core.access import Actor, require
from core.config import get_settings, utc_now
from core.db import reading, write
from core.errors import InvalidInput
from core.models import Change
from core.schema import messages as ms
from core.schema import messages_seq

CONSUMER = "mail"
QUEUED, SENT, FAILED, KEPT = "queued", "sent", "failed", "kept"
STATUSES = (QUEUED, SENT, FAILED, KEPT)
ERROR_TEXT = 500


@dataclass(frozen=True)
class Draft:
    """A message to queue: rendered once, when its event is handled."""

    recipient: str
    name: str
    kind: str
    subject: str
    text_body: str
    html_body: str
    ics: str | None = None
    booking_id: uuid.UUID | None = None
    reference: str | None = None


Builder = Callable[[Connection, Change], list[Draft]]
BUILDERS: dict[str, Builder] = {}


def builder(kind: str) -> Callable[[Builder], Builder]:
    """Register `fn` as the builder of events of `kind` (one per kind)."""
    def register(fn: Builder) -> Builder:
        if BUILDERS.get(kind, fn) is not fn:
            raise ValueError(f"a builder for {kind!r} exists already")
        BUILDERS[kind] = fn
        return fn
    return register


def handle_event(conn: Connection, change: Change) -> None:
    """The mail consumer's handler: queue the event's messages (none for most kinds)."""
    build = BUILDERS.get(change.action)
    if build is not None:
        queue(conn, f"event:{change.version}", build(conn, change))


def queue(conn: Connection, event_key: str, drafts: list[Draft]) -> int:
    """Insert the drafts as queued messages; one per (event_key, recipient). Returns how many are new."""
    now, made = utc_now(), 0
    seen: set[str] = set()
    for d in drafts:
        address = d.recipient.strip().lower()
        if address in seen:  # the contact is also an attendee: one message
            continue
        seen.add(address)
        mid = uuid.uuid4()
        made += conn.execute(insert(ms).values(
            id=mid, seq=messages_seq.next_value(), event_key=event_key, recipient=address, name=d.name,
            kind=d.kind, subject=d.subject, text_body=d.text_body, html_body=d.html_body, ics=d.ics,
            booking_id=d.booking_id, reference=d.reference, status=QUEUED, attempts=0,
            message_id=message_id(mid), next_attempt_at=now, created_at=now,
        ).on_conflict_do_nothing().returning(ms.c.id)).first() is not None
    return made


def message_id(row_id: uuid.UUID, resend: int = 0) -> str:
    """A Message-ID derived from the row: the same for every try of one message."""
    domain = _from_domain()
    return f"<{row_id.hex}{f'.r{resend}' if resend else ''}@{domain}>"


def _from_domain() -> str:
    from email.utils import parseaddr

    address = parseaddr(get_settings().smtp_from)[1]
    domain = address.rpartition("@")[2].strip().lower()
    return domain if domain and all(c.isalnum() or c in ".-" for c in domain) else "localhost"


# --- claiming and recording (the sender) ------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    recipient: str
    name: str | None
    subject: str
    text_body: str
    html_body: str
    ics: str | None
    message_id: str
    attempts: int
    created_at: dt.datetime


@dataclass
class Outcome:
    """What happened to one claimed message."""

    id: uuid.UUID
    status: str                 # sent / failed / queued (try again later) / kept
    error: str | None = None
    counts: bool = True         # an attempt to count (False: released untried)
    retry_after: float = 0.0    # seconds, for `queued`


def claim(engine: Engine, *, limit: int, lease: float) -> list[Claimed]:
    """Take up to `limit` due messages for `lease` seconds, oldest first, at most one per
    recipient and never one whose recipient has an earlier message still queued."""
    m2 = ms.alias("earlier")
    earlier_waiting = sa.exists().where(m2.c.recipient == ms.c.recipient, m2.c.status == QUEUED, m2.c.seq < ms.c.seq)

    def work(conn: Connection) -> list[Claimed]:
        now = utc_now()
        stmt = (sa.select(ms.c.id, ms.c.recipient, ms.c.name, ms.c.subject, ms.c.text_body, ms.c.html_body,
                          ms.c.ics, ms.c.message_id, ms.c.attempts, ms.c.created_at)
                .where(ms.c.status == QUEUED, ms.c.next_attempt_at <= now,
                       sa.or_(ms.c.claimed_until.is_(None), ms.c.claimed_until <= now), ~earlier_waiting)
                .order_by(ms.c.seq).limit(limit))
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=ms)
        rows = [Claimed(*r) for r in conn.execute(stmt)]
        if rows:
            conn.execute(sa.update(ms).where(ms.c.id.in_([r.id for r in rows]))
                         .values(claimed_until=now + dt.timedelta(seconds=lease)))
        return rows

    return write(engine, work)


def keep_due(engine: Engine, *, limit: int = 500) -> int:
    """No SMTP server configured: due queued messages become `kept` (shown on the Outbox page)."""
    def work(conn: Connection) -> int:
        now = utc_now()
        ids = sa.select(ms.c.id).where(ms.c.status == QUEUED, ms.c.next_attempt_at <= now,
                                       sa.or_(ms.c.claimed_until.is_(None), ms.c.claimed_until <= now))
        if conn.dialect.name == "postgresql":
            ids = ids.with_for_update(skip_locked=True)
        chosen = list(conn.execute(ids.limit(limit)).scalars())
        if chosen:
            conn.execute(sa.update(ms).where(ms.c.id.in_(chosen))
                         .values(status=KEPT, sent_at=now, claimed_until=None))
        return len(chosen)

    return write(engine, work)


def record(engine: Engine, outcomes: list[Outcome], *, max_attempts: int) -> None:
    """Record the outcomes of claimed messages, in one transaction."""
    if not outcomes:
        return

    def work(conn: Connection) -> None:
        now = utc_now()
        for o in outcomes:
            values: dict = dict(claimed_until=None)
            if o.status == SENT:
                values.update(status=SENT, sent_at=now, last_error=None, attempts=ms.c.attempts + 1)
            elif o.status == FAILED:
                values.update(status=FAILED, last_error=(o.error or "")[:ERROR_TEXT], attempts=ms.c.attempts + 1)
            elif o.counts:
                values.update(attempts=ms.c.attempts + 1, last_error=(o.error or "")[:ERROR_TEXT],
                              next_attempt_at=now + dt.timedelta(seconds=o.retry_after),
                              status=sa.case((ms.c.attempts + 1 >= max_attempts, FAILED), else_=QUEUED))
            # `queued` rows only: another sender may have recorded it after our lease ran out
            conn.execute(sa.update(ms).where(ms.c.id == o.id, ms.c.status == QUEUED).values(**values))

    write(engine, work)


# --- what the pages read and do ---------------------------------------------------------------


@dataclass(frozen=True)
class MessageView:
    id: uuid.UUID
    created_at: dt.datetime
    kind: str
    recipient: str
    name: str | None
    subject: str
    reference: str | None
    booking_id: uuid.UUID | None
    status: str
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None
    message_id: str
    text_body: str = field(repr=False, default="")
    html_body: str = field(repr=False, default="")
    ics: str | None = field(repr=False, default=None)


_VIEW = (ms.c.id, ms.c.created_at, ms.c.kind, ms.c.recipient, ms.c.name, ms.c.subject, ms.c.reference,
         ms.c.booking_id, ms.c.status, ms.c.attempts, ms.c.last_error, ms.c.sent_at, ms.c.message_id)


def list_messages(engine: Engine, *, reference: str | None = None, statuses: tuple[str, ...] = (),
                  limit: int = 200) -> list[MessageView]:
    """Newest first; `reference` (BK-...) narrows to one booking's messages."""
    stmt = sa.select(*_VIEW).order_by(ms.c.seq.desc()).limit(limit)
    if reference and reference.strip():
        stmt = stmt.where(ms.c.reference == reference.strip().upper())
    if statuses:
        stmt = stmt.where(ms.c.status.in_(statuses))
    with reading(engine) as conn:
        return [MessageView(*r) for r in conn.execute(stmt)]


def get_message(engine: Engine, message: object) -> MessageView:
    mid = validation.uuid_of(message, "message_id", "message")
    with reading(engine) as conn:
        row = conn.execute(sa.select(*_VIEW, ms.c.text_body, ms.c.html_body, ms.c.ics).where(ms.c.id == mid)).first()
    if row is None:
        raise InvalidInput("message_id", "That message does not exist (any more).")
    return MessageView(*row)


def resend(engine: Engine, message: object, *, actor: Actor | None = None) -> MessageView:
    """Send a message again (staff): queued anew with a new Message-ID, so a mail client
    shows it even if it kept the first one."""
    require(actor, "staff", "resend e-mails")
    mid = validation.uuid_of(message, "message_id", "message")

    def work(conn: Connection) -> None:
        row = conn.execute(sa.select(ms.c.status, ms.c.message_id).where(ms.c.id == mid)).first()
        if row is None:
            raise InvalidInput("message_id", "That message does not exist (any more).")
        if row.status == QUEUED:
            raise InvalidInput("message_id", "That message is waiting to be sent already.")
        count = row.message_id.split("@")[0].rpartition(".r")
        again = int(count[2]) + 1 if count[1] and count[2].isdigit() else 1
        conn.execute(sa.update(ms).where(ms.c.id == mid).values(
            status=QUEUED, attempts=0, last_error=None, next_attempt_at=utc_now(), claimed_until=None,
            message_id=message_id(mid, again), seq=messages_seq.next_value()))

    write(engine, work)
    return get_message(engine, mid)


@dataclass(frozen=True)
class Delivery:
    """How a booking's e-mails fared, for the booking's line on the session page."""

    sent: int
    kept: int
    waiting: int
    failed: tuple[tuple[str, str], ...]   # (recipient, why) of messages that failed or are retrying


def deliveries(engine: Engine, booking_ids) -> dict[uuid.UUID, Delivery]:
    ids = list(booking_ids)
    if not ids:
        return {}
    with reading(engine) as conn:
        rows = conn.execute(sa.select(ms.c.booking_id, ms.c.status, ms.c.recipient, ms.c.last_error, ms.c.attempts)
                            .where(ms.c.booking_id.in_(ids)).order_by(ms.c.seq)).all()
    found: dict[uuid.UUID, dict] = {}
    for r in rows:
        d = found.setdefault(r.booking_id, dict(sent=0, kept=0, waiting=0, failed=[]))
        if r.status == SENT:
            d["sent"] += 1
        elif r.status == KEPT:
            d["kept"] += 1
        elif r.status == QUEUED:
            d["waiting"] += 1
        if r.status == FAILED or (r.status == QUEUED and r.attempts):
            d["failed"].append((r.recipient, r.last_error or "not delivered"))
    return {k: Delivery(v["sent"], v["kept"], v["waiting"], tuple(v["failed"])) for k, v in found.items()}


def counts(engine: Engine) -> dict[str, int]:
    with reading(engine) as conn:
        got = dict(conn.execute(sa.select(ms.c.status, sa.func.count()).group_by(ms.c.status)).all())
    return {s: int(got.get(s, 0)) for s in STATUSES}
