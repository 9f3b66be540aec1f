"""Adding places to a booking: an office that booked one person books colleagues onto the
same session under the same reference, instead of a second booking for the same contact.

One transaction: the places are taken by `core.places` (the guarded UPDATE: capacity,
status, not started), the booking's seats and its new attendees are written, and a
`booking.places_added` event records it. The session's row lock is taken first, so two
additions to one booking (or a double click sending the same request twice) come one
after the other, and the second reads what the first did.
"""

from __future__ import annotations

import dataclasses
import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import places, validation
from core.access import Actor, require
from core.booking import _active_booking, _booking_where, _check_not_booked_yet, _load_booking
from core.changes import record
from core.config import get_settings
from core.db import Retry, write
from core.errors import BookingNotActive, InvalidInput
from core.models import Booking
from core.schema import booking_attendees as ba
from core.schema import bookings as bk
from core.schema import changes as ch

ADDED = "booking.places_added"


def add_places(engine: Engine, booking_id: object, seats: int, *, attendees: list | None = None,
               idempotency_key: str | None = None, actor: Actor | None = None) -> Booking:
    """Add `seats` places (the whole number or none) to a confirmed booking, by id or BK-
    reference, with the attendees' names when given; return the booking as it is now.

    The same `idempotency_key` again on this booking returns it without adding again
    (`replayed` True); the same key with another number of places is refused.
    Raises BookingNotFound, BookingNotActive, InvalidInput, SessionFull (with `remaining`),
    SessionNotBookable, DuplicateAttendee, Busy.
    """
    who = require(actor, "staff", "add places to bookings")
    _booking_where(booking_id)  # a malformed id fails before any write
    seats = validation.whole_number(seats, "seats", "Places", 1, get_settings().capacity_limit)
    people = validation.attendees(attendees, seats, "", "") if attendees else []
    key = validation.key(idempotency_key)

    def work(conn: Connection) -> Booking:
        seen = _active_booking(conn, booking_id)
        places.lock(conn, seen.session_id)
        booking = _active_booking(conn, seen.id)  # read again under the lock
        if booking.session_id != seen.session_id:
            raise Retry()  # moved meanwhile: lock its new session
        if key and (first := _earlier(conn, booking, key, seats)):
            return first
        if booking.status != "confirmed":
            raise BookingNotActive(booking.reference, booking.status)
        places.take(conn, booking.session_id, seats)
        _check_not_booked_yet(conn, booking.session_id, people)  # on any booking, this one too
        conn.execute(sa.update(bk).where(bk.c.id == booking.id).values(seats=bk.c.seats + seats))
        first_seat = conn.execute(sa.select(sa.func.coalesce(sa.func.max(ba.c.seat_no), 0))
                                  .where(ba.c.booking_id == booking.id)).scalar_one() + 1
        if people:
            conn.execute(ba.insert(), [
                dict(booking_id=booking.id, seat_no=n, session_id=booking.session_id, name=p.name, email=p.email,
                     active_email=p.email)
                for n, p in enumerate(people, start=first_seat)
            ])
        now = _load_booking(conn, bk.c.id == booking.id)
        record(conn, ADDED, actor=who, session_id=booking.session_id, booking_id=booking.id,
               details=places.booking_details(now, added=seats, was_seats=booking.seats, request_key=key))
        return now

    return write(engine, work)


def _earlier(conn: Connection, booking: Booking, key: str, seats: int) -> Booking | None:
    """The booking, as a replay, when this key already added places to it; refused when the
    key added another number of places. Read under the session's lock."""
    rows = conn.execute(sa.select(ch.c.details).where(
        ch.c.session_id == booking.session_id, ch.c.booking_id == booking.id, ch.c.action == ADDED)).scalars()
    for raw in rows:
        details = json.loads(raw) if isinstance(raw, str) else raw
        if details.get("request_key") != key:
            continue
        if details.get("added") != seats:
            raise InvalidInput("idempotency_key", f"This request's key already added {details.get('added')} "
                                                  f"places to booking {booking.reference}: nothing was added.")
        return dataclasses.replace(booking, replayed=True)
    return None
