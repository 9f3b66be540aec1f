"""What the routes of server.py serve to programs nobody here wrote: FullCalendar's JSON
events, the iCalendar subscription, sessions files for scheduled jobs; with their caching
validators (ETag, If-None-Match) and the origins allowed to read them from a browser (CORS).

No HTTP framework here: each function takes the query parameters as a mapping and returns
data; server.py turns that into responses. Errors are `FeedError` (a 400 with its message).

Times in the JSON feed carry their UTC offset (`2026-07-01T09:00:00+01:00`): the instant is
unambiguous whatever the reader's time zone. FullCalendar's `timeZone` parameter asks for
another zone (`UTC` gives `...Z`); without it the sites' zone is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Engine

from core import catalog, exports
from core.availability import find_sessions
from core.config import get_settings, today
from core.lookup import course_named, location_named
from core.models import LOCATIONS, Session

MAX_RANGE_DAYS = 366
ICS_PAST_DAYS = 30
ICS_FUTURE_DAYS = 365
# Bump when the layout of the .ics changes, so that cached copies are fetched again.
ICS_LAYOUT = 2


class FeedError(Exception):
    """A request the feed cannot answer; the message says how to ask (a 400)."""


# --- parameters ------------------------------------------------------------------------------

# In a query string a raw '+' decodes as a space: '2026-03-29T00:00:00 01:00' meant +01:00.
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def _date_time(name: str, raw: str | None) -> tuple[dt.date, dt.time | None]:
    """The date as written (never via UTC) and the time of day if one was given."""
    if not raw:
        raise FeedError(f"{name} is required, e.g. {name}=2026-03-01.")
    text = _SPACED_OFFSET.sub(r"\1+\2", raw.strip())
    try:
        if len(text) > 10 and text[10] in "T ":
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return when.date(), when.time()
        return dt.date.fromisoformat(text), None
    except ValueError:
        raise FeedError(f"{name} {raw!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-01.") from None


def date_range(params: Mapping[str, str]) -> tuple[dt.date, dt.date]:
    """(first, last) local dates, both included, from either pair of parameters:

    startDate / endDate   both dates included (`endDate=2026-03-31` lists the 31st)
    start / end           FullCalendar's: `end` excluded (`end=2026-04-01` or
                          `end=2026-04-01T00:00:00+01:00` stops after 31 March)
    """
    if "startDate" in params or "endDate" in params or "start" not in params:
        first, _ = _date_time("startDate", params.get("startDate"))
        last, _ = _date_time("endDate", params.get("endDate"))
        end_name = "endDate"
    else:
        first, _ = _date_time("start", params.get("start"))
        end, at = _date_time("end", params.get("end"))
        last = end if at not in (None, dt.time(0)) else end - dt.timedelta(days=1)
        last, end_name = max(last, first), "end"
    if last < first:
        raise FeedError(f"{end_name} is before {'startDate' if end_name == 'endDate' else 'start'}.")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise FeedError(f"Ask for at most {MAX_RANGE_DAYS} days at a time.")
    return first, last


def locations(raw: str | None) -> tuple[str, ...] | None:
    if not raw:
        return None
    found = []
    for part in raw.split(","):
        if (loc := location_named(part)) is None:
            raise FeedError(f"location {part.strip()!r} is not a site; use one of {', '.join(LOCATIONS)} (or A, B).")
        found.append(loc)
    return tuple(dict.fromkeys(found))


def course_types(engine: Engine, raw: str | None) -> tuple[str, ...] | None:
    if not raw:
        return None
    types = catalog.list_course_types(engine)
    found = []
    for part in raw.split(","):
        if (name := course_named(types, part)) is None:
            known = ", ".join(f"{t.name} ({t.short_code})" for t in types)
            raise FeedError(f"courseType {part.strip()!r} is not a course; known: {known}.")
        found.append(name)
    return tuple(dict.fromkeys(found))


def _output_zone(raw: str | None) -> dt.tzinfo:
    """FullCalendar's `timeZone`: absent or `local` means the sites' zone."""
    if not raw or raw == "local":
        return get_settings().timezone
    if raw.upper() == "UTC":
        return dt.timezone.utc
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise FeedError(f"timeZone {raw!r} is not a time zone; use e.g. Europe/London or UTC.") from None


# --- /api/calendar/availability ---------------------------------------------------------------


def _instant(day: dt.date, at: dt.time, out: dt.tzinfo) -> str:
    when = dt.datetime.combine(day, at, tzinfo=get_settings().timezone).astimezone(out)
    text = when.isoformat()
    return text[:-6] + "Z" if out is dt.timezone.utc else text


def event(s: Session, out: dt.tzinfo) -> dict:
    """One bookable session in the seed's shape, which FullCalendar reads as an event."""
    percent = round(100 * s.current_bookings / s.max_capacity) if s.max_capacity else 100
    return {
        "id": str(s.id),
        "title": s.course_type,
        "date": s.session_date.isoformat(),
        "start": _instant(s.session_date, s.start_time, out),
        "end": _instant(s.session_date, s.end_time, out),
        "location": s.location,
        "availableSpots": s.remaining,
        "maxCapacity": s.max_capacity,
        "color": s.colour,
        "extendedProps": {
            "courseType": s.course_type, "shortCode": s.short_code, "location": s.location,
            "currentBookings": s.current_bookings, "availableSpots": s.remaining,
            "maxCapacity": s.max_capacity, "percentFull": percent, "state": s.state,
        },
    }


def availability_events(engine: Engine, params: Mapping[str, str]) -> list[dict]:
    """Sessions of the range that can still be booked (not started, places left)."""
    first, last = date_range(params)
    out = _output_zone(params.get("timeZone"))
    sessions = find_sessions(engine, first, last, course_types=course_types(engine, params.get("courseType")),
                             locations=locations(params.get("location")), availability=("available", "almost_full"))
    return [event(s, out) for s in sessions]


# --- /calendar.ics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IcsFeed:
    etag: str
    render: Callable[[], bytes]  # the body; called only when the caller's copy is stale


def ics_feed(engine: Engine, params: Mapping[str, str]) -> IcsFeed:
    """The subscription feed: 30 days back, a year ahead, cancelled sessions included.

    The ETag is a hash of everything the body is made from: the sessions as read now (places
    booked and held by live holds, phase, status), their LAST-MODIFIED, the window and the
    zone. A hold running out or a session starting changes it with no write at all. Only
    DTSTAMP (when the file was made) is left out, as it changes on every request.
    """
    scope = exports.ExportScope(today() - dt.timedelta(days=ICS_PAST_DAYS), today() + dt.timedelta(days=ICS_FUTURE_DAYS),
                                course_types=course_types(engine, params.get("courseType")),
                                locations=locations(params.get("location")), include_cancelled=True)
    sessions = exports.load_sessions(engine, scope)
    modified = exports.load_modified(engine, sessions)
    zone = get_settings().timezone
    digest = hashlib.sha256(repr((ICS_LAYOUT, zone.key, scope, sessions, sorted(modified.items()))).encode())
    return IcsFeed(f'"{digest.hexdigest()[:24]}"', lambda: exports.sessions_ics(
        sessions, modified=modified, span=(scope.start, scope.end)))


# --- /api/export ---------------------------------------------------------------------------------


def export_file(engine: Engine, params: Mapping[str, str]) -> exports.ExportFile:
    """The sessions file of `format` (csv, xlsx, ics) for `from`..`to` (both included) and the
    filters: the page's export for scheduled jobs, while the app owns the database."""
    fmt = (params.get("format") or "").lower()
    if fmt not in exports.FORMATS:
        raise FeedError(f"format must be one of {', '.join(exports.FORMATS)}, e.g. format=xlsx.")
    first, last = date_range({"startDate": params.get("from", ""), "endDate": params.get("to", "")})
    cancelled = (params.get("includeCancelled") or "").lower() in ("1", "true", "yes")
    scope = exports.ExportScope(first, last, course_types(engine, params.get("courseType")),
                                locations(params.get("location")), include_cancelled=cancelled)
    return exports.export_sessions(engine, scope, fmt)


# --- caching and origins ---------------------------------------------------------------------


_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: `*`, or any tag of the list equal to ours by weak comparison
    (`W/"x"` matches `"x"`; proxies such as nginx weaken the tag when they compress)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == ours for tag in _ENTITY_TAG.findall(if_none_match))


def origin_allowed(origin: str | None) -> bool:
    """Whether a page of `origin` may read the feeds (FEED_ALLOWED_ORIGINS; none by default)."""
    if not origin:
        return False
    listed = get_settings().feed_allowed_origins
    return "*" in listed or origin.rstrip("/").lower() in listed
