"""Schedule management: recurring series (with clashes and the clock changes) and CSV
import (all rows or none), on DuckDB and PostgreSQL where a database is involved."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core import config
from core.availability import find_sessions
from core.errors import InvalidInput
from core.importer import COLUMNS, check_sessions_csv, import_sessions_csv, template_csv
from core.recurrence import SeriesSpec, create_series, overlaps, preview_series, series_dates
from core.sessions import create_session
from tests.conftest import count_rows
from tests.actors import ADMIN
from core.access import Actor

LONDON = ZoneInfo("Europe/London")
TUE, THU, SAT, SUN, MON = 1, 3, 5, 6, 0


def _last_sunday(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 31)
    return day - dt.timedelta(days=(day.weekday() - 6) % 7)


def _spec(**changes) -> SeriesSpec:
    base = dict(course_type="First Aid at Work", first_date=dt.date(2031, 3, 3), weekdays=(TUE, THU), weeks=10,
                start_time=dt.time(9), end_time=dt.time(16, 30), location="Location A")
    return SeriesSpec(**(base | changes))


# --------------------------------------------------------------------------- the rule


def test_tuesdays_and_thursdays_for_ten_weeks_give_twenty_dates():
    dates, skipped = series_dates(_spec())
    assert len(dates) == 20 and skipped == []
    assert {d.weekday() for d in dates} == {TUE, THU}
    assert dates[0] == dt.date(2031, 3, 4) and dates[-1] == dt.date(2031, 5, 8)


def test_skipped_dates_are_left_out_and_listed():
    holidays = (dt.date(2031, 4, 15), dt.date(2031, 4, 17), dt.date(2031, 4, 16))  # the 16th is a Wednesday
    dates, skipped = series_dates(_spec(skip_dates=holidays))
    assert len(dates) == 18
    assert skipped == [dt.date(2031, 4, 15), dt.date(2031, 4, 17)]
    assert not set(holidays) & set(dates)


def test_a_last_date_ends_the_series_on_that_day_inclusive():
    dates, _ = series_dates(_spec(weeks=None, last_date=dt.date(2031, 3, 13)))
    assert dates == [dt.date(2031, 3, 4), dt.date(2031, 3, 6), dt.date(2031, 3, 11), dt.date(2031, 3, 13)]


@pytest.mark.parametrize("changes, field", [
    (dict(weekdays=()), "weekdays"),
    (dict(weeks=0), "weeks"),
    (dict(weeks=None), "weeks"),
    (dict(last_date=dt.date(2031, 4, 1)), "weeks"),
    (dict(end_time=dt.time(9)), "end_time"),
    (dict(location="Location C"), "location"),
    (dict(weekdays=(SAT,), weeks=None, last_date=dt.date(2031, 3, 7)), "weekdays"),
])
def test_a_rule_that_cannot_work_says_which_field_to_fix(changes, field):
    with pytest.raises(InvalidInput) as caught:
        series_dates(_spec(**changes))
    assert caught.value.field == field and str(caught.value).endswith(".")


@pytest.mark.parametrize("month", [3, 10])
def test_weekly_series_across_a_clock_change_keeps_the_local_start_time(month):
    change = _last_sunday(2031, month)
    dates, _ = series_dates(_spec(first_date=change - dt.timedelta(days=14), weekdays=(SAT, SUN, MON), weeks=4))
    assert change in dates and change - dt.timedelta(days=1) in dates and change + dt.timedelta(days=1) in dates
    offsets = {dt.datetime.combine(d, dt.time(9), tzinfo=LONDON).utcoffset() for d in dates}
    assert offsets == {dt.timedelta(0), dt.timedelta(hours=1)}  # the series really spans the change


def test_touching_sessions_do_not_overlap():
    assert not overlaps(dt.time(9), dt.time(12), dt.time(12), dt.time(16))
    assert overlaps(dt.time(9), dt.time(12, 30), dt.time(12), dt.time(16))


# --------------------------------------------------------------------------- with a database


def _future_spec(**changes) -> SeriesSpec:
    monday = config.today() + dt.timedelta(days=14)
    monday -= dt.timedelta(days=monday.weekday())
    return _spec(first_date=monday, **changes)


def test_series_is_created_at_once_with_the_same_wall_clock_times_across_the_march_change(engine):
    change = _last_sunday(config.today().year + 1, 3)
    spec = _spec(first_date=change - dt.timedelta(days=13), weekdays=(SAT, SUN, MON), weeks=3,
                 start_time=dt.time(9, 30), end_time=dt.time(12, 30), location="Location B")
    made = create_series(engine, spec, actor=Actor('office', "admin"))
    assert len(made) == 9
    stored = find_sessions(engine, spec.first_date, spec.until)
    assert [s.session_date for s in stored] == series_dates(spec)[0]
    assert {(s.start_time, s.end_time) for s in stored} == {(dt.time(9, 30), dt.time(12, 30))}
    assert change in {s.session_date for s in stored}


def test_preview_flags_dates_clashing_at_the_same_location_only(engine):
    spec = _future_spec(weeks=2)
    first_tue = spec.first_date + dt.timedelta(days=1)
    create_session(engine, course_type="CPR and AED", session_date=first_tue, start_time="15:00",
                   end_time="17:00", location="Location A", actor=ADMIN)
    create_session(engine, course_type="CPR and AED", session_date=first_tue + dt.timedelta(days=2),
                   start_time="10:00", end_time="12:00", location="Location B", actor=ADMIN)  # the other site: no clash
    create_session(engine, course_type="CPR and AED", session_date=first_tue + dt.timedelta(days=7),
                   start_time="16:30", end_time="18:00", location="Location A", actor=ADMIN)  # starts as ours ends: no clash
    preview = preview_series(engine, spec)
    assert len(preview.planned) == 4
    assert [p.session_date for p in preview.clashing] == [first_tue]
    assert preview.clashing[0].clash_text == "CPR 15:00-17:00"
    assert [s.location for s in preview.clashing[0].clashes] == ["Location A"]
    assert len(preview.creatable) == 3


def test_a_clashing_series_is_refused_whole_unless_clashes_are_skipped_or_allowed(engine):
    spec = _future_spec(weeks=2)
    first_tue = spec.first_date + dt.timedelta(days=1)
    create_session(engine, course_type="CPR and AED", session_date=first_tue, start_time="09:00",
                   end_time="12:00", location="Location A", actor=ADMIN)
    with pytest.raises(InvalidInput) as caught:
        create_series(engine, spec, actor=ADMIN)
    assert "1 date(s) clash" in str(caught.value) and f"{first_tue:%a %d %b}" in str(caught.value)
    assert count_rows(engine, "course_sessions") == 1
    skipped = create_series(engine, spec, on_clash="skip", actor=ADMIN)
    assert first_tue not in {s.session_date for s in skipped} and len(skipped) == 3


def test_allowing_clashes_creates_every_date(engine):
    spec = _future_spec(weeks=1)
    create_session(engine, course_type="CPR and AED", session_date=spec.first_date + dt.timedelta(days=1),
                   start_time="09:00", end_time="12:00", location="Location A", actor=ADMIN)
    assert len(create_series(engine, spec, on_clash="allow", actor=ADMIN)) == 2


def test_a_series_starting_in_the_past_is_refused(engine):
    spec = _spec(first_date=config.today() - dt.timedelta(days=7), weeks=2)
    with pytest.raises(InvalidInput, match="in the past"):
        create_series(engine, spec, actor=ADMIN)
    assert count_rows(engine, "course_sessions") == 0


# --------------------------------------------------------------------------- CSV import


def _csv(*rows: str, header: str = ",".join(COLUMNS)) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


def _day(n: int) -> dt.date:
    return config.today() + dt.timedelta(days=n)


def test_the_template_imports_as_it_is(engine):
    report = import_sessions_csv(engine, template_csv(), actor=Actor('office', "admin"))
    assert report.problems == () and len(report.created) == 2
    assert {s.location for s in report.created} == {"Location A", "Location B"}


def test_a_good_file_imports_every_row_with_accents_intact(engine):
    data = _csv(
        f"First Aid at Work,{_day(20).isoformat()},09:00,16:30,Location A,12,Zoë O'Brien's group",
        f"cpr,{_day(21):%d/%m/%Y},9:30,12:30,b,,",
    ).decode().encode("cp1252")  # as Excel on Windows saves "CSV"
    report = import_sessions_csv(engine, data, actor=ADMIN)
    assert report.problems == ()
    made = {s.course_type: s for s in find_sessions(engine, _day(20), _day(21))}
    assert made["First Aid at Work"].instructor_notes == "Zoë O'Brien's group"
    assert (made["CPR and AED"].start_time, made["CPR and AED"].location, made["CPR and AED"].max_capacity) == (
        dt.time(9, 30), "Location B", 12)


def test_a_file_with_bad_rows_imports_nothing_and_names_line_column_and_reason(engine):
    data = _csv(
        f"First Aid at Work,{_day(20).isoformat()},09:00,16:30,Location A,12,",    # line 2: good
        f"Yoga,{_day(20).isoformat()},09:00,16:30,Location A,12,",                 # line 3: course
        f"EFAW,31/02/{_day(20).year + 1},09:00,16:30,Location A,12,",              # line 4: date
        f"EFAW,{_day(22).isoformat()},16:00,09:00,Location C,13,",                 # line 5: 3 cells
        "",                                                                         # line 6: blank
        f"EFAW,{_day(-3).isoformat()},09:00,16:00,A,,",                            # line 7: past
        f"First Aid at Work,{_day(20).isoformat()},09:00,16:30,A,12,",             # line 8: twice
    )
    before = count_rows(engine, "course_sessions")
    report = import_sessions_csv(engine, data, actor=ADMIN)
    assert count_rows(engine, "course_sessions") == before
    assert report.created == ()
    found = {(p.line, p.column) for p in report.problems}
    assert found == {(3, "course_type"), (4, "session_date"), (5, "end_time"), (5, "location"),
                     (5, "max_capacity"), (7, "session_date"), (8, "start_time")}
    by_place = {(p.line, p.column): p.message for p in report.problems}
    assert "'Yoga' is not a course type" in by_place[(3, "course_type")]
    assert "same session as line 2" in by_place[(8, "start_time")]
    assert str(report.problems[0]).startswith("line 3, course_type: ")


def test_a_row_already_on_the_schedule_is_a_problem_but_an_overlap_is_only_a_warning(engine):
    create_session(engine, course_type="CPR and AED", session_date=_day(20), start_time="09:00", end_time="12:00",
                   location="Location A", actor=ADMIN)
    again = check_sessions_csv(engine, _csv(f"CPR,{_day(20).isoformat()},09:00,12:00,A,,"))
    assert [(p.line, p.column) for p in again.problems] == [(2, "start_time")]
    assert "already on the schedule" in again.problems[0].message
    overlap = check_sessions_csv(engine, _csv(f"EFAW,{_day(20).isoformat()},10:00,16:00,A,,"))
    assert overlap.problems == () and len(overlap.warnings) == 1
    assert "overlaps CPR and AED 09:00-12:00" in overlap.warnings[0].message


@pytest.mark.parametrize("header, says", [
    ("course,date,start,end,site", "lacks the column(s) course_type, session_date"),
    (",".join(COLUMNS) + ",price", "Unknown column(s) 'price'"),
])
def test_a_wrong_header_is_reported_on_line_one(engine, header, says):
    report = check_sessions_csv(engine, _csv("x,y,z", header=header))
    assert report.problems[0].line == 1 and says in report.problems[0].message


def test_an_empty_file_says_to_start_from_the_template(engine):
    report = import_sessions_csv(engine, b"", actor=ADMIN)
    assert "template" in report.problems[0].message


def _import_args(*argv: str):
    import argparse

    from core.importer import add_import_parser

    parser = argparse.ArgumentParser(prog="python -m core")
    add_import_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["import-sessions", *argv])


def test_import_command_checks_then_imports_a_good_file(engine, tmp_path):
    from core.importer import import_command

    path = tmp_path / "sessions.csv"
    path.write_bytes(_csv(f"FAW,{_day(30).isoformat()},09:00,16:30,A,,", f"PFA,{_day(31).isoformat()},09:30,16:30,B,,"))
    assert "2 sessions are ready to import" in import_command(_import_args(str(path), "--check"), engine)
    assert count_rows(engine, "course_sessions") == 0
    assert import_command(_import_args(str(path)), engine) == f"Imported 2 sessions from {path}."
    assert count_rows(engine, "course_sessions") == 2


def test_import_command_lists_each_problem_and_imports_nothing(engine, tmp_path, capsys):
    from core.importer import import_command

    path = tmp_path / "bad.csv"
    path.write_bytes(_csv(f"FAW,{_day(30).isoformat()},09:00,16:30,A,,", f"FAW,{_day(31).isoformat()},09:00,16:30,Z,,"))
    with pytest.raises(InvalidInput, match="1 problem"):
        import_command(_import_args(str(path)), engine)
    assert "line 3, location: 'Z' is not a location" in capsys.readouterr().err
    assert count_rows(engine, "course_sessions") == 0
