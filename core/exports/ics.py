"""The calendar feed (.ics): one VEVENT per session, RFC 5545, read back with icalendar and
ical.js in the tests.

Times are the sites' local wall-clock times with TZID and the matching VTIMEZONE, never
converted through UTC.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.models import Session
from core.wording import hours, places, state_label

UID_DOMAIN = "availability-calendar"
# SEQUENCE counts seconds from here to the event's LAST-MODIFIED: it grows with every change
# a client can see, also one made by no write (a hold running out, the session starting).
_SEQUENCE_EPOCH = dt.datetime(2024, 1, 1)


def event_summary(s: Session) -> str:
    if s.state == "cancelled":
        return f"CANCELLED: {s.course_type}"
    if s.state in ("running", "over", "completed"):  # started: never places left
        return f"{s.course_type} ({'running' if s.state == 'running' else 'over'})"
    if s.remaining == 0:
        return f"{s.course_type} - FULL"
    return f"{s.course_type} - {places(s.remaining)} left"


def load_modified(engine: Engine, sessions: Sequence[Session]) -> dict[uuid.UUID, dt.datetime]:
    """When each session's event last changed (naive UTC, whole seconds): the last write to
    the session, the last of its holds to run out, its start and its end, whichever is latest
    and has happened."""
    from core.config import get_settings, utc_now
    from core.db import reading
    from core.schema import course_sessions as cs
    from core.schema import holds as hd

    if not sessions:
        return {}
    now, tz = utc_now(), get_settings().timezone
    expired = (sa.select(sa.func.max(hd.c.expires_at))
               .where(hd.c.session_id == cs.c.id, hd.c.expires_at <= sa.bindparam("now")).scalar_subquery())
    first, last = min(s.session_date for s in sessions), max(s.session_date for s in sessions)
    stmt = sa.select(cs.c.id, cs.c.updated_at, expired).where(cs.c.session_date.between(first, last))
    with reading(engine) as conn:
        written = {r[0]: max(r[1], r[2] or r[1]) for r in conn.execute(stmt, {"now": now})}
    out = {}
    for s in sessions:
        moments = [written.get(s.id, _SEQUENCE_EPOCH)]
        for local in (s.starts_at, s.ends_at):
            at = local.replace(tzinfo=tz).astimezone(dt.timezone.utc).replace(tzinfo=None)
            if at <= now:
                moments.append(at)
        out[s.id] = max(moments).replace(microsecond=0)
    return out


def sessions_ics(
    sessions: Sequence[Session], *, tz=None, stamp: dt.datetime | None = None,
    calendar_name: str = "Course availability", modified: dict[uuid.UUID, dt.datetime] | None = None,
    span: tuple[dt.date, dt.date] | None = None,
) -> bytes:
    """An RFC 5545 calendar: VTIMEZONE for the sites' zone, one VEVENT per session.

    DTSTART/DTEND are the local wall-clock times with TZID (no UTC round trip); the
    VTIMEZONE is written by core.vtimezone as every client reads it (a yearly RRULE, else
    one RDATE per line), right for `span` (default: the sessions' dates). UIDs are stable per
    session, so importing a newer file updates events instead of doubling them; with
    `modified` (load_modified) each event says when it last changed (LAST-MODIFIED) and a
    SEQUENCE that grows with it, so clients replace an old title.
    """
    from icalendar import Calendar, Event

    from core.config import get_settings, today, utc_now
    from core.vtimezone import vtimezone

    tz = tz or get_settings().timezone
    stamp = stamp or utc_now().replace(microsecond=0, tzinfo=dt.timezone.utc)
    cal = Calendar()
    cal.add("prodid", "-//First aid training//Course availability//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    cal.add("x-wr-timezone", tz.key)
    if span is None:
        days = [s.session_date for s in sessions] or [today()]
        span = (min(days), max(days))
    cal.add_component(vtimezone(tz, *span))
    for s in sessions:
        ev = Event()
        ev.add("uid", f"{s.id}@{UID_DOMAIN}")
        ev.add("dtstamp", stamp)
        if modified and s.id in modified:
            changed = modified[s.id]
            ev.add("last-modified", changed.replace(tzinfo=dt.timezone.utc))
            ev.add("sequence", max(int((changed - _SEQUENCE_EPOCH).total_seconds()), 0))
        ev.add("dtstart", dt.datetime.combine(s.session_date, s.start_time, tzinfo=tz))
        ev.add("dtend", dt.datetime.combine(s.session_date, s.end_time, tzinfo=tz))
        ev.add("summary", event_summary(s))
        ev.add("location", s.location)
        ev.add("description", (
            f"{s.course_type} at {s.location}, {hours(s.start_time, s.end_time)}.\n"
            f"Places left: {s.remaining} of {s.max_capacity} ({s.current_bookings} booked).\n"
            f"Status: {state_label(s.state)}."
        ))
        ev.add("categories", [s.course_type])
        ev.add("status", "CANCELLED" if s.status == "cancelled" else "CONFIRMED")
        ev.add("transp", "TRANSPARENT")
        ev.add("x-places-left", str(s.remaining))
        cal.add_component(ev)
    return cal.to_ical()
