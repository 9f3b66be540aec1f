"""What a person typed, to the thing it names: a site ('A', 'location b', 'Location A'), a
course (its name or short code, any case) or a date (YYYY-MM-DD, or DD/MM/YYYY as people in
the UK write it). One rule for the command line, the import file, the feed and the links."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from core.models import LOCATIONS, CourseType

LOCATION_HINT = f"use {' or '.join(LOCATIONS)} (or A / B)"
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _site_key(text: str) -> str:
    return text.strip().casefold().removeprefix("location").strip()


def location_named(text: str) -> str | None:
    """'A', 'a', 'Location A' or 'location a' -> 'Location A'; None when no site has that name."""
    key = _site_key(text)
    return next((loc for loc in LOCATIONS if _site_key(loc) == key), None)


def course_named(types: Sequence[CourseType], text: str) -> str | None:
    """A course's name or short code, any case -> the course's name; None when unknown."""
    key = text.strip().casefold()
    return next((t.name for t in types if key in (t.name.casefold(), t.short_code.casefold())), None)


def known_courses(types: Sequence[CourseType]) -> str:
    """'EFAW (Emergency First Aid at Work), FAW (First Aid at Work)' for a message."""
    return ", ".join(f"{t.short_code} ({t.name})" for t in types)


def uk_date(text: str) -> dt.date:
    """'2025-03-31' or '31/03/2025' (also '31/3/2025') -> a date; ValueError otherwise."""
    text = text.strip()
    if m := _UK_DATE.fullmatch(text):
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return dt.date.fromisoformat(text)
