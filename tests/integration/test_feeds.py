"""The feed routes of server.py, in this process (Starlette's test client) on both databases,
with the core's clock standing still until a test moves it: sessions that have started,
ETags that follow what the body shows, If-None-Match as RFC 9110 reads it, CORS, the
FullCalendar parameters and the export route."""

from __future__ import annotations

import datetime as dt
import re
import warnings

import pytest
from starlette.applications import Starlette

with warnings.catch_warnings():  # this starlette prefers another httpx package; both work
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from core import clock, config, holds
from core.availability import find_sessions
from core.exports import ExportScope, export_sessions
from core.feeds import etag_matches
from core.sessions import create_session
from tests.actors import ADMIN, STAFF

# Wednesday 19 March 2031, 08:00 GMT: the day before the sessions of these tests.
START = dt.datetime(2031, 3, 19, 8, 0)
DAY = dt.date(2031, 3, 20)
SITE = "https://www.example.co.uk"


@pytest.fixture
def frozen():
    with clock.using(clock.ManualClock(START)) as c:
        yield c


@pytest.fixture
def client(engine, monkeypatch, frozen):
    """The feed routes of server.py on `engine`'s database, no sign-in, one allowed origin."""
    import server
    from core import db

    # the URL this engine was made from, so that get_engine() in the routes returns it
    monkeypatch.setenv("DATABASE_URL", next(url for url, made in db._engines.items() if made is engine))
    monkeypatch.setenv("FEED_ALLOWED_ORIGINS", f"{SITE}/, http://127.0.0.1:9999")
    config.get_settings.cache_clear()
    with TestClient(Starlette(routes=server.FEED_ROUTES)) as c:
        yield c


def _session(engine, start="09:00", end="16:30", day=DAY, course="First Aid at Work", **more):
    return create_session(engine, course_type=course, session_date=day, start_time=start, end_time=end,
                          location="Location A", actor=ADMIN, **more)


def _feed(client, **params):
    reply = client.get("/api/calendar/availability", params={"startDate": DAY.isoformat(),
                                                             "endDate": DAY.isoformat(), **params})
    assert reply.status_code == 200, reply.text
    return reply.json()


# --- sessions that have started ---------------------------------------------------------------


def test_a_session_that_has_started_is_running_then_over_and_never_has_places_left(engine, frozen):
    made = _session(engine)

    def read():
        (s,) = find_sessions(engine, DAY, DAY)
        return s.status, s.state, s.remaining, [x.id for x in find_sessions(engine, DAY, DAY, availability=["available", "almost_full", "full"])]

    assert read() == ("scheduled", "available", 12, [made.id])
    frozen.set(dt.datetime(2031, 3, 20, 9, 0))  # the start: it has started
    assert read() == ("scheduled", "running", 0, [])
    frozen.set(dt.datetime(2031, 3, 22, 12, 0))  # two days later, nobody pressed "complete"
    assert read() == ("scheduled", "over", 0, [])


def test_the_json_and_ics_feeds_never_offer_a_session_that_has_started(engine, client, frozen):
    made = _session(engine)
    assert [e["id"] for e in _feed(client)] == [str(made.id)]
    frozen.set(dt.datetime(2031, 3, 22, 12, 0))
    assert _feed(client) == []
    body = client.get("/calendar.ics").text
    assert "SUMMARY:First Aid at Work (over)" in body and "places left" not in body.split("BEGIN:VEVENT")[1].split("DESCRIPTION")[0]
    assert "X-PLACES-LEFT:0" in body


# --- ETag -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("header, matches", [
    ('"abc"', True), ('W/"abc"', True), ('"x", W/"abc"', True), ('"x","abc"', True), ("*", True),
    ('"x", "y"', False), ('"ab"', False), ("", False), (None, False),
])
def test_if_none_match_uses_weak_comparison_and_reads_lists(header, matches):
    assert etag_matches(header, '"abc"') is matches


def test_the_ics_feed_answers_304_to_the_weak_form_and_to_a_list_holding_its_tag(engine, client):
    _session(engine)
    first = client.get("/calendar.ics")
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", W/{etag}', f'"other",{etag}'):
        assert client.get("/calendar.ics", headers={"If-None-Match": header}).status_code == 304, header
    assert client.get("/calendar.ics", headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_hold_running_out_between_two_requests_changes_the_etag_sequence_and_body(engine, client, frozen):
    made = _session(engine)
    holds.place_hold(engine, made.id, seats=3, minutes=10, actor=STAFF)
    before = client.get("/calendar.ics")
    assert "SUMMARY:First Aid at Work - 9 places left" in before.text
    frozen.advance(minutes=9)  # still held: nothing the body shows has changed
    assert client.get("/calendar.ics", headers={"If-None-Match": before.headers["etag"]}).status_code == 304
    frozen.advance(minutes=2)  # the hold ran out; nobody wrote anything
    after = client.get("/calendar.ics", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert "SUMMARY:First Aid at Work - 12 places left" in after.text

    def sequence(text: str) -> int:
        return int(re.search(r"^SEQUENCE:(\d+)", text, re.M).group(1))

    assert sequence(after.text) > sequence(before.text)
    assert "LAST-MODIFIED:20310319T081000Z" in after.text  # when the hold ran out


def test_the_server_starts_the_hold_sweeper_with_the_app_not_with_the_first_page(engine, client):
    import server
    from core import background

    holds.stop_expiry_sweeper()
    with TestClient(Starlette(routes=server.FEED_ROUTES, lifespan=server.lifespan)):
        sweeper = background.thread(engine, holds.SWEEPER)
        assert sweeper is not None and sweeper.is_alive()
    assert not sweeper.is_alive()


# --- CORS ------------------------------------------------------------------------------------------


def test_a_listed_origin_may_read_the_feeds_and_others_get_no_cors_headers(engine, client):
    _session(engine)
    allowed = client.get("/calendar.ics", headers={"Origin": SITE})
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert "ETag" in allowed.headers["access-control-expose-headers"]
    refused = client.get("/calendar.ics", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 200 and "access-control-allow-origin" not in refused.headers
    assert "origin" in refused.headers["vary"].lower()


def test_the_preflight_allows_the_authorization_header_for_a_listed_origin_only(client):
    ask = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    for path in ("/api/calendar/availability", "/calendar.ics", "/api/export"):
        ok = client.options(path, headers={"Origin": "http://127.0.0.1:9999", **ask})
        assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == "http://127.0.0.1:9999"
        assert "Authorization" in ok.headers["access-control-allow-headers"]
        assert "GET" in ok.headers["access-control-allow-methods"]
        no = client.options(path, headers={"Origin": "https://evil.example", **ask})
        assert no.status_code == 403 and "access-control-allow-origin" not in no.headers


# --- FullCalendar's parameters ---------------------------------------------------------------------


def test_fullcalendars_start_and_end_with_offsets_and_an_excluded_end(engine, client):
    on_day = _session(engine)
    _session(engine, day=DAY + dt.timedelta(days=1))
    # FullCalendar asks start=...T00:00:00+00:00&end=<next day>T00:00:00+00:00; a raw '+' arrives as a space
    query = f"start={DAY}T00:00:00+00:00&end={DAY + dt.timedelta(days=1)}T00:00:00+00:00"
    reply = client.get(f"/api/calendar/availability?{query}")
    assert reply.status_code == 200, reply.text
    assert [e["id"] for e in reply.json()] == [str(on_day.id)]


def test_feed_times_carry_the_sites_offset_and_timezone_utc_gives_utc(engine, client):
    summer = DAY.replace(month=7, day=1)
    made = _session(engine, day=summer)
    (event,) = _feed(client, startDate=summer.isoformat(), endDate=summer.isoformat())
    assert (event["id"], event["start"], event["end"]) == (str(made.id), f"{summer}T09:00:00+01:00", f"{summer}T16:30:00+01:00")
    (event,) = _feed(client, startDate=summer.isoformat(), endDate=summer.isoformat(), timeZone="UTC")
    assert event["start"] == f"{summer}T08:00:00Z"
    bad = client.get("/api/calendar/availability", params={"startDate": summer, "endDate": summer, "timeZone": "Mars/Base"})
    assert bad.status_code == 400 and "timeZone" in bad.json()["error"]


# --- the export route --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_route_serves_the_same_file_as_the_page(engine, client, fmt):
    _session(engine)
    _session(engine, course="CPR and AED", start="13:00", end="16:00", day=DAY + dt.timedelta(days=2))
    reply = client.get("/api/export", params={"format": fmt, "from": DAY, "to": DAY + dt.timedelta(days=2)})
    assert reply.status_code == 200
    assert reply.headers["content-disposition"] == f'attachment; filename="sessions_{DAY}_to_{DAY + dt.timedelta(days=2)}.{fmt}"'
    page = export_sessions(engine, ExportScope(DAY, DAY + dt.timedelta(days=2)), fmt)
    if fmt == "csv":
        assert reply.content == page.data
    else:
        import io

        import openpyxl

        rows = lambda data: list(openpyxl.load_workbook(io.BytesIO(data))["Sessions"].values)  # noqa: E731
        assert rows(reply.content) == rows(page.data)
    bad = client.get("/api/export", params={"format": "pdf", "from": DAY, "to": DAY})
    assert bad.status_code == 400 and "format must be one of" in bad.json()["error"]


# --- read by Mozilla's ical.js, under node ------------------------------------------------------------

LONDON_CHANGES = [  # (day, start, end) either side of both changes of 2031 and later summers
    (dt.date(2031, 3, 28), "09:00", "16:30"),   # Friday before: GMT
    (dt.date(2031, 3, 30), "00:30", "00:55"),   # the Sunday, before 01:00 GMT: still GMT
    (dt.date(2031, 3, 30), "09:00", "12:00"),   # the Sunday, after: BST
    (dt.date(2031, 3, 31), "09:00", "16:30"),   # Monday after: BST
    (dt.date(2031, 7, 1), "09:00", "16:30"),
    (dt.date(2031, 10, 24), "09:00", "16:30"),  # Friday before: BST
    (dt.date(2031, 10, 26), "00:30", "00:55"),  # the Sunday, before 02:00 BST: still BST
    (dt.date(2031, 10, 26), "09:00", "12:00"),  # the Sunday, after: GMT
    (dt.date(2031, 10, 27), "09:00", "16:30"),  # Monday after: GMT
]
LATER_SUMMERS = [(dt.date(2032, 7, 1), "09:00", "16:30"), (dt.date(2033, 3, 28), "09:00", "16:30"),
                 (dt.date(2033, 7, 1), "09:00", "16:30")]


@pytest.fixture(scope="module")
def ical_js(tmp_path_factory):
    from tests import npm

    return npm.node(), npm.install(tmp_path_factory.mktemp("icaljs"), "ical.js@2")


def _read_with_ical_js(ical_js, body: bytes, folder) -> dict[str, list[int]]:
    import json
    import subprocess
    from pathlib import Path

    node, modules = ical_js
    path = folder / "calendar.ics"
    path.write_bytes(body)
    script = Path(__file__).resolve().parents[1] / "js" / "ical_instants.mjs"
    done = subprocess.run([node, str(script), str(modules), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _core_instants(sessions) -> dict[str, list[int]]:
    zone = config.get_settings().timezone
    return {f"{s.id}@availability-calendar": [int(dt.datetime.combine(s.session_date, t, tzinfo=zone).timestamp())
                                              for t in (s.start_time, s.end_time)] for s in sessions}


@pytest.mark.parametrize("engine", ["duckdb"], indirect=True)
def test_ical_js_reads_each_event_at_the_cores_instant_across_both_clock_changes(engine, client, frozen, ical_js, tmp_path):
    frozen.set(dt.datetime(2031, 3, 1, 9, 0))
    made = [_session(engine, start, end, day=day) for day, start, end in LONDON_CHANGES + LATER_SUMMERS]
    file = export_sessions(engine, ExportScope(dt.date(2031, 3, 1), dt.date(2033, 12, 31)), "ics").data
    assert _read_with_ical_js(ical_js, file, tmp_path) == _core_instants(made)

    feed = client.get("/calendar.ics")  # the feed: 30 days back, a year ahead
    assert feed.status_code == 200
    in_window = [s for s in made if s.session_date <= dt.date(2032, 3, 1)]
    assert _read_with_ical_js(ical_js, feed.content, tmp_path) == _core_instants(in_window)
