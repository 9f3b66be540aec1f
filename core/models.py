"""Plain value objects returned by the core. Immutable, no database handles inside."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from core.wording import session_label

LOCATIONS: tuple[str, ...] = ("Location A", "Location B")
AVAILABILITY_STATES: tuple[str, ...] = ("available", "almost_full", "full")
PHASES: tuple[str, ...] = ("upcoming", "running", "over")  # set by core.availability from the clock
ALMOST_FULL_AT = 3  # this many places left or fewer (but not none) is "almost full"


def availability_state(remaining: int) -> str:
    """`full` with no place left, `almost_full` with 1 to 3, else `available`."""
    if remaining <= 0:
        return "full"
    if remaining <= ALMOST_FULL_AT:
        return "almost_full"
    return "available"


@dataclass(frozen=True)
class CourseType:
    name: str
    short_code: str
    colour: str
    sort_order: int = 0


@dataclass(frozen=True)
class Session:
    """One scheduled course session with its live availability."""

    id: uuid.UUID
    course_type: str
    short_code: str
    colour: str
    session_date: dt.date
    start_time: dt.time
    end_time: dt.time
    location: str
    max_capacity: int
    current_bookings: int
    status: str
    instructor_notes: str | None = None
    held: int = 0      # places held right now by unexpired holds
    waiting: int = 0   # people on the waiting list
    phase: str = "upcoming"  # upcoming / running / over, when read (core.availability.phase)

    @property
    def remaining(self) -> int:
        """Places that can be booked now: capacity less bookings and live holds; none once
        the session has started, whatever its status."""
        if self.phase != "upcoming":
            return 0
        return max(self.max_capacity - self.current_bookings - self.held, 0)

    @property
    def state(self) -> str:
        """available / almost_full / full while upcoming and scheduled; `running` or `over`
        once started (an admin marking it completed or not); `cancelled`; `completed` for a
        session marked completed before its time."""
        if self.status == "cancelled":
            return "cancelled"
        if self.phase != "upcoming":
            return self.phase
        if self.status != "scheduled":
            return self.status
        return availability_state(self.remaining)

    @property
    def starts_at(self) -> dt.datetime:
        """Local wall-clock start (naive, in the sites' time zone)."""
        return dt.datetime.combine(self.session_date, self.start_time)

    @property
    def ends_at(self) -> dt.datetime:
        return dt.datetime.combine(self.session_date, self.end_time)

    @property
    def label(self) -> str:
        """How staff name a session: 'First Aid at Work, Tue 3 Dec, Location A'."""
        return session_label(self.course_type, self.session_date, self.location)


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str | None = None


@dataclass(frozen=True)
class Promotion:
    """A waiting-list entry booked because places freed up: who, how many, which booking."""

    reference: str
    name: str
    seats: int


@dataclass(frozen=True)
class Booking:
    id: uuid.UUID
    reference: str
    session_id: uuid.UUID
    seats: int
    status: str
    contact_name: str
    contact_email: str
    contact_phone: str | None
    company: str | None
    created_at: dt.datetime
    created_by: str | None
    cancelled_at: dt.datetime | None = None
    idempotency_key: str | None = None
    attendees: tuple[Attendee, ...] = field(default_factory=tuple)
    replayed: bool = False  # True when this answers a request already booked under its key
    # Who the places this write freed went to (a cancellation or move: the waiting list).
    promoted: tuple[Promotion, ...] = ()


# The fields of a Booking read from its bookings row.
BOOKING_ROW_FIELDS = tuple(k for k in Booking.__dataclass_fields__ if k not in ("attendees", "replayed", "promoted"))


@dataclass(frozen=True)
class Change:
    """One row of the change feed (also the audit trail)."""

    version: int
    occurred_at: dt.datetime
    actor: str | None
    action: str
    session_id: uuid.UUID | None
    other_session_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    details: dict


@dataclass(frozen=True)
class Hold:
    """Places kept for a caller while staff take their details; they expire by themselves."""

    id: uuid.UUID
    session_id: uuid.UUID
    seats: int
    held_by: str
    note: str | None
    status: str
    created_at: dt.datetime   # naive UTC
    expires_at: dt.datetime   # naive UTC

    def seconds_left(self, now_utc: dt.datetime) -> int:
        return max(int((self.expires_at - now_utc).total_seconds()), 0)


@dataclass(frozen=True)
class WaitlistEntry:
    id: uuid.UUID
    session_id: uuid.UUID
    position: int            # 1 = next in line (0 once promoted or withdrawn)
    name: str
    email: str
    phone: str | None
    company: str | None
    seats: int
    status: str              # waiting / promoted / withdrawn
    created_at: dt.datetime
    booking_id: uuid.UUID | None = None
