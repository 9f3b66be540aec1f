"""FullCalendar's own browser bundle (npm package `fullcalendar`, 6 and 7) in a static page of
another origin (127.0.0.1, another port), loading /api/calendar/availability as an events
source the way it does by default (start/end parameters, end excluded): the events it draws
are the sessions the core says can be booked, at the core's instants.

The app runs with APP_NOW fixed in March 2031, so nothing here depends on today's date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.server
import threading
from zoneinfo import ZoneInfo

import pytest

from core import clock
from core.availability import find_sessions
from core.db import forget_engine, get_engine, migrate
from core.sessions import create_session
from tests import npm
from tests.actors import ADMIN
from tests.e2e.push_harness import free_port, start_server, stop_server

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")
APP_NOW = "2031-03-10T12:00"  # a Monday, at the sites
BUNDLES = {"fullcalendar@6": "index.global.min.js", "fullcalendar@7": "all/global.js"}
SESSIONS = [  # (day, start, end); the first has started by APP_NOW, the last two are after the change
    (dt.date(2031, 3, 10), "09:00", "16:30"),
    (dt.date(2031, 3, 12), "09:00", "16:30"),
    (dt.date(2031, 3, 28), "13:00", "16:00"),
    (dt.date(2031, 3, 31), "09:00", "16:30"),
    (dt.date(2031, 4, 5), "09:30", "12:30"),
]
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Courses</title>
<script src="/{bundle}"></script></head><body><div id="calendar"></div><script>
window.loaded = false;
const calendar = new FullCalendar.Calendar(document.getElementById("calendar"), {{
  initialView: "dayGridMonth", initialDate: "2031-03-01",
  events: "{feed}",
  eventSourceSuccess: function (raw) {{ window.loaded = true; return raw; }},
  eventSourceFailure: function (error) {{ window.failed = String(error); }},
}});
calendar.render();
window.calendar = calendar;
</script></body></html>"""


@contextlib.contextmanager
def _static_site(folder):
    """Serve `folder` on 127.0.0.1 (another origin than the app) until the block ends."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # the test's output is about the calendar
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}"
    finally:
        site.shutdown()
        site.server_close()


@pytest.fixture(scope="module")
def app_and_sessions(browser, tmp_path_factory):
    """`streamlit run server.py` on a DuckDB file holding SESSIONS, with APP_NOW and the
    static site's origin allowed; yields (app, site folder, site origin, the core's bookable)."""
    folder = tmp_path_factory.mktemp("fullcalendar")
    url = f"duckdb:///{folder / 'app.duckdb'}"
    engine = get_engine(url)
    migrate(engine)
    with clock.using(clock.ManualClock(dt.datetime(2031, 3, 1, 12))):
        for day, start, end in SESSIONS:
            create_session(engine, course_type="First Aid at Work", session_date=day, start_time=start,
                           end_time=end, location="Location A", actor=ADMIN)
    with clock.using(clock.ManualClock(dt.datetime(2031, 3, 10, 12))):  # APP_NOW in UTC (GMT)
        bookable = [s for s in find_sessions(engine, dt.date(2031, 2, 23), dt.date(2031, 4, 5))
                    if s.state in ("available", "almost_full")]
    forget_engine(engine)
    site = folder / "site"
    site.mkdir()
    with _static_site(site) as origin:
        app = start_server(folder, url, env={"APP_NOW": APP_NOW, "FEED_ALLOWED_ORIGINS": origin})
        try:
            yield app, site, origin, bookable
        finally:
            stop_server(app)


@pytest.mark.parametrize("package", list(BUNDLES))
def test_fullcalendar_draws_the_bookable_sessions_of_the_feed_at_the_cores_instants(
        app_and_sessions, new_page, tmp_path, package):
    from playwright.sync_api import expect

    app, site, origin, bookable = app_and_sessions
    unpacked = npm.unpack(tmp_path / "npm", package)
    bundle = f"{package.replace('@', '-')}.js"
    (site / bundle).write_bytes((unpacked / BUNDLES[package]).read_bytes())
    (site / f"{bundle}.html").write_text(PAGE.format(bundle=bundle, feed=f"{app.url}/api/calendar/availability"))

    page = new_page()
    feed_requests = []
    page.on("request", lambda r: feed_requests.append(r.url) if "/api/calendar/availability" in r.url else None)
    context_zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    page.goto(f"{origin}/{bundle}.html")
    page.wait_for_function("window.loaded || window.failed")
    assert page.evaluate("window.failed || null") is None
    drawn = page.evaluate("calendar.getEvents().map(e => [e.id, e.start.toISOString(), e.end.toISOString()])")

    def utc(day, at):
        return dt.datetime.combine(day, at, tzinfo=LONDON).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    assert sorted(drawn) == sorted([str(s.id), utc(s.session_date, s.start_time), utc(s.session_date, s.end_time)]
                                   for s in bookable), f"browser zone {context_zone}"
    assert len(bookable) == len(SESSIONS) - 1  # the one that had started is not offered
    # drawn in the month grid (6 and 7 name their elements differently; the titles are the same)
    expect(page.get_by_text("First Aid at Work")).to_have_count(len(bookable))
    (asked,) = feed_requests
    assert "start=2031-02-23" in asked and "end=2031-04-06" in asked
