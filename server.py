"""The app with its extra routes: `streamlit run server.py` (Streamlit 1.67 `st.App`).

  /push                 WebSocket: the change version on connect, every new one after
                        (at most one per ~200 ms, the latest), a heartbeat when quiet
  /healthz              database reachable?, change version, open push links (for the LB)
  /api/calendar/availability?start=&end=  (FullCalendar's, end excluded)
            or ?startDate=&endDate=  (both included); &courseType=&location=&timeZone=
                        sessions that can still be booked, as FullCalendar events (JSON)
  /calendar.ics         a subscription feed for Outlook / Google Calendar (ETag, 304)
  /api/export?format=csv|xlsx|ics&from=&to=&courseType=&location=&includeCancelled=1
                        the sessions file, for scheduled jobs while the app owns DuckDB

`streamlit run Home.py` still serves the same pages without these routes; pages then
poll (see ui/push.py). When sign-in is configured ([auth] or [users] in the secrets) or a
FEED_TOKEN is set, the JSON and ICS routes want that token: `?token=...`, or the header
`Authorization: Bearer ...`, or `X-Feed-Token`; otherwise 401. Pages of the origins in
FEED_ALLOWED_ORIGINS may read these routes from the browser (CORS, with preflight). The
WebSocket accepts only pages of this site (Origin = Host) or origins listed in
PUSH_ALLOWED_ORIGINS. The logic of the feeds is in core/feeds.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from urllib.parse import urlsplit

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from core import feeds, holds, notify, requalification
from core.auth import feed_token
from core.mail import sender as mail_sender
from core.changes import latest_version
from core.config import get_settings
from core.db import check_connection, get_engine
from core.errors import CoreError, DatabaseUnavailable
from ui.push import PUSH_PATH, url_path

# --- the push link ------------------------------------------------------------------------


def _origin_allowed(ws: WebSocket) -> bool:
    """Only pages served by this site (or listed origins) may open a push link."""
    origin = (ws.headers.get("origin") or "").rstrip("/")
    if not origin:
        return False
    if origin.lower() in get_settings().push_allowed_origins:
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
    return feed_token(secrets, get_settings().feed_token)


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


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def _unavailable(exc: Exception) -> JSONResponse:
    return JSONResponse({"error": f"The database cannot be reached: {exc}"}, status_code=503)


# --- CORS: pages of the origins in FEED_ALLOWED_ORIGINS may read the feeds ------------------------

_CORS_REQUEST_HEADERS = "Authorization, If-None-Match, X-Feed-Token"


def _cors(request: Request) -> dict[str, str]:
    """The headers that let a listed origin's page read the answer (none for others)."""
    origin = request.headers.get("origin")
    if not feeds.origin_allowed(origin):
        return {"Vary": "Origin"}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
            "Access-Control-Expose-Headers": "ETag, Content-Disposition"}


def _preflight(request: Request) -> Response:
    """OPTIONS: a listed origin may GET with Authorization (the token) and If-None-Match;
    any other origin gets a 403 without the headers, so the browser refuses the request."""
    if not request.headers.get("origin"):
        return Response(status_code=204, headers={"Allow": "GET, HEAD, OPTIONS"})
    if not feeds.origin_allowed(request.headers["origin"]):
        return Response(status_code=403, headers={"Vary": "Origin"})
    return Response(status_code=204, headers={
        **_cors(request), "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": _CORS_REQUEST_HEADERS, "Access-Control-Max-Age": "600"})


def feed_route(work):
    """A feed endpoint: preflight, the token, then `work(request)` in a thread pool; a
    FeedError is a 400, an unreachable database a 503; CORS headers on every answer."""

    async def endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return _preflight(request)
        if not _authorised(request):
            response = _unauthorised()
        else:
            try:
                response = await run_in_threadpool(work, request)
            except DatabaseUnavailable as exc:
                response = _unavailable(exc)
            except (feeds.FeedError, CoreError) as exc:
                response = _bad(str(exc))
        response.headers.update(_cors(request))
        return response

    return endpoint


# --- /api/calendar/availability, /calendar.ics, /api/export -------------------------------------


def _availability(request: Request) -> Response:
    events = feeds.availability_events(get_engine(), request.query_params)
    return JSONResponse(events, headers={"Cache-Control": "no-store"})


def _ics(request: Request) -> Response:
    feed = feeds.ics_feed(get_engine(), request.query_params)
    headers = {"ETag": feed.etag, "Cache-Control": "no-cache"}
    if feeds.etag_matches(request.headers.get("if-none-match"), feed.etag):
        return Response(status_code=304, headers=headers)
    return Response(feed.render(), media_type="text/calendar; charset=utf-8",
                    headers={**headers, "Content-Disposition": 'inline; filename="courses.ics"'})


def _export(request: Request) -> Response:
    made = feeds.export_file(get_engine(), request.query_params)
    return Response(made.data, media_type=made.mime, headers={
        "Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{made.file_name}"'})


# --- the app ---------------------------------------------------------------------------------


FEED_METHODS = ["GET", "HEAD", "OPTIONS"]
FEED_ROUTES = [
    Route(url_path("/api/calendar/availability"), feed_route(_availability), methods=FEED_METHODS),
    Route(url_path("/calendar.ics"), feed_route(_ics), methods=FEED_METHODS),
    Route(url_path("/api/export"), feed_route(_export), methods=FEED_METHODS),
]


@contextlib.asynccontextmanager
async def lifespan(_app):
    engine = get_engine()
    with contextlib.suppress(DatabaseUnavailable):
        await run_in_threadpool(check_connection, engine)
    notify.start(engine)
    # The app's background work starts with the server, not with the first page drawn:
    # expired holds must free their places in a process that only serves the feeds.
    holds.start_expiry_sweeper(engine)
    mail_sender.start_sender(engine)  # booking e-mails (kept for the Outbox page without SMTP_URL)
    requalification.start_reminder_finder(engine)
    try:
        yield
    finally:
        requalification.stop_reminder_finder(engine)
        mail_sender.stop_sender(engine)
        holds.stop_expiry_sweeper(engine)
        notify.stop()


app = st.App(
    "Home.py",
    lifespan=lifespan,
    routes=[
        WebSocketRoute(url_path(PUSH_PATH), push),
        Route(url_path("/healthz"), healthz),
        *FEED_ROUTES,
    ],
)
