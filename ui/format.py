"""How the screens write times, places and sessions: pure text, no widgets, so every
screen words the same thing the same way."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from core.config import get_settings
from core.models import Booking, CourseType, Hold, Session
from core.wording import hours, places, short_day  # noqa: F401  (places: the screens import it from here too)
from ui.events import places_text, times_text
from ui.text import as_text


def cancelled_text(b: Booking) -> str:
    """'Booking BK-7F3K2Q cancelled; 2 places went to Jo Bloggs from the waiting list.' (plain
    text: show it with as_text)."""
    if not b.promoted:
        return f"Booking {b.reference} cancelled; its {places(b.seats)} are free again."
    given = [f"{places(p.seats)} {'went ' if n == 0 else ''}to {p.name}" for n, p in enumerate(b.promoted)]
    went = ", ".join(given[:-1]) + (" and " if len(given) > 1 else "") + given[-1]
    free = b.seats - sum(p.seats for p in b.promoted)
    rest = f"; {places(free)} {'is' if free == 1 else 'are'} free again" if free > 0 else ""
    return f"Booking {b.reference} cancelled; {went} from the waiting list{rest}."


def local_time(naive_utc: dt.datetime) -> str:
    """'14:05' at the sites, for a naive UTC time from the core."""
    return f"{naive_utc.replace(tzinfo=dt.timezone.utc).astimezone(get_settings().timezone):%H:%M}"


def time_left(hold: Hold, now_utc: dt.datetime) -> str:
    """'7 min left' (rounded up), '40 s left' in the last minute."""
    seconds = hold.seconds_left(now_utc)
    return f"{seconds} s left" if seconds < 60 else f"{math.ceil(seconds / 60)} min left"


def hold_length_text() -> str:
    """How long a hold lasts: '10 min', '30 s'."""
    minutes = get_settings().hold_minutes
    return f"{round(minutes * 60)} s" if minutes < 1 else f"{minutes:g} min"


def day_text(d: dt.date) -> str:
    """'Tue 3 Dec 2025'."""
    return short_day(d, year=True)


def session_line(s: Session, *, shown=as_text) -> str:
    """'First Aid at Work, Tue 3 Dec, Location A, 09:00–16:30 (5 left)', the course name shown
    by `shown` (as_text for markdown labels, isolated for plain-text options)."""
    return f"{shown_label(s, shown=shown)}, {times_text(s)} ({places_text(s)})"


def shown_label(s: Session, *, shown=as_text) -> str:
    """Session.label ('First Aid at Work, Tue 3 Dec, Location A') with its course name shown by `shown`."""
    return shown(s.course_type) + s.label.removeprefix(s.course_type)


def session_label(s: Session) -> str:
    """The schedule's pick list: 'Tue 3 Dec 2025 · 09:00-16:00 · FAW · Location A · 4 of 12 booked'."""
    return (f"{day_text(s.session_date)} · {hours(s.start_time, s.end_time)} · {s.short_code} · {s.location} · "
            f"{s.current_bookings} of {s.max_capacity} booked")


def course_label(types: Sequence[CourseType]):
    """format_func for a course pick list: 'First Aid at Work (FAW)'."""
    codes = {t.name: t.short_code for t in types}
    return lambda name: f"{name} ({codes.get(name, name)})"
