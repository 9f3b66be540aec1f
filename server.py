"""The app with its extra routes: `streamlit run server.py` (Streamlit 1.67 `st.App`).

  /push                 WebSocket: the change version on connect, every new one after
                        (at most one per ~200 ms, the latest), a heartbeat when quiet
  /healthz              database reachable?, change version, open push links (for the LB)
  /api/calendar/availability?startDate=&endDate=&courseType=&location=
                        bookable sessions as FullCalendar events (JSON)
  /calendar.ics         a subscription feed for Outlook / Google Calendar

`streamlit run Home.py` still serves the same pages without these routes; pages then
poll (see ui/push.py). When sign-in is configured ([auth] or [users] in the secrets) or a
FEED_TOKEN is set, the JSON and ICS routes want that token: `?token=...`, or the header
`Authorization: Bearer ...`, or `X-Feed-Token`; otherwise 401. The WebSocket accepts only
pages of this site (Origin = Host) or origins listed in PUSH_ALLOWED_ORIGINS.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
from urllib.parse import urlsplit

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from core import catalog, exports, notify
from core.availability import find_sessions
from core.changes import latest_version
from core.config import today
from core.db import check_connection, get_engine
from core.errors import BookingError, DatabaseUnavailable
from core.models import LOCATIONS, Session
from ui.auth import parse_config
from ui.push import PUSH_PATH, url_path

MAX_RANGE_DAYS = 366
ICS_PAST_DAYS = 30
ICS_FUTURE_DAYS = 365


class BadRequest(Exception):
    pass


# --- the push link ------------------------------------------------------------------------


def _origin_allowed(ws: WebSocket) -> bool:
    """Only pages served by this site (or listed origins) may open a push link."""
    origin = (ws.headers.get("origin") or "").rstrip("/")
    if not origin:
        return False
    listed = {o.strip().rstrip("/") for o in os.environ.get("PUSH_ALLOWED_ORIGINS", "").split(",") if o.strip()}
    if origin in listed:
        return True
    return urlsplit(origin).netloc.lower() == (ws.headers.get("host") or "").lower()


async def push(ws: WebSocket) -> None:
    hub = notify.current()
    if not _origin_allowed(ws) or hub is None:
        await ws.close(code=1008)  # before accept: the browser gets a 403
        return
    await ws.accept()

    async def send_versions() -> None:
        async with contextlib.aclosing(notify.follow(hub)) as updates:
            async for kind, version in updates:
                await ws.send_text(json.dumps({"type": kind, "version": version}))

    async def until_closed() -> None:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass  # the page sends nothing; anything it does send is ignored

    tasks = [asyncio.create_task(send_versions()), asyncio.create_task(until_closed())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- health -------------------------------------------------------------------------------


async def healthz(request: Request) -> JSONResponse:
    engine = get_engine()
    hub = notify.current()
    body = {"database": "ok", "version": None, "push_links": hub.subscriber_count if hub else 0,
            "listener": hub.state if hub else "off"}
    try:
        body["version"] = await run_in_threadpool(latest_version, engine)
    except DatabaseUnavailable as exc:
        body["database"] = f"unreachable: {exc}"
        return JSONResponse({"status": "unavailable", **body}, status_code=503)
    return JSONResponse({"status": "ok", **body})


# --- feeds: token, parameters -------------------------------------------------------------


def _feed_token() -> tuple[bool, str | None]:
    """(token required?, the token). Required when sign-in is configured or a token is set."""
    try:
        secrets = st.secrets.to_dict()
    except Exception:  # no secrets file: nothing configured
        secrets = {}
    token = os.environ.get("FEED_TOKEN") or secrets.get("FEED_TOKEN") or secrets.get("feed_token")
    token = str(token) if token else None
    return parse_config(secrets).configured or token is not None, token


def _authorised(request: Request) -> bool:
    required, token = _feed_token()
    if not required:
        return True
    if token is None:
        return False
    given = request.query_params.get("token") or request.headers.get("x-feed-token") or ""
    auth = request.headers.get("authorization", "")
    if not given and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return hmac.compare_digest(given.encode(), token.encode())


def _unauthorised() -> JSONResponse:
    return JSONResponse({"error": "This feed needs its token: add ?token=... to the address "
                                  "(or send Authorization: Bearer ...)."}, status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})


def _local_date(name: str, raw: str | None) -> dt.date:
    """A date as written (YYYY-MM-DD, or the date part of an ISO date-time): never via UTC."""
    if not raw:
        raise BadRequest(f"{name} is required, e.g. {name}=2026-03-01.")
    text = raw.strip()
    try:
        if len(text) > 10 and text[10] in "T ":
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))  # a well-formed date-time...
            text = text[:10]  # ...of which the date is taken as written
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} {raw!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-01.") from None


def _locations(raw: str | None) -> tuple[str, ...] | None:
    if not raw:
        return None
    found = []
    for part in raw.split(","):
        word = part.strip().lower()
        match = [loc for loc in LOCATIONS if word in (loc.lower(), loc[-1].lower())]
        if not match:
            raise BadRequest(f"location {part.strip()!r} is not a site; use one of {', '.join(LOCATIONS)} (or A, B).")
        found.append(match[0])
    return tuple(dict.fromkeys(found))


def _course_types(engine, raw: str | None) -> tuple[str, ...] | None:
    if not raw:
        return None
    types = catalog.list_course_types(engine)
    found = []
    for part in raw.split(","):
        word = part.strip().lower()
        match = [t.name for t in types if word in (t.name.lower(), t.short_code.lower())]
        if not match:
            known = ", ".join(f"{t.name} ({t.short_code})" for t in types)
            raise BadRequest(f"courseType {part.strip()!r} is not a course; known: {known}.")
        found.append(match[0])
    return tuple(dict.fromkeys(found))


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def _unavailable(exc: Exception) -> JSONResponse:
    return JSONResponse({"error": f"The database cannot be reached: {exc}"}, status_code=503)


# --- /api/calendar/availability -------------------------------------------------------------


def _event(s: Session) -> dict:
    """One bookable session in the seed's shape, which FullCalendar reads as an event."""
    percent = round(100 * s.current_bookings / s.max_capacity) if s.max_capacity else 100
    return {
        "id": str(s.id),
        "title": s.course_type,
        "date": s.session_date.isoformat(),
        "start": f"{s.session_date.isoformat()}T{s.start_time:%H:%M:%S}",
        "end": f"{s.session_date.isoformat()}T{s.end_time:%H:%M:%S}",
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


def _availability(params) -> list[dict]:
    engine = get_engine()
    start = _local_date("startDate", params.get("startDate"))
    end = _local_date("endDate", params.get("endDate"))
    if end < start:
        raise BadRequest("endDate is before startDate.")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise BadRequest(f"Ask for at most {MAX_RANGE_DAYS} days at a time.")
    courses = _course_types(engine, params.get("courseType"))
    locations = _locations(params.get("location"))
    sessions = find_sessions(engine, start, end, course_types=courses, locations=locations,
                             availability=("available", "almost_full"))
    return [_event(s) for s in sessions]


async def availability(request: Request) -> Response:
    if not _authorised(request):
        return _unauthorised()
    try:
        events = await run_in_threadpool(_availability, request.query_params)
    except (BadRequest, BookingError) as exc:
        if isinstance(exc, DatabaseUnavailable):
            return _unavailable(exc)
        return _bad(str(exc))
    return JSONResponse(events, headers={"Cache-Control": "no-store"})


# --- /calendar.ics ----------------------------------------------------------------------------


def _ics(params, if_none_match: str | None) -> tuple[str, bytes | None]:
    """(etag, body); body None when the caller's copy (If-None-Match) is still current."""
    engine = get_engine()
    courses = _course_types(engine, params.get("courseType"))
    locations = _locations(params.get("location"))
    version = latest_version(engine)
    first = today() - dt.timedelta(days=ICS_PAST_DAYS)
    last = today() + dt.timedelta(days=ICS_FUTURE_DAYS)
    tag = hashlib.sha256(repr((version, first, courses, locations)).encode()).hexdigest()[:20]
    etag = f'"{tag}"'
    if if_none_match == etag:
        return etag, None
    scope = exports.ExportScope(first, last, course_types=courses, locations=locations, include_cancelled=True)
    return etag, exports.sessions_ics(exports.load_sessions(engine, scope))


async def calendar_ics(request: Request) -> Response:
    if not _authorised(request):
        return _unauthorised()
    try:
        etag, body = await run_in_threadpool(_ics, request.query_params, request.headers.get("if-none-match"))
    except (BadRequest, BookingError) as exc:
        if isinstance(exc, DatabaseUnavailable):
            return _unavailable(exc)
        return _bad(str(exc))
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if body is None:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={**headers, "Content-Disposition": 'inline; filename="courses.ics"'})


# --- the app ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def lifespan(_app):
    engine = get_engine()
    with contextlib.suppress(DatabaseUnavailable):
        await run_in_threadpool(check_connection, engine)
    notify.start(engine)
    try:
        yield
    finally:
        notify.stop()


app = st.App(
    "Home.py",
    lifespan=lifespan,
    routes=[
        WebSocketRoute(url_path(PUSH_PATH), push),
        Route(url_path("/healthz"), healthz),
        Route(url_path("/api/calendar/availability"), availability),
        Route(url_path("/calendar.ics"), calendar_ics),
    ],
)
