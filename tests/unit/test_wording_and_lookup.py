"""The rules written once: words for counts and states, what people type (a site, a course, a
UK date), the check of a session's fields, and which errors are refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from core import errors, validation
from core.lookup import course_named, location_named, uk_date
from core.models import CourseType
from core.wording import count, places, session_label, state_label

TYPES = [CourseType("First Aid at Work", "FAW", "#123456"), CourseType("Emergency First Aid at Work", "EFAW", "#654321")]


def test_one_place_is_singular_and_every_other_count_plural():
    assert [places(n) for n in (0, 1, 2)] == ["0 places", "1 place", "2 places"]
    assert count(1, "change") == "1 change" and count(1200, "session") == "1,200 sessions"


def test_state_labels_read_as_words_and_an_unknown_state_as_itself():
    assert state_label("almost_full") == "Almost full" and state_label("running") == "Running (started)"
    assert state_label("paused") == "paused"


def test_a_sessions_label_names_course_day_and_site():
    day = dt.date(2025, 12, 2)
    assert session_label("First Aid at Work", day, "Location A") == "First Aid at Work, Tue 2 Dec, Location A"
    assert (session_label("First Aid at Work", day, "Location A", start=dt.time(9), year=True)
            == "First Aid at Work, Tue 2 Dec 2025 09:00, Location A")


@pytest.mark.parametrize("typed", ["A", "a", " Location A ", "location a", "LOCATION A"])
def test_a_site_is_found_by_its_letter_or_its_name_in_any_case(typed):
    assert location_named(typed) == "Location A"


@pytest.mark.parametrize("typed", ["C", "Location", "", "Location AB"])
def test_a_name_that_is_no_site_finds_none(typed):
    assert location_named(typed) is None


def test_a_course_is_found_by_its_name_or_code_in_any_case_and_nothing_else():
    assert course_named(TYPES, "efaw") == "Emergency First Aid at Work"
    assert course_named(TYPES, " first aid at work ") == "First Aid at Work"
    assert course_named(TYPES, "First Aid") is None


def test_dates_are_read_as_written_in_the_uk_or_iso_and_nonsense_is_refused():
    assert uk_date("24/12/2025") == uk_date("2025-12-24") == uk_date("24/12/2025 ") == dt.date(2025, 12, 24)
    assert uk_date("1/3/2026") == dt.date(2026, 3, 1)
    for bad in ("31/02/2026", "12/24/2025", "tomorrow", "2025-13-01"):
        with pytest.raises(ValueError):
            uk_date(bad)


def test_every_bad_field_of_a_session_is_named_at_once():
    spec = dict(course_type="Yoga", session_date="2026-02-30", start_time="16:00", end_time="09:00",
                location="Location C", max_capacity=13, instructor_notes="x" * 2001)
    _, problems = validation.session_fields(spec, limit=12, course_names={"First Aid at Work"})
    assert [p.field for p in problems] == ["course_type", "session_date", "end_time", "location", "max_capacity",
                                           "instructor_notes"]
    with pytest.raises(errors.InvalidInput, match="not a course type"):
        validation.session(spec, limit=12, course_names={"First Aid at Work"})


def test_an_unreachable_database_or_a_bad_setting_is_no_refusal_but_still_the_cores_own_error():
    away, config = errors.DatabaseUnavailable("postgresql://db", "timeout"), errors.ConfigError("APP_NOW is bad.")
    for exc in (away, config):
        assert isinstance(exc, errors.CoreError) and not isinstance(exc, errors.BookingError)
    assert isinstance(errors.SessionFull(1, "First Aid at Work, Tue 2 Dec, Location A", 2), errors.BookingError)
    assert "Only 1 place left" in str(errors.SessionFull(1, "First Aid at Work, Tue 2 Dec, Location A", 2))
