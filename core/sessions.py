"""The schedule: create, edit, change capacity, cancel and complete course sessions."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import validation
from core.availability import get_session, load_session  # noqa: F401  (get_session is public here too)
from core.access import Actor, require
from core.booking import promote_waiting, reap_expired_holds
from core.catalog import known_names
from core.changes import record
from core.config import get_settings, today, utc_now
from core.db import write
from core.errors import CapacityBelowBooked, InvalidInput, SessionNotFound
from core.models import Booking, Session
from core.schema import booking_attendees as ba
from core.schema import bookings as bk
from core.schema import course_sessions as cs
from core.schema import holds as hd
from core.schema import waitlist_entries as wl

EDITABLE = ("course_type", "session_date", "start_time", "end_time", "location", "instructor_notes")


def _clean_spec(spec: dict, course_names: set[str]) -> dict:
    """Validate one session's fields; raise InvalidInput naming the field."""
    course = validation.text(spec.get("course_type"), "course_type", "Course type", required=True, max_len=100)
    if course not in course_names:
        raise InvalidInput("course_type", f"{course!r} is not a course type; known: {', '.join(sorted(course_names))}.")
    start, end = validation.times(spec.get("start_time"), spec.get("end_time"))
    limit = get_settings().capacity_limit
    return dict(
        course_type=course,
        session_date=validation.date(spec.get("session_date")),
        start_time=start,
        end_time=end,
        location=validation.location(spec.get("location")),
        max_capacity=validation.whole_number(spec.get("max_capacity", limit), "max_capacity", "Capacity", 1, limit),
        instructor_notes=validation.text(spec.get("instructor_notes"), "instructor_notes", "Instructor notes",
                                         required=False, max_len=2000),
    )


def create_sessions(engine: Engine, specs: list[dict], *, actor: Actor | None = None) -> list[Session]:
    """Create several sessions in one transaction: all of them, or none.

    Each spec has course_type, session_date, start_time, end_time, location and optionally
    max_capacity and instructor_notes. Raises InvalidInput (naming the row when several).
    """
    who = require(actor, "admin", "change the schedule")
    if not specs:
        raise InvalidInput("sessions", "There is nothing to create.")

    def work(conn: Connection) -> list[Session]:
        names = known_names(conn)
        rows = []
        for n, spec in enumerate(specs, start=1):
            try:
                rows.append(_clean_spec(spec, names))
            except InvalidInput as exc:
                if len(specs) == 1:
                    raise
                raise InvalidInput(exc.field, f"Session {n}: {exc.reason}") from None
        now = utc_now()
        for row in rows:
            row.update(id=uuid.uuid4(), current_bookings=0, status="scheduled", created_at=now, updated_at=now)
        conn.execute(cs.insert(), rows)
        ids = [r["id"] for r in rows]
        if len(rows) == 1:
            record(conn, "session.created", actor=who, session_id=ids[0], details=_jsonable(rows[0]))
        else:
            record(conn, "sessions.created", actor=who, details={"count": len(ids), "session_ids": [str(i) for i in ids]})
        return [load_session(conn, i) for i in ids]

    return write(engine, work)


def create_session(engine: Engine, *, actor: Actor | None = None, **spec) -> Session:
    """Create one scheduled session. See `create_sessions` for the fields."""
    return create_sessions(engine, [spec], actor=actor)[0]


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, (dt.date, dt.time)) else v) for k, v in values.items()
            if k in EDITABLE + ("max_capacity",)}


def update_session(engine: Engine, session_id: object, *, actor: Actor | None = None, **changes) -> Session:
    """Change a session's course, date, times, location or notes; records before and after."""
    who = require(actor, "admin", "change the schedule")
    sid = validation.uuid_of(session_id, "session_id", "session")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], f"{sorted(unknown)[0]} cannot be edited here.")

    def work(conn: Connection) -> Session:
        before = load_session(conn, sid)
        merged = {k: getattr(before, k) for k in EDITABLE} | changes
        clean = _clean_spec(merged | {"max_capacity": before.max_capacity}, known_names(conn))
        clean.pop("max_capacity")
        diff = {k: v for k, v in clean.items() if getattr(before, k) != v}
        if not diff:
            return before
        conn.execute(sa.update(cs).where(cs.c.id == sid).values(**diff, updated_at=utc_now()))
        record(conn, "session.updated", actor=who, session_id=sid, details={
            "before": _jsonable({k: getattr(before, k) for k in diff}), "after": _jsonable(diff)})
        return load_session(conn, sid)

    return write(engine, work)


def _not_fitting(conn: Connection, session_id: uuid.UUID, overflow: int) -> list[str]:
    """The newest bookings whose places would no longer fit, enough to cover `overflow`."""
    rows = conn.execute(
        sa.select(bk.c.reference, bk.c.contact_name, bk.c.seats)
        .where(bk.c.session_id == session_id, bk.c.status == "confirmed")
        .order_by(bk.c.created_at.desc(), bk.c.reference.desc())
    ).all()
    names, covered = [], 0
    for r in rows:
        if covered >= overflow:
            break
        names.append(f"{r.reference} {r.contact_name} ({r.seats} place{'s' if r.seats != 1 else ''})")
        covered += r.seats
    return names


def set_capacity(engine: Engine, session_id: object, capacity: object, *, actor: Actor | None = None) -> Session:
    """Set the number of places; never below the places already booked.

    Raises InvalidInput, SessionNotFound, CapacityBelowBooked (naming who would not fit).
    """
    who = require(actor, "admin", "change the schedule")
    sid = validation.uuid_of(session_id, "session_id", "session")
    new = validation.whole_number(capacity, "max_capacity", "Capacity", 1, get_settings().capacity_limit)

    def fits(conn: Connection) -> bool:
        return conn.execute(
            sa.update(cs).where(cs.c.id == sid, cs.c.current_bookings + cs.c.held_places <= new)
            .values(max_capacity=new, updated_at=utc_now())
        ).rowcount == 1

    def work(conn: Connection) -> Session:
        before = load_session(conn, sid)
        if not fits(conn) and not (reap_expired_holds(conn, sid) and fits(conn)):
            now = load_session(conn, sid)
            raise CapacityBelowBooked(now.current_bookings + now.held, new,
                                      _not_fitting(conn, sid, now.current_bookings + now.held - new))
        promoted = promote_waiting(conn, sid, actor=who) if new > before.max_capacity else []
        record(conn, "session.capacity", actor=who, session_id=sid,
               details={"before": before.max_capacity, "after": new, "promoted": promoted})
        return load_session(conn, sid)

    return write(engine, work)


def cancel_session(engine: Engine, session_id: object, *, actor: Actor | None = None,
                   reason: str | None = None) -> list[Booking]:
    """Cancel a scheduled session. Its bookings are kept, marked `rebook`, and returned.

    Raises SessionNotFound, SessionNotBookable (already cancelled or completed).
    """
    from core.booking import list_bookings

    who = require(actor, "admin", "change the schedule")
    sid = validation.uuid_of(session_id, "session_id", "session")
    why = validation.text(reason, "reason", "Reason", required=False, max_len=500)

    def work(conn: Connection) -> None:
        session = load_session(conn, sid)
        cancelled = conn.execute(
            sa.update(cs).where(cs.c.id == sid, cs.c.status == "scheduled")
            .values(status="cancelled", current_bookings=0, held_places=0, updated_at=utc_now())
        ).rowcount
        if cancelled != 1:
            raise InvalidInput("session_id", f"{session.label} is already {session.status}; nothing was changed.")
        moved = conn.execute(
            sa.update(bk).where(bk.c.session_id == sid, bk.c.status == "confirmed").values(status="rebook")
        ).rowcount
        conn.execute(sa.update(ba).where(ba.c.session_id == sid).values(active_email=None))
        conn.execute(sa.update(hd).where(hd.c.session_id == sid, hd.c.status == "active")
                     .values(status="released", ended_at=utc_now()))
        conn.execute(sa.update(wl).where(wl.c.session_id == sid, wl.c.status == "waiting")
                     .values(status="withdrawn", ended_at=utc_now()))
        record(conn, "session.cancelled", actor=who, session_id=sid,
               details={"reason": why, "bookings_to_rebook": moved, "places": session.current_bookings})

    write(engine, work)
    return [b for b in list_bookings(engine, sid) if b.status == "rebook"]


def complete_past_sessions(engine: Engine, *, actor: Actor | None = None, before: dt.date | None = None) -> int:
    """Mark scheduled sessions before `before` (default today) completed; return how many."""
    who = require(actor, "admin", "change the schedule")
    cutoff = validation.date(before or today(), "before")

    def work(conn: Connection) -> int:
        ids = list(conn.execute(
            sa.select(cs.c.id).where(cs.c.status == "scheduled", cs.c.session_date < cutoff)
        ).scalars())
        if not ids:
            return 0
        conn.execute(sa.update(cs).where(cs.c.id.in_(ids)).values(status="completed", updated_at=utc_now()))
        record(conn, "sessions.completed", actor=who, details={"count": len(ids), "session_ids": [str(i) for i in ids]})
        return len(ids)

    return write(engine, work)


__all__ = [
    "create_session", "create_sessions", "get_session", "update_session", "set_capacity",
    "cancel_session", "complete_past_sessions", "SessionNotFound",
]
