"""Exports read back by independent readers (pandas, openpyxl, icalendar) and compared with
the database, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import icalendar
import openpyxl
import pandas as pd
import pytest

from core import booking
from core.availability import find_sessions
from core.exports import (
    FORMULA_TRIGGERS,
    PROGRESS_EVERY,
    ExportScope,
    export_sessions,
    load_registers,
    neutralise,
    register_html,
    register_xlsx,
    sessions_csv,
    sessions_ics,
    sessions_xlsx,
)
from core.sessions import cancel_session, create_session
from tests.actors import ADMIN, STAFF
from tests.office import OFFICE, needs_office

PROJECT = Path(__file__).resolve().parents[2]
EVIL = '=HYPERLINK("http://evil.example/x","Click me")'
NAMES = ["Zoë O'Brien", "Łukasz Nowak", "@admin", "+44 7700 900123"]


@pytest.fixture
def day(future_day) -> dt.date:
    return future_day


@pytest.fixture
def data(engine, day):
    s1 = create_session(engine, course_type="First Aid at Work", session_date=day, start_time="09:00",
                        end_time="16:30", location="Location A", instructor_notes="=1+1 Zoë's group, Łukasz leads", actor=ADMIN)
    s2 = create_session(engine, course_type="Emergency First Aid at Work", session_date=day, start_time="09:30",
                        end_time="16:00", location="Location B", max_capacity=10, actor=ADMIN)
    s3 = create_session(engine, course_type="CPR and AED", session_date=day + dt.timedelta(days=1),
                        start_time="13:30", end_time="16:30", location="Location A", actor=ADMIN)
    group = booking.book(engine, s1.id, contact_name=EVIL, contact_email="boss@example.co.uk", seats=5,
                         attendees=NAMES, company="-Minus Ltd", actor=STAFF)
    single = booking.book(engine, s1.id, contact_name="Siobhán Ní Bhriain", contact_email="sb@example.ie", actor=STAFF)
    pair = booking.book(engine, s2.id, contact_name="Tom <script>alert(1)</script>", contact_email="tom@example.com",
                        seats=2, attendees=["Tom <b>Clarke</b>", "Ava & Mia"], actor=STAFF)
    cancel_session(engine, s3.id, reason="Room flooded", actor=ADMIN)
    scope = ExportScope(day, day + dt.timedelta(days=1))
    return dict(s1=s1, s2=s2, s3=s3, group=group, single=single, pair=pair, scope=scope)


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_text_starting_with_a_formula_trigger_is_prefixed_with_an_apostrophe(trigger):
    assert neutralise(trigger + "SUM(A1)") == "'" + trigger + "SUM(A1)"


def test_booking_times_in_local_time_match_one_by_one_conversion_across_the_clock_changes():
    from zoneinfo import ZoneInfo

    from core.exports import LocalTime, utc_to_local

    tz = ZoneInfo("Europe/London")
    to_local = LocalTime(tz)
    for first in (dt.datetime(2031, 3, 30, 0, 0, 1, 500), dt.datetime(2031, 10, 26, 0, 0, 7)):
        moments = [first + dt.timedelta(minutes=13 * i, seconds=i) for i in range(30)]
        assert [to_local(m) for m in moments] == [utc_to_local(m, tz) for m in moments]
    assert to_local(None) is None


def test_ordinary_text_and_numbers_are_left_alone():
    assert neutralise("Zoë O'Brien") == "Zoë O'Brien"
    assert neutralise(-3) == -3


# --------------------------------------------------------------------------- CSV


def test_sessions_csv_read_by_pandas_matches_the_database(engine, data):
    sessions = find_sessions(engine, data["scope"].start, data["scope"].end)
    frame = pd.read_csv(io.BytesIO(sessions_csv(sessions)), dtype=str, keep_default_na=False)
    assert len(frame) == len(sessions) == 2
    for (_, row), s in zip(frame.iterrows(), sessions):
        assert row["Date"] == s.session_date.isoformat()
        assert (row["Start"], row["End"]) == (f"{s.start_time:%H:%M}", f"{s.end_time:%H:%M}")
        assert (row["Course"], row["Location"], row["Session ID"]) == (s.course_type, s.location, str(s.id))
        assert (int(row["Capacity"]), int(row["Booked"]), int(row["Held"]), int(row["Places left"])) == (
            s.max_capacity, s.current_bookings, s.held, s.remaining)
    assert list(frame["Booked"].astype(int)) == [6, 2]


def test_sessions_csv_neutralises_formulas_and_keeps_accents(engine, data):
    sessions = find_sessions(engine, data["scope"].start, data["scope"].end)
    raw = sessions_csv(sessions)
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel then reads UTF-8 accents right
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    assert frame.loc[0, "Instructor notes"] == "'=1+1 Zoë's group, Łukasz leads"


def test_cancelled_sessions_are_exported_only_when_asked_for(engine, data):
    scope = data["scope"]
    without = export_sessions(engine, scope, "csv")
    with_cancelled = export_sessions(engine, ExportScope(scope.start, scope.end, include_cancelled=True), "csv")
    assert (without.sessions, with_cancelled.sessions) == (2, 3)
    frame = pd.read_csv(io.BytesIO(with_cancelled.data), dtype=str)
    assert frame.loc[frame["Session ID"] == str(data["s3"].id), "Status"].item() == "cancelled"


# --------------------------------------------------------------------------- Excel


def _xlsx(engine, scope):
    return openpyxl.load_workbook(io.BytesIO(sessions_xlsx(engine, scope)))


def test_workbook_has_summary_sessions_and_bookings_sheets_with_frozen_headers(engine, data):
    wb = _xlsx(engine, data["scope"])
    assert wb.sheetnames == ["Summary", "Sessions", "Bookings"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws["A1"].font.b
    widths = {ws.title: ws.column_dimensions["E"].width for ws in wb.worksheets[1:]}
    assert widths["Sessions"] >= len("Emergency First Aid at Work")


def test_sessions_sheet_has_typed_cells_equal_to_the_database(engine, data):
    ws = _xlsx(engine, data["scope"])["Sessions"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    cells = {c.column_letter: c for c in ws[2]}
    sessions = find_sessions(engine, data["scope"].start, data["scope"].end)
    assert len(rows) == len(sessions)
    for row, s in zip(rows, sessions):
        assert row["Date"] == dt.datetime.combine(s.session_date, dt.time())  # a real date cell
        assert (row["Start"], row["End"]) == (s.start_time, s.end_time)
        assert (row["Capacity"], row["Booked"], row["Places left"]) == (s.max_capacity, s.current_bookings, s.remaining)
        assert row["Fill rate"] == pytest.approx(s.current_bookings / s.max_capacity, abs=1e-4)
        assert row["Course"] == s.course_type and row["Session ID"] == str(s.id)
    assert cells["A"].number_format == "dd/mm/yyyy" and cells["C"].number_format == "hh:mm"
    assert cells["L"].number_format == "0%" and cells["H"].data_type == "n"


def test_bookings_sheet_keeps_a_formula_looking_name_as_text(engine, data):
    ws = _xlsx(engine, data["scope"])["Bookings"]
    header = [c.value for c in ws[1]]
    rows = {r[header.index("Reference")].value: r for r in ws.iter_rows(min_row=2)}
    group = rows[data["group"].reference]
    contact = group[header.index("Contact name")]
    assert contact.value == EVIL and contact.data_type == "s" and contact.quotePrefix
    assert group[header.index("Company")].value == "-Minus Ltd"
    assert group[header.index("Attendees")].value == "; ".join(NAMES)
    assert rows[data["single"].reference][header.index("Contact name")].value == "Siobhán Ní Bhriain"
    assert isinstance(group[header.index("Booked at")].value, dt.datetime)


def test_no_cell_of_any_export_workbook_is_a_formula(engine, data):
    books = [_xlsx(engine, data["scope"]),
             openpyxl.load_workbook(io.BytesIO(register_xlsx(load_registers(engine, day=data["scope"].start))))]
    for wb in books:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                assert all(c.data_type != "f" for c in row), ws.title


def test_summary_sheet_totals_match_the_sessions(engine, data):
    ws = _xlsx(engine, data["scope"])["Summary"]
    summary = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2)}
    formats = {r[0].value: r[1].number_format for r in ws.iter_rows(min_row=2)}
    assert summary["Sessions (not cancelled)"] == 2
    assert summary["Fill rate"] == pytest.approx(8 / 22, abs=1e-4) and formats["Fill rate"] == "0%"
    assert summary["Places sold"] == 8 and summary["Capacity"] == 22
    assert summary["Bookings listed"] == 3


def test_workbook_reports_its_progress_up_to_every_row_written(engine, data):
    calls = []
    made = export_sessions(engine, data["scope"], "xlsx", progress=lambda done, total: calls.append((done, total)))
    wb = openpyxl.load_workbook(io.BytesIO(made.data))
    rows = sum(ws.max_row - 1 for ws in wb.worksheets)  # every sheet less its header
    assert calls[0] == (0, rows) and calls[-1] == (rows, rows)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and {t for _, t in calls} == {rows}


def _unescaped(text):
    """Text as Excel shows it: control characters are stored as _xHHHH_ (ECMA-376 ST_Xstring),
    which Excel and LibreOffice decode and openpyxl leaves as stored."""
    import re

    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), text) if isinstance(text, str) else text


def _table_workbook(rows, headers=("When", "Text", "Number")) -> bytes:
    """A workbook of one table sheet written the way the sessions workbook is."""
    from core.exports import xlsx_stream

    buf = io.BytesIO()
    calls, done = [], 0

    def tick(rows):
        nonlocal done
        done += rows
        calls.append(done)

    with xlsx_stream.Workbook(buf) as wb:
        wb.table_sheet("Table", headers, rows, progress=tick)
    return buf.getvalue(), calls


def test_large_table_sheet_streams_typed_cells_read_back_by_openpyxl():
    start = dt.datetime(2031, 3, 29, 23, 0)
    rows = [(start + dt.timedelta(minutes=7 * i), f"{FORMULA_TRIGGERS[i % 6]}SUM(A{i})" if i % 5 == 0 else f"row {i}", i * 0.5)
            for i in range(PROGRESS_EVERY * 2 + 17)]
    rows.append((dt.date(2031, 4, 1), "bell\x07 and tab\tinside", None))
    rows.append((dt.time(9, 30), "two\nlines", 3))
    data, calls = _table_workbook(rows)
    assert calls == [PROGRESS_EVERY, PROGRESS_EVERY * 2, len(rows)]
    ws = openpyxl.load_workbook(io.BytesIO(data))["Table"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:C{len(rows) + 1}"
    assert [c.value for c in ws[1]] == ["When", "Text", "Number"] and ws["A1"].font.b
    read = list(ws.iter_rows(min_row=2))
    assert len(read) == len(rows)
    for cells, row in zip(read[:-2], rows):
        assert cells[0].value == row[0] and cells[0].number_format == "dd/mm/yyyy hh:mm"
        assert _unescaped(cells[1].value) == row[1] and cells[1].data_type == "s"
        assert cells[1].quotePrefix == row[1].startswith(FORMULA_TRIGGERS)
        assert cells[2].value == row[2]
    assert read[-2][0].value == dt.datetime(2031, 4, 1) and read[-2][0].number_format == "dd/mm/yyyy"
    assert _unescaped(read[-2][1].value) == "bell\x07 and tab\tinside" and read[-2][2].value is None
    assert read[-1][0].value == dt.time(9, 30) and read[-1][0].number_format == "hh:mm"
    assert ws.column_dimensions["A"].width >= 16 and ws.column_dimensions["B"].width >= len("bell. and tab.inside")


@needs_office
def test_libreoffice_reads_the_workbook(engine, data, tmp_path):
    """A reader written by neither this project nor the writer's authors: LibreOffice's own."""
    made = export_sessions(engine, data["scope"], "xlsx")
    (tmp_path / "sessions.xlsx").write_bytes(made.data)
    office = OFFICE or "soffice"
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
                    "--outdir", str(tmp_path), str(tmp_path / "sessions.xlsx")],
                   check=True, capture_output=True, timeout=120)
    bookings = pd.read_csv(tmp_path / "sessions-Bookings.csv", dtype=str, keep_default_na=False)
    group = bookings[bookings["Reference"] == data["group"].reference].iloc[0]
    assert group["Contact name"] == EVIL and group["Attendees"] == "; ".join(NAMES)
    sessions = pd.read_csv(tmp_path / "sessions-Sessions.csv", dtype=str)
    assert set(sessions["Session ID"]) == {str(data["s1"].id), str(data["s2"].id)}
    assert set(sessions["Date"]) == {f"{data['s1'].session_date:%d/%m/%Y}"}


# --------------------------------------------------------------------------- registers


def _register_rows(ws):
    header_row = next(r[0].row for r in ws.iter_rows() if r[0].value == "No.")
    header = [c.value for c in ws[header_row]]
    return header, [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=header_row + 1)]


def test_register_has_one_row_per_place_with_an_empty_signature_column(engine, data):
    wb = openpyxl.load_workbook(io.BytesIO(register_xlsx(load_registers(engine, session_id=data["s1"].id))))
    assert len(wb.worksheets) == 1
    header, rows = _register_rows(wb.worksheets[0])
    assert header[-1] == "Signature"
    assert len(rows) == 6  # 5 places + 1 place booked
    names = [r["Attendee"] for r in rows]
    assert set(NAMES) | {"Siobhán Ní Bhriain"} <= set(names)
    assert f"Name to be given (booked by {EVIL})" in names  # 5 places, 4 names given
    assert all(r["Signature"] in (None, "") for r in rows)
    assert [r["No."] for r in rows] == list(range(1, 7))


def test_register_for_a_day_has_a_sheet_per_session_that_runs(engine, data):
    registers = load_registers(engine, day=data["scope"].start)
    assert [r.session.id for r in registers] == [data["s1"].id, data["s2"].id]
    wb = openpyxl.load_workbook(io.BytesIO(register_xlsx(registers)))
    assert len(wb.worksheets) == 2
    _, rows = _register_rows(wb.worksheets[1])
    assert sorted(r["Attendee"] for r in rows) == sorted(["Tom <b>Clarke</b>", "Ava & Mia"])


def test_printable_register_escapes_every_value(engine, data):
    page = register_html(load_registers(engine, day=data["scope"].start))
    assert "<script>alert" not in page and "<b>Clarke" not in page
    assert "Tom &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Tom &lt;b&gt;Clarke&lt;/b&gt;" in page and "Ava &amp; Mia" in page
    assert "Zoë O&#x27;Brien" in page and "Łukasz Nowak" in page
    assert page.count("<section>") == 2 and "@page { size: A4 landscape" in page


# --------------------------------------------------------------------------- iCalendar


def test_ics_read_by_icalendar_has_one_local_time_event_per_session(engine, data):
    sessions = find_sessions(engine, data["scope"].start, data["scope"].end)
    raw = sessions_ics(sessions)
    cal = icalendar.Calendar.from_ical(raw)
    timezones = cal.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["Europe/London"]
    events = cal.walk("VEVENT")
    assert len(events) == len(sessions) == 2
    for ev, s in zip(events, sessions):
        start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")
        assert str(start.tzinfo) == "Europe/London"
        assert start.replace(tzinfo=None) == s.starts_at and end.replace(tzinfo=None) == s.ends_at
        assert str(ev["LOCATION"]) == s.location
        assert f"{s.remaining} places left" in str(ev["SUMMARY"])
        assert f"Places left: {s.remaining} of {s.max_capacity}" in str(ev["DESCRIPTION"])
        assert str(ev["UID"]).startswith(str(s.id))
    text = raw.decode()
    assert "DTSTART;TZID=Europe/London:" in text and "\r\n" in text


def test_ics_keeps_wall_clock_times_either_side_of_the_march_clock_change(engine, future_day):
    year = future_day.year + 1
    last_sunday = max(dt.date(year, 3, d) for d in range(25, 32) if dt.date(year, 3, d).weekday() == 6)
    before, after = last_sunday - dt.timedelta(days=1), last_sunday + dt.timedelta(days=1)
    for d in (before, after):
        create_session(engine, course_type="CPR and AED", session_date=d, start_time="09:00", end_time="12:00",
                       location="Location B", actor=ADMIN)
    events = icalendar.Calendar.from_ical(sessions_ics(find_sessions(engine, before, after))).walk("VEVENT")
    starts = [ev.decoded("DTSTART") for ev in events]
    assert [s.strftime("%H:%M") for s in starts] == ["09:00", "09:00"]
    assert [s.astimezone(dt.timezone.utc).strftime("%H:%M") for s in starts] == ["09:00", "08:00"]


def test_cancelled_session_in_the_feed_is_marked_cancelled(engine, data):
    sessions = find_sessions(engine, data["scope"].start, data["scope"].end, include_cancelled=True)
    events = icalendar.Calendar.from_ical(sessions_ics(sessions)).walk("VEVENT")
    status = {str(ev["UID"]).split("@")[0]: str(ev["STATUS"]) for ev in events}
    assert status[str(data["s3"].id)] == "CANCELLED"
    assert status[str(data["s1"].id)] == "CONFIRMED"


# --------------------------------------------------------------------------- command line


def _cli(*args, engine=None):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if engine is not None:
        from core.db import forget_engine

        forget_engine(engine)  # DuckDB: one process at a time may hold the file
        env["DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    return subprocess.run([sys.executable, "-m", "core", "export", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_command_line_export_writes_a_csv_that_matches_the_page_export(engine, data, tmp_path):
    scope = data["scope"]
    expected = pd.read_csv(io.BytesIO(export_sessions(engine, scope, "csv").data), dtype=str, keep_default_na=False)
    out = tmp_path / "sessions.csv"
    done = _cli("--format", "csv", "--from", str(scope.start), "--to", str(scope.end), "--output", str(out),
                engine=engine)
    assert done.returncode == 0, done.stderr
    assert "Exported 2 sessions" in done.stdout
    pd.testing.assert_frame_equal(pd.read_csv(out, dtype=str, keep_default_na=False), expected)


def test_command_line_filters_by_course_code_and_location_letter(engine, data, tmp_path):
    out = tmp_path / "efaw.ics"
    done = _cli("--format", "ics", "--from", str(data["scope"].start), "--to", str(data["scope"].end),
                "--course-type", "EFAW", "--location", "B", "--output", str(out), engine=engine)
    assert done.returncode == 0, done.stderr
    events = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert [str(ev["UID"]).split("@")[0] for ev in events] == [str(data["s2"].id)]


@pytest.mark.parametrize("args, says", [
    (["--format", "pdf", "--from", "2025-01-01", "--to", "2025-01-31", "--output", "x"], "invalid choice"),
    (["--format", "csv", "--from", "2025-13-01", "--to", "2025-01-31", "--output", "x"], "is not a date"),
    (["--format", "csv", "--from", "2025-02-01", "--to", "2025-01-31", "--output", "x"], "is before"),
    (["--format", "csv", "--from", "2025-01-01", "--to", "2025-01-31"], "required: --output"),
    (["--format", "csv", "--from", "2025-01-01", "--to", "2025-01-31", "--location", "C", "--output", "x"],
     "not a location"),
])
def test_bad_arguments_exit_non_zero_with_one_clear_line(args, says):
    done = _cli(*args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr


def test_an_export_while_the_app_holds_the_duckdb_file_says_to_use_the_export_route(make_database, tmp_path):
    import duckdb

    engine = make_database("duckdb")
    path = engine.url.database
    done_url = engine.url.render_as_string(hide_password=False)
    from core.db import forget_engine

    forget_engine(engine)
    held = duckdb.connect(path)  # the running app, in another process, holds the file like this
    try:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["DATABASE_URL"] = done_url
        done = subprocess.run([sys.executable, "-m", "core", "export", "--format", "csv", "--from", "2025-01-01",
                               "--to", "2025-01-31", "--output", str(tmp_path / "x.csv")], cwd=PROJECT, env=env,
                              capture_output=True, text=True, timeout=120)
    finally:
        held.close()
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "lock" in lines[0].lower() and "/api/export?format=" in lines[0], done.stderr
    assert not (tmp_path / "x.csv").exists()


def test_unknown_course_type_lists_the_known_ones(engine, data, tmp_path):
    done = _cli("--format", "csv", "--from", "2025-01-01", "--to", "2025-01-31", "--course-type", "Yoga",
                "--output", str(tmp_path / "x.csv"), engine=engine)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "'Yoga' is not a course" in lines[0] and "EFAW" in lines[0]
    assert not (tmp_path / "x.csv").exists()


def test_places_held_for_a_caller_are_not_offered_as_left_in_the_exports(engine, data):
    from core.holds import place_hold

    place_hold(engine, data["s2"].id, 3, held_by="Sam", actor=STAFF)
    frame = pd.read_csv(io.BytesIO(export_sessions(engine, data["scope"], "csv").data), dtype=str)
    row = frame[frame["Session ID"] == str(data["s2"].id)].iloc[0]
    assert (row["Capacity"], row["Booked"], row["Held"], row["Places left"]) == ("10", "2", "3", "5")
    events = icalendar.Calendar.from_ical(export_sessions(engine, data["scope"], "ics").data).walk("VEVENT")
    summary = {str(ev["UID"]).split("@")[0]: str(ev["SUMMARY"]) for ev in events}
    assert summary[str(data["s2"].id)] == "Emergency First Aid at Work - 5 places left"
