"""The .ics attached to a booking's e-mails: the session, in the sites' time zone.

Built like the calendar feed (`core.exports.sessions_ics`): icalendar, and the VTIMEZONE
of `core.vtimezone` that every client reads the same way. The summary is the course (not
the feed's "N places left"), and the UID is the booking's: a moved booking's new file
replaces the event of the old one (a higher SEQUENCE), a cancellation cancels it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from core.config import get_settings
from core.exports import UID_DOMAIN
from core.vtimezone import vtimezone


def booking_ics(*, booking_id: uuid.UUID, reference: str, course: str, day: dt.date, start: dt.time,
                end: dt.time, location: str, address: str, sequence: int, stamp: dt.datetime,
                cancelled: bool = False) -> str:
    """One VEVENT for the booking's session; `stamp` is naive UTC, `sequence` grows per change."""
    tz = get_settings().timezone
    cal = Calendar()
    cal.add("prodid", "-//First aid training//Course bookings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    cal.add_component(_zone(tz, day))
    ev = Event()
    ev.add("uid", f"booking-{booking_id}@{UID_DOMAIN}")
    ev.add("dtstamp", stamp.replace(microsecond=0, tzinfo=dt.timezone.utc))
    ev.add("sequence", sequence)
    ev.add("dtstart", dt.datetime.combine(day, start, tzinfo=tz))
    ev.add("dtend", dt.datetime.combine(day, end, tzinfo=tz))
    ev.add("summary", f"{'CANCELLED: ' if cancelled else ''}{course} ({reference})")
    ev.add("location", ", ".join(p for p in (location, " ".join(address.split())) if p))
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(ev)
    return cal.to_ical().decode("utf-8")


@lru_cache(maxsize=512)
def _zone(tz: ZoneInfo, day: dt.date):
    """The VTIMEZONE for one day's session: ~20 ms to work out from the zone's rules
    (measured), the same for every booking of the day; only ever serialised, never changed."""
    return vtimezone(tz, day, day)
