"""The read side: sessions in a date range with their remaining places.

A session that has started is `running` (until its end) or `over`, whatever its status
says (an admin marks sessions completed only now and then): from then on it has no places
left in any feed, export or page. The rule is here once: `phase` for sessions read, and
`_upcoming()` for queries that filter by availability.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import validation
from core.catalog import UNKNOWN_COLOUR
from core.config import get_settings, local_from_utc, now_local, utc_now
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


def phase(session_date: dt.date, start: dt.time, end: dt.time, now: dt.datetime) -> str:
    """`upcoming` before the start, `running` until the end, then `over` (local wall-clock
    times, `now` naive local as from core.config.now_local)."""
    if dt.datetime.combine(session_date, start) > now:
        return "upcoming"
    return "running" if dt.datetime.combine(session_date, end) > now else "over"


def _upcoming(day=None, time=None):
    """SQL: the session starts after `day` `time` (local), by default the bound `now_date` /
    `now_time` of the query. The one statement of "not started yet"."""
    day = sa.bindparam("now_date") if day is None else day
    time = sa.bindparam("now_time") if time is None else time
    return sa.or_(cs.c.session_date > day, sa.and_(cs.c.session_date == day, cs.c.start_time > time))


def upcoming_at(now: dt.datetime):
    """SQL: the session starts after `now` (local wall-clock time): it can still be booked."""
    return _upcoming(sa.literal(now.date(), sa.Date), sa.literal(now.time().replace(microsecond=0), sa.Time))


def _now_params() -> tuple[dict, dt.datetime]:
    """The query parameters of one instant, and that instant as local wall-clock time."""
    now_utc = utc_now()
    local = local_from_utc(now_utc)
    return {"now_utc": now_utc, "now_date": local.date(), "now_time": local.time()}, local


def to_session(row, now: dt.datetime | None = None) -> Session:
    """A session of a row of SESSION_COLUMNS, in its phase at `now` (local; default: now)."""
    fields = {k: getattr(row, k) for k in Session.__dataclass_fields__ if k != "phase"}
    at = now_local() if now is None else now
    return Session(**fields, phase=phase(row.session_date, row.start_time, row.end_time, at))


def load_session(conn: Connection, session_id: uuid.UUID) -> Session:
    params, now = _now_params()
    row = conn.execute(_select_sessions().where(cs.c.id == session_id), params).first()
    if row is None:
        raise SessionNotFound(session_id)
    return to_session(row, now)


def get_session(engine: Engine, session_id: object) -> Session:
    """One session by id. Raises InvalidInput (malformed id) or SessionNotFound."""
    sid = validation.uuid_of(session_id, "session_id", "session")
    with reading(engine) as conn:
        return load_session(conn, sid)


def _state_clause(state: str):
    """SQL for one availability state: only sessions that have not started have one."""
    if state == "full":
        return sa.and_(_upcoming(), _remaining <= 0)
    if state == "almost_full":
        return sa.and_(_upcoming(), _remaining > 0, _remaining <= ALMOST_FULL_AT)
    return sa.and_(_upcoming(), _remaining > ALMOST_FULL_AT)


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
    full): never one that has started. Completed sessions are listed (history); cancelled
    ones only when asked for. Each comes in its phase at the time of the query.
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
    params, now = _now_params()
    with reading(engine) as conn:
        return [to_session(r, now) for r in conn.execute(stmt, params)]


def sessions_at(conn: Connection, location: str, first: dt.date, last: dt.date) -> list[Session]:
    """The sessions (not cancelled) at a site from `first` to `last`, in the caller's transaction."""
    stmt = _select_sessions().where(cs.c.location == location, cs.c.session_date >= first,
                                    cs.c.session_date <= last, cs.c.status != "cancelled")
    params, now = _now_params()
    return [to_session(r, now) for r in conn.execute(stmt.order_by(cs.c.session_date, cs.c.start_time), params)]


def alternatives(engine: Engine, session_id: object, seats: int = 1, limit: int = 5, window_days: int = 90) -> list[Session]:
    """Other sessions of the same course with room for `seats`, at either site, nearest first."""
    sid = validation.uuid_of(session_id, "session_id", "session")
    seats = validation.whole_number(seats, "seats", "Places", 1, get_settings().capacity_limit)
    limit = validation.whole_number(limit, "limit", "Number of alternatives", 1, 100)
    window_days = validation.whole_number(window_days, "window_days", "Days either side", 0, 3660)
    params, now = _now_params()
    with reading(engine) as conn:
        origin = load_session(conn, sid)
        rows = conn.execute(
            _select_sessions().where(
                cs.c.course_type == origin.course_type,
                cs.c.id != sid,
                cs.c.status == "scheduled",
                _upcoming(),
                _remaining >= seats,
                cs.c.session_date >= origin.session_date - dt.timedelta(days=window_days),
                cs.c.session_date <= origin.session_date + dt.timedelta(days=window_days),
            ),
            params,
        ).all()
    found = [to_session(r, now) for r in rows]
    found.sort(key=lambda s: (abs((s.session_date - origin.session_date).days), s.session_date, s.start_time))
    return found[:limit]


def move_targets(engine: Engine, session_id: object, seats: int = 1, limit: int = 10) -> list[Session]:
    """Where a booking on `session_id` can move: other sessions of the course with room for
    `seats`, those at the same site first, each site's by date (the nearest are chosen)."""
    origin = get_session(engine, session_id)
    found = alternatives(engine, origin.id, seats, limit=100)
    other_site = lambda s: s.location != origin.location  # noqa: E731
    chosen = sorted(found, key=lambda s: (other_site(s), abs((s.session_date - origin.session_date).days)))[:limit]
    return sorted(chosen, key=lambda s: (other_site(s), s.session_date, s.start_time))
