"""How the product says things, in one place: counts of places, session states, dates and
a session's name. Pure functions of values; no Streamlit, no database."""

from __future__ import annotations

import datetime as dt

STATE_LABELS = {
    "available": "Available",
    "almost_full": "Almost full",
    "full": "Full",
    "cancelled": "Cancelled",
    "completed": "Completed",
    "running": "Running (started)",
    "over": "Over",
}


def plural(n: int, one: str, many: str | None = None) -> str:
    """The word for `n` of them: 'session' for 1, 'sessions' otherwise (`many` when not one + 's')."""
    return one if n == 1 else (many or one + "s")


def count(n: int, one: str, many: str | None = None) -> str:
    """'1 session', '3 sessions', '1,200 sessions'."""
    return f"{n:,} {plural(n, one, many)}"


def places(n: int) -> str:
    """'1 place', '0 places', '12 places'."""
    return f"{n} {plural(n, 'place')}"


def state_label(state: str) -> str:
    """'Almost full' for `almost_full`; an unknown state as it is."""
    return STATE_LABELS.get(state, state)


def long_date(day: dt.date) -> str:
    """'1 Mar 2025'."""
    return f"{day.day} {day:%b %Y}"


def full_date(day: dt.date) -> str:
    """'Saturday 1 March 2025'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_day(day: dt.date, *, year: bool = False) -> str:
    """'Tue 3 Dec' ('Tue 3 Dec 2025' with the year)."""
    return f"{day:%a} {day.day} {day:%b}" + (f" {day:%Y}" if year else "")


def session_label(course_type: str, day: dt.date, location: str, *, start: dt.time | None = None,
                  year: bool = False) -> str:
    """How staff name a session: 'First Aid at Work, Tue 3 Dec, Location A' (with `start` and
    `year`: 'First Aid at Work, Tue 3 Dec 2025 09:00, Location A')."""
    when = short_day(day, year=year) + (f" {start:%H:%M}" if start else "")
    return f"{course_type}, {when}, {location}"


def hours(start: dt.time, end: dt.time) -> str:
    """'09:00-16:30'."""
    return f"{start:%H:%M}-{end:%H:%M}"
