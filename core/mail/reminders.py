"""Reminders: due-time messages the sender finds by itself (no event announces them).

A confirmed booking on a scheduled session is reminded `reminder_days` before (per course
type, default 3; 0 turns reminders off for that course), once: its key is
"reminder:<booking>:<session>:<date>", so a booking moved to another session is reminded of
that one. A booking made after its reminder would have gone (within the last days) is not
reminded: its confirmation is recent and says the same.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.config import get_settings, today
from core.db import reading, write
from core.mail.bookings import _drafts, _subject
from core.mail.details import DEFAULT_REMINDER_DAYS, session_facts
from core.mail.messages import queue
from core.models import Change
from core.schema import bookings as bk
from core.schema import course_sessions as cs
from core.schema import course_types as ct
from core.schema import messages as ms

MOST_DAYS = 60


def _utc_midnight(day: dt.date) -> dt.datetime:
    """The start of `day` at the sites, as naive UTC."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=get_settings().timezone)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def due_reminders(conn: Connection, on: dt.date) -> list[tuple]:
    """(booking id, session id, session date, days) of reminders due on `on` and not yet queued."""
    days = sa.func.coalesce(ct.c.reminder_days, DEFAULT_REMINDER_DAYS)
    rows = conn.execute(
        sa.select(bk.c.id, cs.c.id, cs.c.session_date, days, bk.c.created_at)
        .select_from(bk.join(cs, cs.c.id == bk.c.session_id).outerjoin(ct, ct.c.name == cs.c.course_type))
        .where(bk.c.status == "confirmed", sa.func.coalesce(bk.c.emails, "contact") != "none",
               cs.c.status == "scheduled", cs.c.session_date > on,
               cs.c.session_date <= on + dt.timedelta(days=MOST_DAYS))
    ).all()
    due = []
    for booking_id, session_id, day, before, created in rows:
        starts_reminding = day - dt.timedelta(days=int(before))
        if before and starts_reminding <= on and created < _utc_midnight(starts_reminding):
            due.append((booking_id, session_id, day, (day - on).days))
    if not due:
        return []
    keys = {_key(b, s, d) for b, s, d, _ in due}
    done = set(conn.execute(sa.select(ms.c.event_key).where(ms.c.event_key.in_(keys))).scalars())
    return [d for d in due if _key(*d[:3]) not in done]


def _key(booking_id, session_id, day: dt.date) -> str:
    return f"reminder:{booking_id}:{session_id}:{day.isoformat()}"


def queue_reminders(engine: Engine, on: dt.date | None = None) -> int:
    """Queue the reminders due today (or `on`); returns how many messages were queued."""
    on = on or today()
    with reading(engine) as conn:
        if not due_reminders(conn, on):
            return 0

    def work(conn: Connection) -> int:
        made = 0
        for booking_id, session_id, day, left in due_reminders(conn, on):
            s = session_facts(conn, session_id)
            ref = conn.execute(sa.select(bk.c.reference).where(bk.c.id == booking_id)).scalar_one()
            change = Change(version=0, occurred_at=None, actor=None, action="booking.reminder",
                            session_id=session_id, other_session_id=None, booking_id=booking_id, details={})
            drafts = _drafts(conn, change, "reminder", "reminder", _subject("Reminder", s, ref), session=s,
                             days_left=left)
            made += queue(conn, _key(booking_id, session_id, day), drafts)
        return made

    return write(engine, work)
