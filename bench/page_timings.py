"""5. Page timings with 20,000 sessions in the database.

20,000 sessions (ten a day for 2,000 days around today; past ones completed, 1 in 37
cancelled, 0-12 places booked as one-place bookings with an attendee each: about 120,000
bookings), loaded set-based. Then, against `streamlit run server.py`:

- first render of the calendar page (default month view): from navigation to the live
  line shown and the calendar's events drawn;
- first render of the occupancy dashboard: to its five charts drawn and the next-days
  table shown;
each in a new browser context (a new Streamlit session) every time; the first of each is
the app's first ever (cold caches), the others are reported as a median;
- the month's sessions as an xlsx workbook: `core.exports.export_sessions(..., "xlsx")`,
  the function the Exports page and `python -m core export` call.
PostgreSQL first; DuckDB (the embedded default) too when the run has time left.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import time

import sqlalchemy as sa

from bench import app as A
from bench.calendar_query import fill
from bench.settle import settle
from bench.stats import median
from core import exports
from core.config import today
from core.db import forget_engine, get_engine, migrate

SESSIONS = 20_000

BOOKINGS = """
INSERT INTO bookings (id, session_id, reference, contact_name, contact_email, seats, status, created_at, created_by)
SELECT gen_random_uuid(), s.id, 'BK-' || lpad(CAST(row_number() OVER () AS VARCHAR), 9, '0'), 'Pat Booker',
       'pat@example.com', 1, 'confirmed',
       CAST(s.session_date AS TIMESTAMP) - CAST(g.n * 3 + 1 AS INTEGER) * INTERVAL '1 day', 'bench'
FROM course_sessions s, generate_series(1, 12) AS g(n)
WHERE g.n <= s.current_bookings
"""

CHARTS_DRAWN = """
() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5
      && document.querySelector('[data-testid="stDataFrame"]') !== null
"""


def _load(engine) -> dict:
    started = time.perf_counter()
    fill(engine, SESSIONS, centre=today(), today=today())
    with engine.begin() as conn:
        conn.execute(sa.text(BOOKINGS))
        columns = set(conn.execute(sa.text("SELECT * FROM booking_attendees LIMIT 0")).keys())
        extra = ", active_email" if "active_email" in columns else ""
        email = "'p' || substr(b.reference, 4) || '@example.com'"
        conn.execute(sa.text(
            f"INSERT INTO booking_attendees (booking_id, seat_no, session_id, name, email{extra}) "
            f"SELECT b.id, 1, b.session_id, 'Pat Booker', {email}{', ' + email if extra else ''} FROM bookings b"))
    skipped = settle(engine)
    with engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("course_sessions", "bookings", "booking_attendees")}
    if skipped:
        counts["checkpoint_skipped"] = skipped
    counts["load_seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _month() -> tuple[dt.date, dt.date]:
    day = today()
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _export(engine, runs: int) -> dict:
    scope = exports.ExportScope(*_month())
    times, made = [], None
    for _ in range(runs):
        started = time.perf_counter()
        made = exports.export_sessions(engine, scope, "xlsx")
        times.append((time.perf_counter() - started) * 1000)
    return {"month": [d.isoformat() for d in _month()], "sessions": made.sessions, "bytes": len(made.data),
            "first_ms": times[0], "median_ms": median(times), "all_ms": [round(t) for t in times]}


def _render(chromium, url: str, ready) -> float:
    context = A.new_context(chromium, timeout_ms=120_000)
    try:
        page = context.new_page()
        started = time.monotonic()
        page.goto(url, wait_until="commit")
        ready(page)
        return (time.monotonic() - started) * 1000
    finally:
        with contextlib.suppress(Exception):
            context.close()


def _calendar_ready(page) -> None:
    A.wait_live(page, push=None, timeout_ms=120_000)
    page.frame_locator(A.CALENDAR_IFRAME).locator(".fc-event").first.wait_for(state="visible", timeout=120_000)


def _dashboard_ready(page) -> None:
    A.wait_live(page, push=None, timeout_ms=120_000)
    page.wait_for_function(CHARTS_DRAWN, timeout=120_000)


def _pages(ctx, chromium, app, runs: int) -> dict:
    out = {}
    for name, path, ready in (("calendar", "/Calendar", _calendar_ready), ("occupancy", "/Occupancy", _dashboard_ready)):
        times = [_render(chromium, app.url + path, ready) for _ in range(runs)]
        out[name] = {"first_ms": times[0], "median_after_first_ms": median(times[1:]) if len(times) > 1 else None,
                     "all_ms": [round(t) for t in times]}
        ctx.log(f"  {name}: first {times[0]:.0f} ms, then median {out[name]['median_after_first_ms'] or 0:.0f} ms")
    return out


def run(ctx) -> dict:
    """Two parts, PostgreSQL and DuckDB (when there is time for it), each kept as soon as it is measured."""
    runs = 2 if ctx.quick else 3
    result: dict = ctx.partial
    result.update({"sessions": SESSIONS, "renders_per_page": runs})
    with A.browser() as chromium:
        ctx.part(result, "postgresql", lambda: _postgresql(ctx, chromium, runs))
        if ctx.left() < (60 if ctx.quick else 150):
            result["duckdb"] = {"skipped": f"not enough of the run's time left ({ctx.left():.0f} s)"}
            return result
        ctx.part(result, "duckdb", lambda: _duckdb(ctx, chromium, runs))
    return result


def _postgresql(ctx, chromium, runs: int) -> dict:
    engine = ctx.db.new_schema("pages")
    section = {"data": _load(engine)}
    ctx.log(f"  postgresql: {section['data']}")
    section["xlsx_export"] = _export(engine, runs)
    ctx.log(f"  postgresql xlsx of {section['xlsx_export']['sessions']} sessions: "
            f"median {section['xlsx_export']['median_ms']:.0f} ms")
    app = A.start_app(ctx.tmp / "pages-pg", ctx.db.url("pages"))
    try:
        section["pages"] = _pages(ctx, chromium, app, runs)
    finally:
        A.stop_app(app)
    return section


def _duckdb(ctx, chromium, runs: int) -> dict:
    folder = ctx.tmp / "pages-duckdb"
    folder.mkdir()
    url = f"duckdb:///{folder / 'pages.duckdb'}"
    engine = get_engine(url)
    try:
        migrate(engine)
        section = {"data": _load(engine)}
        ctx.log(f"  duckdb: {section['data']}")
        section["xlsx_export"] = _export(engine, runs)
        ctx.log(f"  duckdb xlsx: median {section['xlsx_export']['median_ms']:.0f} ms")
    finally:
        forget_engine(engine)  # the app process owns the file from here on
    app = A.start_app(folder, url)
    try:
        section["pages"] = _pages(ctx, chromium, app, runs)
    finally:
        A.stop_app(app)
    return section
