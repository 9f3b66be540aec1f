"""The audit trail: the change feed read as "who did what, when, to which session or
booking", filtered, newest first, and as a CSV file.

Every write adds one change row in its own transaction (core/changes.py), so this is
complete by construction: nothing is written without its row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.config import get_settings
from core.db import reading
from core.exports.rows import neutralise
from core.schema import bookings, changes, course_sessions
from core.wording import session_label

MAX_ROWS = 5000

ACTION_LABELS = {
    "booking.created": "Booked",
    "booking.cancelled": "Booking cancelled",
    "booking.moved": "Booking moved",
    "booking.places_added": "Places added to booking",
    "session.created": "Session created",
    "sessions.created": "Sessions created",
    "session.updated": "Session edited",
    "session.capacity": "Capacity changed",
    "session.cancelled": "Session cancelled",
    "sessions.completed": "Sessions completed",
    "session.completed": "Session completed",
    "course_type.saved": "Course type saved",
    "hold.placed": "Places held",
    "hold.released": "Hold released",
    "hold.expired": "Hold expired",
    "hold.converted": "Hold booked",
    "waitlist.joined": "Joined waiting list",
    "waitlist.withdrawn": "Left waiting list",
    "waitlist.promoted": "Promoted from waiting list",
    "demo.seeded": "Demo data added",
    "attendance.marked": "Register marked",
    "certificate.issued": "Certificate issued",
    "certificate.withdrawn": "Certificate withdrawn",
    "course_type.certificate_validity": "Certificate validity changed",
    "person.merged": "People merged",
    "requalification.due": "Requalification reminder due",
}


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None                 # part of the actor's name, any case
    actions: tuple[str, ...] = ()            # empty: every action
    date_from: dt.date | None = None         # local dates at the sites, inclusive
    date_to: dt.date | None = None
    session_id: uuid.UUID | str | None = None
    booking: str | None = None               # a booking reference (BK-...) or id


@dataclass(frozen=True)
class AuditEntry:
    version: int
    at: dt.datetime                  # local wall-clock time at the sites
    actor: str
    action: str
    what: str                        # ACTION_LABELS, or the action itself
    session_id: uuid.UUID | None
    session: str                     # "First Aid at Work, Tue 3 Dec 2026, Location A" or ""
    other_session: str
    booking_id: uuid.UUID | None
    booking: str                     # the booking's reference or ""
    before: dict | None
    after: dict | None
    details: dict

    @property
    def changes_text(self) -> str:
        """'max_capacity: 12 -> 8; instructor_notes: None -> "Bring a mask"' for edits."""
        if isinstance(self.before, dict) and isinstance(self.after, dict):
            keys = list(dict.fromkeys([*self.before, *self.after]))
            return "; ".join(f"{k}: {_short(self.before.get(k))} -> {_short(self.after.get(k))}" for k in keys)
        if self.before is not None or self.after is not None:
            return f"{_short(self.before)} -> {_short(self.after)}"
        return ""

    @property
    def details_text(self) -> str:
        rest = {k: v for k, v in self.details.items() if k not in ("before", "after")}
        return json.dumps(rest, ensure_ascii=False, default=str, sort_keys=True) if rest else ""


def _short(value: object, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _utc_bounds(f: AuditFilter, tz) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local dates to naive-UTC instants (occurred_at is stored as naive UTC)."""
    def utc(day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time()).replace(tzinfo=tz)
        return local.astimezone(dt.timezone.utc).replace(tzinfo=None)

    low = utc(f.date_from) if f.date_from else None
    high = utc(f.date_to + dt.timedelta(days=1)) if f.date_to else None
    return low, high


def _uuid(value: object) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        return None


def _label(row) -> str:
    if row is None:
        return ""
    return session_label(row.course_type, row.session_date, row.location, start=row.start_time, year=True)


def audit_entries(engine: Engine, f: AuditFilter | None = None, *, limit: int = 1000) -> list[AuditEntry]:
    """Newest first, at most `limit` (and MAX_ROWS) entries matching the filter."""
    f = f or AuditFilter()
    tz = get_settings().timezone
    stmt = sa.select(changes).order_by(changes.c.version.desc()).limit(max(1, min(limit, MAX_ROWS)))
    if f.actor and f.actor.strip():
        pattern = "%" + f.actor.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.func.lower(changes.c.actor).like(pattern, escape="\\"))
    if f.actions:
        stmt = stmt.where(changes.c.action.in_(list(f.actions)))
    low, high = _utc_bounds(f, tz)
    if low is not None:
        stmt = stmt.where(changes.c.occurred_at >= low)
    if high is not None:
        stmt = stmt.where(changes.c.occurred_at < high)
    with reading(engine) as conn:
        if f.session_id is not None:
            sid = _uuid(f.session_id)
            if sid is None:
                return []
            stmt = stmt.where(sa.or_(changes.c.session_id == sid, changes.c.other_session_id == sid,
                                     changes.c.details.contains(str(sid), autoescape=True)))
        if f.booking and f.booking.strip():
            bid = _uuid(f.booking) or conn.execute(
                sa.select(bookings.c.id).where(sa.func.upper(bookings.c.reference) == f.booking.strip().upper())
            ).scalar_one_or_none()
            if bid is None:
                return []
            stmt = stmt.where(changes.c.booking_id == bid)
        rows = conn.execute(stmt).all()
        session_ids = {i for r in rows for i in (r.session_id, r.other_session_id) if i is not None}
        booking_ids = {r.booking_id for r in rows if r.booking_id is not None}
        sessions = {}
        if session_ids:
            sessions = {s.id: s for s in conn.execute(
                sa.select(course_sessions.c.id, course_sessions.c.course_type, course_sessions.c.session_date,
                          course_sessions.c.start_time, course_sessions.c.location)
                .where(course_sessions.c.id.in_(list(session_ids))))}
        refs = {}
        if booking_ids:
            refs = dict(conn.execute(sa.select(bookings.c.id, bookings.c.reference)
                                     .where(bookings.c.id.in_(list(booking_ids)))).all())
    out = []
    for r in rows:
        try:
            details = json.loads(r.details or "{}")
        except ValueError:
            details = {"raw": r.details}
        if not isinstance(details, dict):
            details = {"value": details}
        at = r.occurred_at.replace(tzinfo=dt.timezone.utc).astimezone(tz).replace(tzinfo=None, microsecond=0)
        out.append(AuditEntry(
            version=r.version, at=at, actor=r.actor or "", action=r.action,
            what=ACTION_LABELS.get(r.action, r.action), session_id=r.session_id,
            session=_label(sessions.get(r.session_id)), other_session=_label(sessions.get(r.other_session_id)),
            booking_id=r.booking_id, booking=refs.get(r.booking_id, "") if r.booking_id else "",
            before=details.get("before"), after=details.get("after"), details=details,
        ))
    return out


def audit_actors(engine: Engine) -> list[str]:
    """Everyone who has changed something, for the filter's choices."""
    with reading(engine) as conn:
        return sorted(a for a in conn.execute(sa.select(changes.c.actor).distinct()).scalars() if a)


def audit_actions(engine: Engine) -> list[str]:
    with reading(engine) as conn:
        found = set(conn.execute(sa.select(changes.c.action).distinct()).scalars())
    return [a for a in ACTION_LABELS if a in found] + sorted(found - set(ACTION_LABELS))


CSV_HEADERS = ("When", "Who", "What", "Action", "Session", "Other session", "Booking", "Changes", "Details",
               "Session id", "Booking id", "Version")


def audit_rows(entries: Sequence[AuditEntry]) -> list[tuple]:
    return [(e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.what, e.action, e.session, e.other_session,
             e.booking, e.changes_text, e.details_text, str(e.session_id or ""), str(e.booking_id or ""), e.version)
            for e in entries]


def audit_csv(entries: Sequence[AuditEntry]) -> bytes:
    """UTF-8 with a byte-order mark, CRLF; a formula-looking text starts with an apostrophe."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for row in audit_rows(entries):
        writer.writerow([neutralise(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")
