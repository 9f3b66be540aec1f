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


def short_day(day: dt.date) -> str:
    """'Tue 3 Dec'."""
    return f"{day:%a} {day.day} {day:%b}"


def hours(start: dt.time, end: dt.time) -> str:
    """'09:00-16:30'."""
    return f"{start:%H:%M}-{end:%H:%M}"
