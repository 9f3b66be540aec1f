"""What a schedule change would do, before it is done: read-only.

Lowering a session's capacity or cancelling it affects people. These previews name them
(the bookings, each with the nearest other sessions of the same course that have room for
its whole group), plus the live holds and the waiting list the change would touch, so the
screen can show them and ask for a confirmation. Nothing here writes; the change itself is
`core.sessions.set_capacity` / `cancel_session`, which check everything again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core import validation
from core.availability import alternatives, get_session
from core.booking import list_bookings
from core.config import get_settings
from core.holds import list_holds
from core.models import Booking, Hold, Session, WaitlistEntry
from core.sessions import newest_not_fitting
from core.waitlist import list_waitlist


@dataclass(frozen=True)
class Affected:
    """A booking the change would leave without a place, and where it could go instead."""

    booking: Booking
    alternatives: tuple[Session, ...]   # nearest first, each with room for booking.seats


@dataclass(frozen=True)
class Preview:
    session: Session
    affected: tuple[Affected, ...]      # bookings that would lose their places
    holds: tuple[Hold, ...]             # live holds in the way (capacity) or ended (cancel)
    waiting: tuple[WaitlistEntry, ...]  # the waiting list: taken off it when cancelling
    blocked_by_holds: int = 0           # places held that keep the new capacity from fitting

    @property
    def places_affected(self) -> int:
        return sum(a.booking.seats for a in self.affected)


def _affected(engine: Engine, bookings: list[Booking], limit: int) -> tuple[Affected, ...]:
    return tuple(Affected(b, tuple(alternatives(engine, b.session_id, seats=b.seats, limit=limit)))
                 for b in bookings)


def preview_capacity(engine: Engine, session_id: object, new_capacity: object, *, limit: int = 5) -> Preview:
    """Who would not fit if the session had `new_capacity` places.

    The newest bookings are the ones that would have to move (the order `set_capacity`
    names them in), enough of them to bring the booked places down to the new capacity.
    Raising the capacity, or lowering it to no fewer than the places taken, affects nobody.
    Raises InvalidInput (capacity out of range, malformed id), SessionNotFound.
    """
    new = validation.whole_number(new_capacity, "max_capacity", "Capacity", 1, get_settings().capacity_limit)
    session = get_session(engine, session_id)
    live_holds = tuple(list_holds(engine, session.id))
    confirmed = [b for b in list_bookings(engine, session.id) if b.status == "confirmed"]
    over = session.current_bookings - new
    moving: list[Booking] = newest_not_fitting(confirmed, over)
    held = sum(h.seats for h in live_holds)
    blocked = max(min(held, session.current_bookings + held - new), 0)
    return Preview(session=session, affected=_affected(engine, moving, limit),
                   holds=live_holds if blocked else (), waiting=tuple(list_waitlist(engine, session.id)),
                   blocked_by_holds=blocked)


def preview_cancel(engine: Engine, session_id: object, *, limit: int = 5) -> Preview:
    """Everyone a cancellation would affect: every confirmed booking (each with its
    alternatives), the live holds it would end and the waiting list it would close.

    Raises InvalidInput (malformed id), SessionNotFound.
    """
    session = get_session(engine, session_id)
    confirmed = [b for b in list_bookings(engine, session.id) if b.status == "confirmed"]
    return Preview(session=session, affected=_affected(engine, confirmed, limit),
                   holds=tuple(list_holds(engine, session.id)), waiting=tuple(list_waitlist(engine, session.id)))
