"""What the exports read: the scope, its sessions and the bookings on them.

Times are the sites' local wall-clock times throughout; record timestamps (stored as
naive UTC) are turned into local time for the people who read the files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Engine

from core.models import Session
from core.scope import sessions_in
from core.wording import long_date, state_label


@dataclass(frozen=True)
class ExportScope:
    """Which sessions an export covers: session dates start..end (inclusive), filters.

    Empty or None filters mean all. Cancelled sessions are left out unless asked for.
    """

    start: dt.date
    end: dt.date
    course_types: tuple[str, ...] | None = None
    locations: tuple[str, ...] | None = None
    availability: tuple[str, ...] | None = None
    include_cancelled: bool = False

    def describe(self) -> str:
        """'1 Mar 2025 to 31 Mar 2025; First Aid at Work; Location A' for headers."""
        parts = [f"{long_date(self.start)} to {long_date(self.end)}"]
        parts.append(", ".join(self.course_types) if self.course_types else "all courses")
        parts.append(", ".join(self.locations) if self.locations else "both locations")
        if self.availability:
            parts.append(", ".join(map(state_label, self.availability)))
        if self.include_cancelled:
            parts.append("cancelled sessions included")
        return "; ".join(parts)

    def file_stem(self) -> str:
        return f"sessions_{self.start:%Y-%m-%d}_to_{self.end:%Y-%m-%d}"


def load_sessions(engine: Engine, scope: ExportScope) -> list[Session]:
    """The sessions of the scope, as the calendar shows them (core.availability)."""
    from core.availability import find_sessions

    return find_sessions(
        engine,
        scope.start,
        scope.end,
        course_types=scope.course_types or None,
        locations=scope.locations or None,
        availability=scope.availability or None,
        include_cancelled=scope.include_cancelled,
    )


def load_bookings(engine: Engine, scope: ExportScope) -> list[tuple]:
    """Every booking (any status) on the scope's sessions, one row each (BOOKING_HEADERS),
    with attendee names joined in seat order and the booking time in local time."""
    from core.config import get_settings
    from core.db import reading
    from core.schema import booking_attendees as ba
    from core.schema import bookings as b
    from core.schema import course_sessions as cs

    names = (sa.select(ba.c.booking_id,
                       sa.func.string_agg(ba.c.name, aggregate_order_by(sa.literal_column("'; '"), ba.c.seat_no))
                       .label("names"))
             .group_by(ba.c.booking_id).subquery("a"))
    where = [sessions_in(scope)]
    if not scope.include_cancelled:
        where.append(cs.c.status != "cancelled")
    stmt = (
        sa.select(cs.c.session_date, cs.c.start_time, cs.c.course_type, cs.c.location, b.c.reference, b.c.status,
                  b.c.seats, b.c.contact_name, b.c.contact_email, b.c.contact_phone, b.c.company,
                  names.c.names, sa.func.date_trunc("second", b.c.created_at), b.c.created_by,
                  sa.cast(cs.c.id, sa.String))
        .select_from(b.join(cs, cs.c.id == b.c.session_id).outerjoin(names, names.c.booking_id == b.c.id))
        .where(*where)
        .order_by(cs.c.session_date, cs.c.start_time, cs.c.location, cs.c.course_type, b.c.created_at,
                  b.c.reference)
    )
    with reading(engine) as conn:
        rows = conn.execute(stmt).all()
    to_local = LocalTime(get_settings().timezone)
    return [(*r[:11], r[11] or "", to_local(r[12]), r[13] or "", r[14]) for r in rows]


def utc_to_local(value: dt.datetime | None, tz) -> dt.datetime | None:
    """Record timestamps are naive UTC; staff read them in local time (naive, for Excel)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc).astimezone(tz).replace(tzinfo=None, microsecond=0)


class LocalTime:
    """utc_to_local for many timestamps: the zone's offset is looked up once per UTC day, or
    once per UTC hour on a day when it changes (an hour with a change of offset inside it is
    converted value by value)."""

    def __init__(self, tz):
        self.tz = tz
        self.days: dict[dt.date, dt.timedelta | None] = {}
        self.offsets: dict[dt.datetime, dt.timedelta | None] = {}

    def _offset(self, start: dt.datetime, span: dt.timedelta) -> dt.timedelta | None:
        """The offset over [start, start + span), None if it changes within."""
        last = start + span - dt.timedelta(seconds=1)
        first = utc_to_local(start, self.tz) - start
        return first if utc_to_local(last, self.tz) - last == first else None

    def __call__(self, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        day = value.date()
        offset = self.days.get(day, False)
        if offset is False:
            offset = self.days[day] = self._offset(dt.datetime.combine(day, dt.time()), dt.timedelta(days=1))
        if offset is None:
            hour = value.replace(minute=0, second=0, microsecond=0)
            offset = self.offsets.get(hour, False)
            if offset is False:
                offset = self.offsets[hour] = self._offset(hour, dt.timedelta(hours=1))
            if offset is None:
                return utc_to_local(value, self.tz)
        value = value + offset
        return value.replace(microsecond=0) if value.microsecond else value
