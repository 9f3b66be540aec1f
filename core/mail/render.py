"""Messages from templates: HTML (every value escaped) and plain text, en-GB dates.

The templates (`templates/NAME.html`, `templates/NAME.txt`) get plain values; Jinja2's
autoescape is on for .html, so a name like `<script>` shows as those characters. Subjects
and display names go through `header_text`: no CR/LF or other control character can reach
a header, and they are cut to a length every mail client shows.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).with_name("templates")
HEADER_MAX = 200
_CONTROLS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def header_text(value: object, limit: int = HEADER_MAX) -> str:
    """`value` safe for a header: control characters (CR, LF, ...) become one space, cut to `limit`."""
    text = _CONTROLS.sub(" ", str(value or "")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def long_date(day: dt.date) -> str:
    """en-GB: 'Tuesday 3 December 2026'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(day: dt.date) -> str:
    """en-GB: 'Tue 3 Dec 2026' (subjects)."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def clock_time(value: dt.time) -> str:
    return f"{value:%H:%M}"


def places(n: int) -> str:
    return f"{n} place" if n == 1 else f"{n} places"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(long_date=long_date, short_date=short_date, clock=clock_time, places=places)
    return env


def render(template: str, /, **context) -> tuple[str, str]:
    """(plain text, HTML) of `template` with `context`."""
    env = environment()
    return env.get_template(f"{template}.txt").render(**context), env.get_template(f"{template}.html").render(**context)
