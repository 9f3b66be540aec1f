"""The operations pages (Occupancy, Schedule, Exports) through AppTest, and at desktop width
in the real browser (screenshots into artifacts/screenshots/)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from core import booking
from core.availability import find_sessions
from core.config import today
from core.db import get_engine
from core.importer import COLUMNS
from tests.e2e.conftest import ROOT
from tests.e2e.seen import seen
from ui import data, ops
from ui import ops_keys as OK
from tests.actors import STAFF

FIRST_RENDER_MS = 60_000  # a loaded 2-core machine can take a while to render a page the first time
OPS_PAGES = ("pages/3_Occupancy.py", "pages/4_Schedule.py", "pages/5_Exports.py", "pages/9_Requalify.py",
             "pages/10_People.py")
TIMEOUT = 60


def run_page(path: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(elements) -> str:
    return "\n".join(seen(str(e.value)) for e in elements)  # as read: people's text is escaped and isolated


def table_with(at: AppTest, column: str):
    """The shown table that has `column` (AppTest does not expose a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _dashboard_range() -> tuple[dt.date, dt.date]:
    monday = today() - dt.timedelta(days=today().weekday())
    return (monday - dt.timedelta(weeks=ops.DASHBOARD_WEEKS_BACK),
            monday + dt.timedelta(weeks=ops.DASHBOARD_WEEKS_AHEAD, days=-1))


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("path", OPS_PAGES)
def test_each_operations_page_runs_cleanly_on_an_empty_database(path, empty_db_url, use_database):
    use_database(empty_db_url)
    at = run_page(path)
    assert not at.exception
    assert not at.error, texts(at.error)


@pytest.mark.parametrize("path", OPS_PAGES)
def test_each_operations_page_runs_cleanly_on_demo_data(path, demo_db_url, use_database):
    use_database(demo_db_url)
    at = run_page(path)
    assert not at.exception
    assert not at.error, texts(at.error)


@pytest.mark.parametrize("path", OPS_PAGES)
def test_each_operations_page_says_so_when_the_database_cannot_be_reached(path, use_database):
    use_database("postgresql+psycopg://nobody@127.0.0.1:9/nowhere")  # nothing listens on port 9
    at = run_page(path)
    assert not at.exception
    assert "cannot be reached" in texts(at.error)
    assert not at.get("plotly_chart") and not [b for b in at.button if b.key == OK.ONE_SUBMIT]


# --------------------------------------------------------------------------- occupancy


def test_dashboard_numbers_match_the_sessions_counted_independently(demo_db_url, use_database):
    use_database(demo_db_url)
    start, end = _dashboard_range()
    sessions = find_sessions(get_engine(demo_db_url), start, end, include_cancelled=True)
    ran = [s for s in sessions if s.status != "cancelled"]
    sold, capacity = sum(s.current_bookings for s in ran), sum(s.max_capacity for s in ran)
    risky = [s for s in ran if s.status == "scheduled" and today() <= s.session_date < today() + dt.timedelta(days=14)
             and s.current_bookings * 2 < s.max_capacity]

    at = run_page("pages/3_Occupancy.py")
    shown = metrics(at)
    assert shown["Sessions run"] == f"{len(ran):,}"
    assert shown["Places sold"] == f"{sold:,}"
    assert shown["Fill rate"] == f"{sold / capacity:.0%}"
    assert shown["Full sessions"] == f"{sum(s.current_bookings >= s.max_capacity for s in ran):,}"
    assert shown["At risk"] == f"{len(risky):,}"
    assert shown["Cancelled"] == f"{sum(s.status == 'cancelled' for s in sessions):,}"


def test_dashboard_has_every_chart_with_a_line_saying_what_to_read(demo_db_url, use_database):
    use_database(demo_db_url)
    at = run_page("pages/3_Occupancy.py")
    charts = at.get("plotly_chart")
    assert len(charts) == 6  # five, and the requalification demand of the next 12 months
    reads = [c.value for c in at.caption if c.value.startswith("**What to read:**")]
    assert len(reads) == 7  # six charts and the next-14-days table
    table = table_with(at, "Places left")
    assert list(table.columns[:2]) == ["Risk", "Date"]
    flagged = list(table["Risk"] != "")
    assert flagged == sorted(flagged, reverse=True)  # at-risk sessions come first


def test_dashboard_follows_the_filters_in_the_link(demo_db_url, use_database):
    use_database(demo_db_url)
    start, end = _dashboard_range()
    only = [s for s in find_sessions(get_engine(demo_db_url), start, end, course_types=["First Aid at Work"],
                                     locations=["Location A"])]
    at = run_page("pages/3_Occupancy.py", course="FAW", location="A", **{"from": start.isoformat(),
                                                                         "to": end.isoformat()})
    assert metrics(at)["Sessions run"] == f"{len(only):,}"
    assert "First Aid at Work" in texts(at.markdown) and "Location A" in texts(at.markdown)


def test_dashboard_recomputes_only_when_the_change_version_moves(writable_demo_db_url, use_database, monkeypatch):
    use_database(writable_demo_db_url)
    calls = []
    real = data.occupancy_report  # the dashboard's cached read lives in ui/data.py
    monkeypatch.setattr(data, "occupancy_report", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = run_page("pages/3_Occupancy.py")
    sold = int(metrics(at)["Places sold"].replace(",", ""))
    at.run()
    assert len(calls) == 1  # nothing changed: the figures came from the cache

    engine = get_engine(writable_demo_db_url)
    target = next(s for s in find_sessions(engine, today() + dt.timedelta(days=2), _dashboard_range()[1])
                  if s.status == "scheduled" and s.remaining >= 2)
    booking.book(engine, target.id, contact_name="Zoë O'Brien", contact_email="zoe@example.co.uk", seats=2, actor=STAFF)
    at.run()
    assert len(calls) == 2
    assert int(metrics(at)["Places sold"].replace(",", "")) == sold + 2


# --------------------------------------------------------------------------- schedule


def _tab(at: AppTest, label: str):
    return next(t for t in at.tabs if t.label == label)


def test_creating_one_session_from_the_form(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    day = today() + dt.timedelta(days=200)
    at = run_page("pages/4_Schedule.py")
    at.selectbox(key=OK.ONE_COURSE).set_value("CPR and AED")
    at.date_input(key=OK.ONE_DATE).set_value(day)
    at.time_input(key=OK.ONE_START).set_value(dt.time(13, 30))
    at.time_input(key=OK.ONE_END).set_value(dt.time(16, 30))
    at.radio(key=OK.ONE_LOCATION).set_value("Location B")
    at.number_input(key=OK.ONE_CAPACITY).set_value(8)
    at.button(key=OK.ONE_SUBMIT).click().run()
    assert not at.exception
    assert "Created CPR and AED" in texts(at.success)
    made = find_sessions(get_engine(writable_demo_db_url), day, day)
    assert [(s.course_type, s.start_time, s.location, s.max_capacity) for s in made] == [
        ("CPR and AED", dt.time(13, 30), "Location B", 8)]


def test_series_preview_lists_every_date_and_creates_them(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    first = today() + dt.timedelta(days=300)
    first -= dt.timedelta(days=first.weekday())  # a Monday, far from the demo schedule
    at = run_page("pages/4_Schedule.py")
    at.date_input(key=OK.SER_FIRST).set_value(first)
    at.number_input(key=OK.SER_WEEKS).set_value(3)
    at.text_input(key=OK.SER_SKIP).set_value(f"{first + dt.timedelta(days=8):%d/%m/%Y}").run()
    preview = table_with(at, "Outcome")
    assert len(preview) == 6  # Tue and Thu for 3 weeks
    assert (preview["Outcome"] == "Skipped (as asked)").sum() == 1
    at.button(key=OK.SER_CREATE).click().run()
    assert "Created 5 sessions" in texts(at.success)
    made = find_sessions(get_engine(writable_demo_db_url), first, first + dt.timedelta(weeks=3))
    assert len(made) == 5 and {s.session_date.weekday() for s in made} == {1, 3}


def _booked_session(url: str):
    engine = get_engine(url)
    start = today() + dt.timedelta(days=1)
    return next(s for s in find_sessions(engine, start, start + dt.timedelta(weeks=8))
                if s.status == "scheduled" and s.current_bookings >= 2)


def test_lowering_capacity_below_the_bookings_says_who_would_not_fit(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    s = _booked_session(writable_demo_db_url)
    at = run_page("pages/4_Schedule.py")
    at.selectbox(key=OK.EDIT_PICK).set_value(str(s.id))
    at.run()
    at.number_input(key=OK.edit_field(s.id, "capacity")).set_value(1)
    at.button(key=OK.edit_field(s.id, "cap_save")).click().run()
    # First a preview: the newest bookings that would not fit, by reference; nothing changed yet.
    shown = texts(at.markdown)
    assert "would no longer fit" in shown and "BK-" in shown
    engine = get_engine(writable_demo_db_url)
    assert next(x for x in find_sessions(engine, s.session_date, s.session_date) if x.id == s.id).max_capacity == s.max_capacity


def test_cancelling_a_session_lists_its_bookings_for_rebooking(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    s = _booked_session(writable_demo_db_url)
    engine = get_engine(writable_demo_db_url)
    refs = {b.reference for b in booking.list_bookings(engine, s.id)}
    at = run_page("pages/4_Schedule.py")
    at.selectbox(key=OK.EDIT_PICK).set_value(str(s.id))
    at.run()
    at.text_input(key=OK.CANCEL_REASON).set_value("Instructor ill")
    at.button(key=OK.CANCEL_SUBMIT).click().run()  # shows who is affected first
    at.button(key="ops_preview_confirm").click().run()
    assert "marked for rebooking; nothing was deleted" in texts(at.warning)
    listed = table_with(at, "Reference")
    assert set(listed["Reference"]) == refs
    with engine.connect() as conn:
        statuses = set(conn.execute(sa.text("SELECT status FROM bookings WHERE session_id = :s"),
                                    {"s": s.id}).scalars())
    assert statuses == {"rebook"}


def _csv(*rows: str) -> bytes:
    return ("\r\n".join([",".join(COLUMNS), *rows]) + "\r\n").encode("utf-8")


def test_importing_a_file_with_a_bad_row_shows_each_problem_and_imports_nothing(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    day = today() + dt.timedelta(days=250)
    engine = get_engine(writable_demo_db_url)
    before = len(find_sessions(engine, day, day + dt.timedelta(days=1)))
    at = run_page("pages/4_Schedule.py")
    uploader = next(u for u in at.get("file_uploader") if u.key and u.key.startswith(OK.IMP_UPLOAD))
    uploader.upload("sessions.csv", _csv(f"EFAW,{day.isoformat()},09:00,16:00,A,,",
                                         f"Yoga,{day.isoformat()},09:00,16:00,B,,"), "text/csv").run()
    assert "nothing will be imported" in texts(at.error)
    problems = table_with(at, "Problem")
    assert list(problems[["Line", "Column"]].itertuples(index=False, name=None)) == [(3, "course_type")]
    assert not [b for b in at.button if b.key == OK.IMP_IMPORT]
    assert len(find_sessions(engine, day, day + dt.timedelta(days=1))) == before


def test_importing_a_good_file_creates_every_row(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    day = today() + dt.timedelta(days=250)
    at = run_page("pages/4_Schedule.py")
    uploader = next(u for u in at.get("file_uploader") if u.key and u.key.startswith(OK.IMP_UPLOAD))
    uploader.upload("sessions.csv", _csv(f"EFAW,{day.isoformat()},09:00,16:00,A,,Zoë's group",
                                         f"PFA,{day:%d/%m/%Y},09:30,16:30,B,10,"), "text/csv").run()
    assert "All 2 rows are good" in texts(at.success)
    at.button(key=OK.IMP_IMPORT).click().run()
    assert "Imported 2 sessions from sessions.csv" in texts(at.success)
    made = find_sessions(get_engine(writable_demo_db_url), day, day)
    assert sorted(s.short_code for s in made) == ["EFAW", "PFA"]


# --------------------------------------------------------------------------- exports


def test_exports_page_offers_every_file_the_export_route_and_the_matching_command(demo_db_url, use_database):
    use_database(demo_db_url)
    at = run_page("pages/5_Exports.py", course="EFAW", location="B")
    labels = {b.key: b for b in at.get("download_button")}
    assert {OK.EXP_CSV, OK.EXP_XLSX, OK.EXP_ICS} <= set(labels)
    command = texts(at.code)
    assert "python -m core export --format xlsx" in command and "--course-type EFAW --location B" in command
    assert "/api/export?format=xlsx&from=" in command and "courseType=EFAW&location=B" in command
    assert 'Authorization: Bearer $FEED_TOKEN' in command


def test_a_large_workbook_is_built_on_the_page_with_progress_then_offered(demo_db_url, use_database, monkeypatch):
    use_database(demo_db_url)
    monkeypatch.setattr(ops, "LARGE_EXPORT_SESSIONS", 1)  # the demo's weeks count as large
    at = run_page("pages/5_Exports.py")
    assert OK.EXP_XLSX not in {b.key for b in at.get("download_button")}
    at.button(key=OK.EXP_XLSX_PREPARE).click().run()
    assert not at.exception
    assert OK.EXP_XLSX in {b.key for b in at.get("download_button")}
    assert any(str(s.label).startswith("Workbook ready") for s in at.status)
    wb = openpyxl.load_workbook(io.BytesIO(at.session_state[OK.EXP_XLSX_READY][1]))
    assert wb.sheetnames == ["Summary", "Sessions", "Bookings"]
    at.run()  # built once: the next run offers it without the Prepare button
    assert OK.EXP_XLSX in {b.key for b in at.get("download_button")}
    assert OK.EXP_XLSX_PREPARE not in {b.key for b in at.button}


def test_register_download_for_a_day_is_a_workbook_with_a_sheet_per_session(demo_db_url, use_database):
    use_database(demo_db_url)
    engine = get_engine(demo_db_url)
    day = next(s.session_date for s in find_sessions(engine, today(), today() + dt.timedelta(days=30))
               if s.current_bookings)
    at = run_page("pages/5_Exports.py")
    at.date_input(key=OK.REG_DAY).set_value(day).run()
    assert not at.exception
    on_day = [s for s in find_sessions(engine, day, day)]
    from core.exports import load_registers, register_xlsx

    wb = openpyxl.load_workbook(io.BytesIO(register_xlsx(load_registers(engine, day=day))))
    assert len(wb.worksheets) == len(on_day)
    assert f"Every session that day ({len(on_day)})" in [o for o in at.selectbox(key=OK.REG_SESSION).options]


# --------------------------------------------------------------------------- real browser


@pytest.mark.browser
def test_occupancy_dashboard_in_the_browser_at_desktop_width(app_server, new_page, screenshots):
    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 2600})
    page.goto(app_server.url + "/Occupancy")
    expect(page.get_by_text("live, updated").first).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.locator(".js-plotly-plot")).to_have_count(6, timeout=FIRST_RENDER_MS)  # plotly.js loads on first use; the sixth: requalification demand
    expect(page.get_by_text("Fill rate by week and course").first).to_be_visible()
    expect(page.locator("[data-testid='stMetric']")).to_have_count(6)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    page.screenshot(path=str(screenshots / "ops_occupancy_desktop.png"))


@pytest.mark.browser
def test_schedule_series_preview_in_the_browser(app_server, new_page, screenshots):
    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 1500})
    page.goto(app_server.url + "/Schedule")
    page.get_by_role("tab", name="Recurring series").click(timeout=FIRST_RENDER_MS)
    expect(page.get_by_text("Preview:").first).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_role("button", name="Create", exact=False).last).to_be_visible()
    page.screenshot(path=str(screenshots / "ops_schedule_series_desktop.png"))


@pytest.mark.browser
def test_exports_page_in_the_browser_with_the_register_preview(app_server, new_page, screenshots):
    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 1700})
    page.goto(app_server.url + "/Exports")
    expect(page.get_by_role("button", name="Excel workbook")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_text("python -m core export").first).to_be_visible()
    page.screenshot(path=str(screenshots / "ops_exports_desktop.png"))
