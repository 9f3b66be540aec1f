"""The routes server.py adds to the app, against real `streamlit run server.py` processes
on PostgreSQL: the /push WebSocket, /healthz, the availability JSON and the ICS feed.

Bookings are made from this process through the core, as another app instance would:
they reach the server only through PostgreSQL NOTIFY.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from core import booking
from core.availability import find_sessions
from core.changes import latest_version
from core.config import today
from core.sessions import cancel_session, create_session
from tests.e2e.push_harness import make_pg_database, start_server, stop_server, wait_until
from tests.actors import ADMIN, STAFF

pytestmark = pytest.mark.postgres

HEARTBEAT = 0.5
LONDON = ZoneInfo("Europe/London")
TOKEN = "feed-token-for-tests"


@pytest.fixture(scope="module")
def db(postgres_url):
    database, drop = make_pg_database(postgres_url)
    yield database
    drop()


@pytest.fixture(scope="module")
def server(db, tmp_path_factory):
    app = start_server(tmp_path_factory.mktemp("route"), db.url, env={"PUSH_HEARTBEAT_SECONDS": str(HEARTBEAT)})
    yield app
    stop_server(app)


@pytest.fixture(scope="module")
def signed_in_server(db, tmp_path_factory):
    """Sign-in configured ([auth] in the secrets) and the feed token in the same secrets file."""
    folder = tmp_path_factory.mktemp("signin")
    secrets = folder / "secrets.toml"
    secrets.write_text(
        f'FEED_TOKEN = "{TOKEN}"\n\n[auth]\nredirect_uri = "http://127.0.0.1/oauth2callback"\n'
        'cookie_secret = "not-a-real-secret"\nclient_id = "x"\nclient_secret = "y"\n'
        'server_metadata_url = "https://accounts.example.com/.well-known/openid-configuration"\n')
    app = start_server(folder, db.url, args=("--secrets.files", str(secrets)))
    yield app
    stop_server(app)


def _link(server, origin: str | None = "same"):
    return connect(server.ws_url, origin=server.url if origin == "same" else origin, open_timeout=10)


def _message(ws, timeout: float = 5.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def _next_version(ws, timeout: float = 5.0) -> int:
    while True:
        msg = _message(ws, timeout)
        if msg["type"] == "version":
            return msg["version"]


def _bookable(db, count: int, course: str):
    sessions = [s for s in find_sessions(db.engine, today() + dt.timedelta(days=3), today() + dt.timedelta(days=80))
                if s.short_code == course and s.status == "scheduled" and s.remaining >= 1]
    assert len(sessions) >= count, f"the demo data has too few {course} sessions with room"
    return sessions[:count]


def _book(db, session) -> int:
    booking.book(db.engine, session.id, contact_name="Route Test", contact_email=f"route-{uuid.uuid4().hex[:8]}@example.co.uk", actor=STAFF)
    return latest_version(db.engine)


# --- /push ---------------------------------------------------------------------------------


def test_a_link_gets_the_version_on_connect_then_each_spaced_booking_exactly_once_and_in_order(server, db):
    sessions = _bookable(db, 3, "EFAW")
    with _link(server) as ws:
        assert _message(ws) == {"type": "version", "version": latest_version(db.engine)}
        expected, got = [], []
        for session in sessions:
            expected.append(_book(db, session))
            got.append(_next_version(ws))
        # After the last version the next message is a heartbeat carrying it: nothing twice.
        assert _message(ws, timeout=HEARTBEAT * 4) == {"type": "heartbeat", "version": expected[-1]}
    assert got == expected


def test_a_burst_of_bookings_reaches_a_link_as_a_few_versions_ending_with_the_latest(server, db):
    day = today() + dt.timedelta(days=30)
    three = [create_session(db.engine, course_type="First Aid at Work", session_date=day, start_time=f"{9 + i:02d}:00",
                            end_time=f"{10 + i:02d}:00", location="Location A", actor=ADMIN) for i in range(3)]
    sessions = three * 10
    with _link(server) as ws:
        _message(ws)
        started = time.monotonic()
        for session in sessions:
            last = _book(db, session)
        took = time.monotonic() - started
        received = []
        while not received or received[-1] < last:
            received.append(_next_version(ws))
    assert received == sorted(set(received))
    assert len(received) <= took / 0.2 + 3, f"{len(received)} versions for a burst of {took:.2f} s"
    assert len(received) < len(sessions)


def test_a_quiet_link_gets_heartbeats_with_the_current_version(server, db):
    with _link(server) as ws:
        first = _message(ws)
        beats = [_message(ws, timeout=HEARTBEAT * 4) for _ in range(2)]
    assert beats == [{"type": "heartbeat", "version": first["version"]}] * 2


@pytest.mark.parametrize("origin", ["http://evil.example", None])
def test_a_page_of_another_site_or_no_origin_cannot_open_a_link(server, origin):
    with pytest.raises(InvalidStatus) as refused:
        connect(server.ws_url, origin=origin, open_timeout=10)
    assert refused.value.response.status_code == 403


def test_links_opened_and_closed_100_times_leave_no_subscriber_behind(server):
    def open_links() -> int:
        return server.health()["push_links"]

    wait_until(lambda: open_links() == 0, "no link open before the test")
    for _ in range(100):
        with _link(server) as ws:
            _message(ws)
    with contextlib.ExitStack() as stack:
        for _ in range(5):
            _message(stack.enter_context(_link(server)))
        wait_until(lambda: open_links() == 5, "exactly the 5 open links to count (none of the 100 closed)")
    wait_until(lambda: open_links() == 0, "every link to be cleaned up")


def test_a_graceful_shutdown_with_open_links_finishes_within_2_seconds(db, tmp_path):
    app = start_server(tmp_path, db.url)
    with contextlib.ExitStack() as stack:
        stack.callback(stop_server, app)
        links = [stack.enter_context(_link(app)) for _ in range(5)]
        for ws in links:
            _message(ws)
        assert app.health()["push_links"] == 5
        started = time.monotonic()
        os.kill(app.pid, signal.SIGTERM)
        wait_until(lambda: app.process.poll() is not None, "the server to exit", timeout=10)
        took = time.monotonic() - started
        assert took < 2.0, f"shutdown took {took:.2f} s"
        for ws in links:
            with pytest.raises(ConnectionClosed):
                while True:
                    ws.recv(timeout=2)


# --- /healthz --------------------------------------------------------------------------------


def test_healthz_reports_the_database_the_change_version_and_the_open_links(server, db):
    with _link(server) as ws:
        _message(ws)
        status, _, body = server.get("/healthz")
        health = json.loads(body)
    assert status == 200
    assert health["status"] == "ok" and health["database"] == "ok" and health["listener"] == "listening"
    assert health["version"] == latest_version(db.engine)
    assert health["push_links"] >= 1


# --- /api/calendar/availability ---------------------------------------------------------------


def _availability(server, **query) -> tuple[int, object]:
    from urllib.parse import urlencode

    status, _, body = server.get("/api/calendar/availability?" + urlencode(query))
    return status, json.loads(body)


def test_availability_lists_the_bookable_sessions_of_the_range_as_calendar_events(server, db):
    first, last = today() + dt.timedelta(days=1), today() + dt.timedelta(days=21)
    status, events = _availability(server, startDate=first.isoformat(), endDate=last.isoformat(),
                                   courseType="First Aid at Work", location="Location B")
    assert status == 200
    expected = [s for s in find_sessions(db.engine, first, last, course_types=["First Aid at Work"],
                                         locations=["Location B"]) if s.state in ("available", "almost_full")]
    assert expected, "the demo data has First Aid at Work sessions at Location B"
    assert [e["id"] for e in events] == [str(s.id) for s in expected]
    for event, s in zip(events, expected):
        assert event["title"] == "First Aid at Work" and event["location"] == "Location B"
        assert event["date"] == s.session_date.isoformat()
        # the local wall-clock time with the sites' offset that day
        assert event["start"] == dt.datetime.combine(s.session_date, s.start_time, tzinfo=LONDON).isoformat()
        assert event["availableSpots"] == s.remaining > 0 and event["maxCapacity"] == s.max_capacity
        assert event["color"] == s.colour
        assert event["extendedProps"]["currentBookings"] == s.current_bookings


def test_availability_keeps_an_early_morning_summer_session_on_its_local_date(server, db):
    day = dt.date(today().year + 1, 7, 1)  # 00:30 BST is 23:30 UTC the day before
    made = create_session(db.engine, course_type="CPR and AED", session_date=day, start_time="00:30",
                          end_time="03:30", location="Location A", actor=ADMIN)
    try:
        for start in (day.isoformat(), f"{day.isoformat()}T00:00:00+01:00"):
            status, events = _availability(server, startDate=start, endDate=day.isoformat(), courseType="CPR")
            assert status == 200
            assert [(e["id"], e["date"], e["start"]) for e in events] == [
                (str(made.id), day.isoformat(), f"{day.isoformat()}T00:30:00+01:00")]
    finally:
        cancel_session(db.engine, made.id, actor=ADMIN)


@pytest.mark.parametrize("query, says", [
    ({"endDate": "2026-01-31"}, "startDate is required"),
    ({"startDate": "2026-02-30", "endDate": "2026-03-01"}, "startDate '2026-02-30' is not a date"),
    ({"startDate": "2026-03-02", "endDate": "2026-03-01"}, "endDate is before startDate"),
    ({"startDate": "2026-01-01", "endDate": "2027-06-01"}, "at most 366 days"),
    ({"startDate": "2026-03-01", "endDate": "2026-03-31", "courseType": "Basket weaving"}, "courseType 'Basket weaving' is not a course"),
    ({"startDate": "2026-03-01", "endDate": "2026-03-31", "location": "Location C"}, "location 'Location C' is not a site"),
])
def test_availability_refuses_bad_parameters_with_400_and_a_message(server, query, says):
    status, body = _availability(server, **query)
    assert status == 400
    assert says in body["error"]


# --- /calendar.ics ------------------------------------------------------------------------------


def test_the_ics_feed_is_a_calendar_that_answers_304_until_something_changes(server, db):
    status, headers, body = server.get("/calendar.ics?location=B")
    assert status == 200 and headers["content-type"].startswith("text/calendar")
    text = body.decode()
    assert text.startswith("BEGIN:VCALENDAR") and "TZID:Europe/London" in text
    assert "LOCATION:Location A" not in text and text.count("BEGIN:VEVENT") > 0
    etag = headers["etag"]
    assert server.get("/calendar.ics?location=B", {"If-None-Match": etag})[0] == 304
    _book(db, _bookable(db, 1, "PFA")[0])
    status, headers, _ = server.get("/calendar.ics?location=B", {"If-None-Match": etag})
    assert status == 200 and headers["etag"] != etag


# --- the token ------------------------------------------------------------------------------------


def test_without_sign_in_configured_the_feeds_need_no_token(server):
    assert server.get("/calendar.ics")[0] == 200
    assert _availability(server, startDate=today().isoformat(), endDate=today().isoformat())[0] == 200


@pytest.mark.parametrize("path", ["/calendar.ics", f"/api/calendar/availability?startDate={dt.date.today()}&endDate={dt.date.today()}"])
def test_with_sign_in_configured_the_feeds_want_the_secret_token(signed_in_server, path):
    join = "&" if "?" in path else "?"
    assert signed_in_server.get(path)[0] == 401
    assert signed_in_server.get(f"{path}{join}token=wrong")[0] == 401
    assert signed_in_server.get(f"{path}{join}token={TOKEN}")[0] == 200
    assert signed_in_server.get(path, {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert signed_in_server.get(path, {"X-Feed-Token": TOKEN})[0] == 200
