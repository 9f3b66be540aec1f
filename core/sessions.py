"""The schedule: create, edit, change capacity, cancel and complete course sessions."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import booking, places, validation, wording
from core.availability import get_session, load_session, sessions_at  # noqa: F401  (get_session is public here too)
from core.access import Actor, require
from core.catalog import known_names
from core.changes import record
from core.config import get_settings, today, utc_now
from core.db import write
from core.errors import BookingError, CapacityBelowBooked, InvalidInput, SessionNotFound
from core.models import Booking, Session
from core.schema import bookings as bk
from core.schema import course_sessions as cs

EDITABLE = ("course_type", "session_date", "start_time", "end_time", "location", "instructor_notes")


def _clean_spec(spec: dict, course_names: set[str]) -> dict:
    """Validate one session's fields (core.validation.session); raise InvalidInput naming the field."""
    return validation.session(spec, limit=get_settings().capacity_limit, course_names=course_names)


def create_sessions(engine: Engine, specs: list[dict], *, actor: Actor | None = None,
                    on_clash: str = "allow") -> list[Session]:
    """Create several sessions in one transaction: all of them, or none.

    Each spec has course_type, session_date, start_time, end_time, location and optionally
    max_capacity and instructor_notes. `on_clash` says what to do with a session that
    overlaps another at the same site, checked in the same transaction (two admins
    creating at once cannot both miss each other): "allow" (the site has the rooms),
    "refuse" (raise InvalidInput naming the clash) or "skip" (create the others).
    Raises InvalidInput (naming the row when several).
    """
    who = require(actor, "admin", "change the schedule")
    if not specs:
        raise InvalidInput("sessions", "There is nothing to create.")
    if on_clash not in ("refuse", "skip", "allow"):
        raise InvalidInput("on_clash", "on_clash is one of refuse, skip, allow.")

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
        if on_clash != "allow":
            rows = _without_clashes(conn, rows, refuse=on_clash == "refuse")
        now = utc_now()
        for row in rows:
            row.update(id=uuid.uuid4(), current_bookings=0, status="scheduled", created_at=now, updated_at=now)
        conn.execute(cs.insert(), rows)
        for row in rows:
            record(conn, "session.created", actor=who, session_id=row["id"],
                   details={**_jsonable(row), **({"of_series": len(rows)} if len(rows) > 1 else {})})
        return [load_session(conn, r["id"]) for r in rows]

    return write(engine, work)


def overlaps(a_start: dt.time, a_end: dt.time, b_start: dt.time, b_end: dt.time) -> bool:
    """True when two time ranges on the same day share any minute (touching ends do not)."""
    return a_start < b_end and b_start < a_end


def clashes_in(conn: Connection, location: str, slots) -> dict[tuple[dt.date, dt.time, dt.time], tuple[Session, ...]]:
    """Existing (not cancelled) sessions at `location` overlapping each (date, start, end),
    in the caller's transaction; slots without a clash are left out."""
    slots = list(slots)
    if not slots:
        return {}
    by_date: dict[dt.date, list[Session]] = {}
    for s in sessions_at(conn, location, min(s[0] for s in slots), max(s[0] for s in slots)):
        by_date.setdefault(s.session_date, []).append(s)
    found = {}
    for slot in slots:
        day, start, end = slot
        hits = tuple(s for s in by_date.get(day, ()) if overlaps(start, end, s.start_time, s.end_time))
        if hits:
            found[slot] = hits
    return found


def _without_clashes(conn: Connection, rows: list[dict], *, refuse: bool) -> list[dict]:
    """The rows that overlap no session at their site (and no earlier row); with `refuse`,
    the first clash raises InvalidInput instead. Each site and day is locked first
    (PostgreSQL), so a concurrent creation at the same place waits for this one."""
    if conn.dialect.name == "postgresql":
        for site, day in sorted({(r["location"], r["session_date"]) for r in rows}):
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"session-slot {site} {day}"))))
    kept: list[dict] = []
    for row in rows:
        slot = (row["session_date"], row["start_time"], row["end_time"])
        found = list(clashes_in(conn, row["location"], [slot]).get(slot, ()))
        found += [k for k in kept if (k["location"], k["session_date"]) == (row["location"], row["session_date"])
                  and overlaps(row["start_time"], row["end_time"], k["start_time"], k["end_time"])]
        if not found:
            kept.append(row)
        elif refuse:
            other = found[0]
            what = (f"{other.course_type} {other.start_time:%H:%M}-{other.end_time:%H:%M}" if isinstance(other, Session)
                    else f"{other['course_type']} {other['start_time']:%H:%M}-{other['end_time']:%H:%M}")
            raise InvalidInput("start_time", f"{row['session_date']:%a %d %b %Y} {row['start_time']:%H:%M}-"
                                             f"{row['end_time']:%H:%M} overlaps {what} at {row['location']}. "
                                             "Change the time or site, or allow the overlap if the site has room "
                                             "for both: nothing was created.")
    if not kept:
        raise InvalidInput("start_time", "Every session overlaps one already at its site: nothing to create.")
    return kept


def create_session(engine: Engine, *, actor: Actor | None = None, on_clash: str = "allow", **spec) -> Session:
    """Create one scheduled session. See `create_sessions` for the fields and `on_clash`."""
    return create_sessions(engine, [spec], actor=actor, on_clash=on_clash)[0]


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


def newest_not_fitting(bookings, overflow: int) -> list:
    """The rule for who must go when places are `overflow` too many: the newest confirmed
    bookings (by when they were made, then reference), enough of them to cover `overflow`.
    Takes anything with created_at, reference and seats; used by set_capacity and its preview."""
    chosen, covered = [], 0
    for b in sorted(bookings, key=lambda b: (b.created_at, b.reference), reverse=True):
        if covered >= overflow:
            break
        chosen.append(b)
        covered += b.seats
    return chosen


def _not_fitting(conn: Connection, session_id: uuid.UUID, overflow: int) -> list[str]:
    """'REF Name (2 places)' for each booking newest_not_fitting names."""
    rows = conn.execute(
        sa.select(bk.c.reference, bk.c.contact_name, bk.c.seats, bk.c.created_at)
        .where(bk.c.session_id == session_id, bk.c.status == "confirmed")
    ).all()
    return [f"{r.reference} {r.contact_name} ({wording.places(r.seats)})" for r in newest_not_fitting(rows, overflow)]


@dataclass(frozen=True)
class ScheduleChange:
    """What an admin change did, for the page to show as one outcome."""

    session: Session
    moved: tuple[Booking, ...] = ()      # bookings now on the session chosen for them
    to_rebook: tuple[Booking, ...] = ()  # bookings of a cancelled session left to rebook


def _moves(moves) -> list[tuple[object, uuid.UUID]]:
    """(booking id or reference, target session id) pairs, from a mapping or pairs."""
    pairs = list(moves.items()) if hasattr(moves, "items") else list(moves or ())
    out = []
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InvalidInput("moves", "Each move is a booking and the session to move it to.")
        out.append((pair[0], validation.uuid_of(pair[1], "moves", "session")))
    return out


def _apply_moves(conn: Connection, session_id: uuid.UUID, chosen, who: str, *,
                 promote_source: bool) -> list[Booking]:
    """Move each chosen booking of the session; the first that cannot go stops everything
    (the caller's transaction is rolled back) with a message naming it."""
    moved = []
    for ref, target in chosen:
        found = booking.active_booking(conn, ref)
        if found.session_id != session_id:
            raise InvalidInput("moves", f"{found.reference} is not a booking of this session: nothing was changed.")
        try:
            moved.append(booking.move_in(conn, found, target, who, promote_source=promote_source))
        except BookingError as exc:
            raise InvalidInput("moves", f"{found.reference} {found.contact_name} could not be moved to "
                                        f"{load_session(conn, target).label}: {exc} Nothing was changed.") from exc
    return moved


def set_capacity(engine: Engine, session_id: object, capacity: object, *, actor: Actor | None = None,
                 moves=()) -> Session:
    """Set the number of places; never below the places booked and held.

    `moves` (booking -> session) first moves chosen bookings elsewhere to make room, in the
    same transaction: all of it happens, or nothing. Raises InvalidInput, SessionNotFound,
    CapacityBelowBooked (naming who would not fit).
    """
    return set_capacity_with_moves(engine, session_id, capacity, moves, actor=actor).session


def set_capacity_with_moves(engine: Engine, session_id: object, capacity: object, moves=(), *,
                            actor: Actor | None = None) -> ScheduleChange:
    """`set_capacity` that also says which bookings were moved."""
    who = require(actor, "admin", "change the schedule")
    sid = validation.uuid_of(session_id, "session_id", "session")
    new = validation.whole_number(capacity, "max_capacity", "Capacity", 1, get_settings().capacity_limit)
    chosen = _moves(moves)

    def work(conn: Connection) -> ScheduleChange:
        places.lock_all(conn, [sid, *(t for _, t in chosen)])
        before = load_session(conn, sid)
        moved = _apply_moves(conn, sid, chosen, who, promote_source=False)
        if not places.resize(conn, sid, new):
            now = load_session(conn, sid)
            raise CapacityBelowBooked(now.current_bookings + now.held, new,
                                      _not_fitting(conn, sid, now.current_bookings + now.held - new))
        record(conn, "session.capacity", actor=who, session_id=sid,
               details={"before": before.max_capacity, "after": new,
                        "moved": [b.reference for b in moved]})
        places.promote_waiting(conn, sid)
        return ScheduleChange(load_session(conn, sid), tuple(moved))

    return write(engine, work)


def cancel_session(engine: Engine, session_id: object, *, actor: Actor | None = None,
                   reason: str | None = None) -> list[Booking]:
    """Cancel a scheduled session. Its bookings are kept, marked `rebook`, and returned.

    Raises SessionNotFound, InvalidInput (already cancelled or completed).
    """
    return list(cancel_session_with_moves(engine, session_id, actor=actor, reason=reason).to_rebook)


def cancel_session_with_moves(engine: Engine, session_id: object, moves=(), *, actor: Actor | None = None,
                              reason: str | None = None) -> ScheduleChange:
    """Cancel a session and move the bookings chosen for it to their new sessions, in one
    transaction: if one of them cannot be moved, nothing is cancelled and nothing moved.
    The bookings not moved are kept, marked `rebook`."""
    who = require(actor, "admin", "change the schedule")
    sid = validation.uuid_of(session_id, "session_id", "session")
    why = validation.text(reason, "reason", "Reason", required=False, max_len=500)
    chosen = _moves(moves)

    def work(conn: Connection) -> ScheduleChange:
        places.lock_all(conn, [sid, *(t for _, t in chosen)])
        session = load_session(conn, sid)
        if session.status != "scheduled":
            raise InvalidInput("session_id", f"{session.label} is already {session.status}; nothing was changed.")
        record(conn, "session.cancelled", actor=who, session_id=sid,
               details={"reason": why, "places": session.current_bookings, **places.close(conn, sid)})
        moved = _apply_moves(conn, sid, chosen, who, promote_source=False)
        left = conn.execute(sa.select(bk.c.id).where(bk.c.session_id == sid, bk.c.status == "rebook")
                            .order_by(bk.c.created_at, bk.c.reference)).scalars().all()
        return ScheduleChange(load_session(conn, sid), tuple(moved),
                              tuple(booking.active_booking(conn, i) for i in left))

    return write(engine, work)


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
        for sid in ids:
            record(conn, "session.completed", actor=who, session_id=sid, details={"of": len(ids)})
        return len(ids)

    return write(engine, work)


__all__ = [
    "create_session", "create_sessions", "get_session", "update_session", "set_capacity",
    "cancel_session", "cancel_session_with_moves", "set_capacity_with_moves", "ScheduleChange",
    "complete_past_sessions", "SessionNotFound",
]
