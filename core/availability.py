"""The read side: sessions in a date range with their remaining places."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import validation
from core.catalog import UNKNOWN_COLOUR
from core.config import get_settings, now_local, utc_now
from core.db import reading
from core.errors import InvalidInput, SessionNotFound
from core.models import ALMOST_FULL_AT, AVAILABILITY_STATES, LOCATIONS, Session
from core.schema import course_sessions as cs
from core.schema import course_types as ct
from core.schema import holds as hd
from core.schema import waitlist_entries as wl


def _live_held():
    """Places held by unexpired holds, per session: evaluated now, in the query."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(hd.c.seats), 0))
        .where(hd.c.session_id == cs.c.id, hd.c.status == "active", hd.c.expires_at > sa.bindparam("now_utc"))
        .scalar_subquery()
    )


def _waiting():
    return (
        sa.select(sa.func.count()).where(wl.c.session_id == cs.c.id, wl.c.status == "waiting").scalar_subquery()
    )


_remaining = cs.c.max_capacity - cs.c.current_bookings - _live_held()

SESSION_COLUMNS = (
    cs.c.id, cs.c.course_type,
    sa.func.coalesce(ct.c.short_code, cs.c.course_type).label("short_code"),
    sa.func.coalesce(ct.c.colour, UNKNOWN_COLOUR).label("colour"),
    cs.c.session_date, cs.c.start_time, cs.c.end_time, cs.c.location,
    cs.c.max_capacity, cs.c.current_bookings, cs.c.status, cs.c.instructor_notes,
    _live_held().label("held"), _waiting().label("waiting"),
)


def _select_sessions() -> sa.Select:
    return sa.select(*SESSION_COLUMNS).select_from(cs.outerjoin(ct, ct.c.name == cs.c.course_type))


def to_session(row) -> Session:
    return Session(**{k: getattr(row, k) for k in Session.__dataclass_fields__})


def load_session(conn: Connection, session_id: uuid.UUID) -> Session:
    row = conn.execute(_select_sessions().where(cs.c.id == session_id), {"now_utc": utc_now()}).first()
    if row is None:
        raise SessionNotFound(session_id)
    return to_session(row)


def get_session(engine: Engine, session_id: object) -> Session:
    """One session by id. Raises InvalidInput (malformed id) or SessionNotFound."""
    sid = validation.uuid_of(session_id, "session_id", "session")
    with reading(engine) as conn:
        return load_session(conn, sid)


def _state_clause(state: str):
    if state == "full":
        return _remaining <= 0
    if state == "almost_full":
        return sa.and_(_remaining > 0, _remaining <= ALMOST_FULL_AT)
    return _remaining > ALMOST_FULL_AT


def _choices(value: object, field: str, allowed: Iterable[str] | None = None) -> list[str]:
    """A filter given as one name or several; an empty list means no filter."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(field, f"The {field.replace('_', ' ')} filter must be a list of names.")
    if allowed is not None and (unknown := sorted(set(values) - set(allowed))):
        raise InvalidInput(field, f"Unknown {field.replace('_', ' ')} {unknown[0]!r}; one of {', '.join(allowed)}.")
    return sorted(set(values))


def find_sessions(
    engine: Engine,
    start: dt.date,
    end: dt.date,
    course_types: Iterable[str] | None = None,
    locations: Iterable[str] | None = None,
    availability: Iterable[str] | None = None,
    include_cancelled: bool = False,
) -> list[Session]:
    """Sessions from `start` to `end` (local dates, both included), by date, time, site.

    `availability` keeps only scheduled sessions in those states (available, almost_full,
    full). Completed sessions are listed (history); cancelled ones only when asked for.
    """
    start, end = validation.date(start, "start"), validation.date(end, "end")
    if end < start:
        raise InvalidInput("end", "The end date is before the start date.")
    stmt = _select_sessions().where(cs.c.session_date >= start, cs.c.session_date <= end)
    if course_types := _choices(course_types, "course_type"):
        stmt = stmt.where(cs.c.course_type.in_(course_types))
    if locations := _choices(locations, "location", LOCATIONS):
        stmt = stmt.where(cs.c.location.in_(locations))
    statuses = ["scheduled", "completed"] + (["cancelled"] if include_cancelled else [])
    stmt = stmt.where(cs.c.status.in_(statuses))
    if states := _choices(availability, "availability", AVAILABILITY_STATES):
        stmt = stmt.where(cs.c.status == "scheduled", sa.or_(*(_state_clause(s) for s in sorted(states))))
    stmt = stmt.order_by(cs.c.session_date, cs.c.start_time, cs.c.location, cs.c.course_type, cs.c.id)
    with reading(engine) as conn:
        return [to_session(r) for r in conn.execute(stmt, {"now_utc": utc_now()})]


def sessions_at(conn: Connection, location: str, first: dt.date, last: dt.date) -> list[Session]:
    """The sessions (not cancelled) at a site from `first` to `last`, in the caller's transaction."""
    stmt = _select_sessions().where(cs.c.location == location, cs.c.session_date >= first,
                                    cs.c.session_date <= last, cs.c.status != "cancelled")
    return [to_session(r) for r in conn.execute(stmt.order_by(cs.c.session_date, cs.c.start_time),
                                                {"now_utc": utc_now()})]


def alternatives(engine: Engine, session_id: object, seats: int = 1, limit: int = 5, window_days: int = 90) -> list[Session]:
    """Other sessions of the same course with room for `seats`, at either site, nearest first."""
    sid = validation.uuid_of(session_id, "session_id", "session")
    seats = validation.whole_number(seats, "seats", "Places", 1, get_settings().capacity_limit)
    limit = validation.whole_number(limit, "limit", "Number of alternatives", 1, 100)
    window_days = validation.whole_number(window_days, "window_days", "Days either side", 0, 3660)
    now = now_local()
    with reading(engine) as conn:
        origin = load_session(conn, sid)
        rows = conn.execute(
            _select_sessions().where(
                cs.c.course_type == origin.course_type,
                cs.c.id != sid,
                cs.c.status == "scheduled",
                _remaining >= seats,
                cs.c.session_date >= max(now.date(), origin.session_date - dt.timedelta(days=window_days)),
                cs.c.session_date <= origin.session_date + dt.timedelta(days=window_days),
            ),
            {"now_utc": utc_now()},
        ).all()
    found = [to_session(r) for r in rows if dt.datetime.combine(r.session_date, r.start_time) > now]
    found.sort(key=lambda s: (abs((s.session_date - origin.session_date).days), s.session_date, s.start_time))
    return found[:limit]
