"""Errors the core raises, each with a message a member of staff can act on.

The pages show `str(exc)`; `exc.field` names the form field the error concerns (or None).
"""

from __future__ import annotations

from core.wording import places


class CoreError(Exception):
    """Base of every error the core raises on purpose: what the pages and the command line
    catch (anything else is a bug, and is shown as one)."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class BookingError(CoreError):
    """A request the rules refuse: the input, the session, the booking or the moment."""


class InvalidInput(BookingError):
    def __init__(self, field: str, reason: str):
        super().__init__(reason, field=field)
        self.reason = reason


class SessionNotFound(BookingError):
    field = "session_id"

    def __init__(self, session_id: object):
        super().__init__(
            f"No course session with id {session_id!s:.40}: it may have been deleted, "
            "or the link is wrong. Reload the calendar and pick the session again."
        )
        self.session_id = session_id


class BookingNotFound(BookingError):
    field = "booking_id"

    def __init__(self, booking_id: object):
        super().__init__(
            f"No booking {booking_id!s:.40}. Check the reference (it looks like BK-7F3K2Q)."
        )


class SessionFull(BookingError):
    field = "seats"

    def __init__(self, remaining: int, label: str, wanted: int):
        if remaining <= 0:
            text = f"{label} is full: no places left."
        else:
            text = f"Only {places(remaining)} left on {label}; you asked for {wanted}."
        super().__init__(text)
        self.remaining = remaining
        self.wanted = wanted


class SessionNotBookable(BookingError):
    field = "session_id"

    def __init__(self, label: str, why: str):
        super().__init__(f"{label} cannot be booked: {why}.")
        self.why = why


class DuplicateAttendee(BookingError):
    field = "attendees"

    def __init__(self, email: str, label: str, reference: str | None = None):
        where = f" (booking {reference})" if reference else ""
        super().__init__(f"{email} is already booked on {label}{where}.")
        self.email = email
        self.reference = reference  # the booking they are on: places can be added to it


class BookingNotActive(BookingError):
    field = "booking_id"

    def __init__(self, reference: str, status: str):
        super().__init__(f"Booking {reference} is {status}; only a live booking can be changed.")
        self.status = status


class CapacityBelowBooked(BookingError):
    field = "max_capacity"

    def __init__(self, booked: int, wanted: int, not_fitting: list[str]):
        who = "; ".join(not_fitting)
        super().__init__(
            f"Capacity cannot go below the {booked} places already booked or held (asked for {wanted}). "
            f"Move or cancel these bookings first: {who}."
        )
        self.booked = booked
        self.not_fitting = not_fitting


class HoldNotActive(BookingError):
    field = "hold_id"

    def __init__(self, why: str):
        super().__init__(f"That hold {why}: its places are no longer kept. Check the places left and book again.")
        self.why = why


class NotPermitted(BookingError):
    pass


class Busy(BookingError):
    def __init__(self):
        super().__init__(
            "The system is busy with other bookings right now: nothing was saved. "
            "Please try again in a moment."
        )


class DatabaseUnavailable(CoreError):
    """The database cannot be reached (not a refusal: the same request may work later)."""

    def __init__(self, where: str, why: str):
        super().__init__(f"Cannot reach the database {where} (setting DATABASE_URL): {why}")


class ConfigError(CoreError):
    """A setting (environment, secrets file) is malformed; the message names it."""
