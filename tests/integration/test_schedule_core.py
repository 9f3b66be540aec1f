"""Creating and editing sessions: bad input is refused with the field, nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from core import changes, errors, sessions
from core.availability import find_sessions
from tests.conftest import count_rows
from tests.actors import ADMIN, STAFF
from core.access import Actor

GOOD = dict(course_type="Paediatric First Aid", start_time="09:30", end_time="16:30", location="Location B")

BAD_SESSIONS = [
    (dict(session_date="2027-02-30"), "session_date"),
    (dict(session_date="30/11/2027"), "session_date"),
    (dict(end_time="09:00"), "end_time"),
    (dict(start_time="25:00"), "start_time"),
    (dict(location="Location C"), "location"),
    (dict(max_capacity=0), "max_capacity"),
    (dict(max_capacity=13), "max_capacity"),
    (dict(course_type="Underwater Basket Weaving"), "course_type"),
    (dict(course_type=""), "course_type"),
    (dict(instructor_notes="x" * 5000), "instructor_notes"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_SESSIONS, ids=[str(b) for b, _ in BAD_SESSIONS])
def test_a_bad_session_is_refused_naming_the_field_and_nothing_is_written(engine, future_day, bad, field):
    version = changes.latest_version(engine)
    with pytest.raises(errors.InvalidInput) as caught:
        sessions.create_session(engine, **(GOOD | {"session_date": future_day} | bad), actor=ADMIN)
    assert caught.value.field == field
    assert count_rows(engine, "course_sessions") == 0
    assert changes.latest_version(engine) == version


def test_a_series_with_one_bad_session_creates_none(engine, future_day):
    specs = [GOOD | {"session_date": future_day}, GOOD | {"session_date": future_day, "location": "Mars"}]
    with pytest.raises(errors.InvalidInput, match="Session 2"):
        sessions.create_sessions(engine, specs, actor=ADMIN)
    assert count_rows(engine, "course_sessions") == 0


@pytest.mark.parametrize("day", [dt.date(2027, 3, 28), dt.date(2027, 10, 31)], ids=["spring-forward", "fall-back"])
def test_sessions_on_dst_sundays_keep_their_local_date_and_times(engine, day):
    made = sessions.create_session(engine, **(GOOD | {"session_date": day, "start_time": "00:30", "end_time": "02:30"}), actor=ADMIN)
    found = find_sessions(engine, day, day)
    assert [(s.id, s.session_date, s.start_time, s.end_time) for s in found] == [
        (made.id, day, dt.time(0, 30), dt.time(2, 30))
    ]
    assert find_sessions(engine, day - dt.timedelta(days=1), day - dt.timedelta(days=1)) == []


def test_editing_a_session_records_before_and_after(engine, future_day):
    made = sessions.create_session(engine, **(GOOD | {"session_date": future_day}), actor=ADMIN)
    cursor = changes.feed_cursor(engine)
    edited = sessions.update_session(engine, made.id, location="Location A", instructor_notes="Room 2", actor=Actor('ops', "admin"))
    assert edited.location == "Location A" and edited.instructor_notes == "Room 2"
    [last] = changes.changes_since(engine, cursor).changes
    assert last.action == "session.updated" and last.actor == "ops"
    assert last.details["before"]["location"] == "Location B"
    assert last.details["after"]["location"] == "Location A"


def test_cancelled_sessions_are_hidden_unless_asked_for(engine, future_day):
    made = sessions.create_session(engine, **(GOOD | {"session_date": future_day}), actor=ADMIN)
    sessions.cancel_session(engine, made.id, actor=ADMIN)
    assert find_sessions(engine, future_day, future_day) == []
    shown = find_sessions(engine, future_day, future_day, include_cancelled=True)
    assert [s.state for s in shown] == ["cancelled"]
    with pytest.raises(errors.InvalidInput, match="already cancelled"):
        sessions.cancel_session(engine, made.id, actor=ADMIN)


def test_past_sessions_are_marked_completed(engine):
    from core.config import today

    past = sessions.create_session(engine, **(GOOD | {"session_date": today() - dt.timedelta(days=3)}), actor=ADMIN)
    assert sessions.complete_past_sessions(engine, actor=ADMIN) == 1
    assert sessions.get_session(engine, past.id).status == "completed"
    assert sessions.complete_past_sessions(engine, actor=ADMIN) == 0


def test_availability_filters_select_by_state_site_and_course(engine, future_day):
    from core import booking

    def make(capacity, booked, **kw):
        s = sessions.create_session(engine, **(GOOD | {"session_date": future_day, "max_capacity": capacity} | kw), actor=ADMIN)
        if booked:
            booking.book(engine, s.id, seats=booked, contact_name="A Person", contact_email=f"a{capacity}{booked}@x.com", actor=STAFF)
        return s.id

    roomy = make(12, 2)
    almost = make(12, 10, location="Location A")
    full = make(4, 4, course_type="CPR and AED")
    window = (future_day, future_day)
    assert [s.id for s in find_sessions(engine, *window, availability=["available"])] == [roomy]
    assert [s.id for s in find_sessions(engine, *window, availability=["almost_full"])] == [almost]
    assert [s.id for s in find_sessions(engine, *window, availability=["full"])] == [full]
    assert {s.id for s in find_sessions(engine, *window, locations=["Location B"])} == {roomy, full}
    assert [s.id for s in find_sessions(engine, *window, course_types=["CPR and AED"])] == [full]
    states = {s.id: (s.remaining, s.state) for s in find_sessions(engine, *window)}
    assert states == {roomy: (10, "available"), almost: (2, "almost_full"), full: (0, "full")}


def test_alternatives_are_the_nearest_sessions_of_the_course_with_room(engine, future_day):
    from core import booking
    from core.availability import alternatives

    def make(offset, capacity=12, **kw):
        return sessions.create_session(
            engine, **(GOOD | {"session_date": future_day + dt.timedelta(days=offset), "max_capacity": capacity} | kw), actor=ADMIN).id

    full = make(0, capacity=2)
    booking.book(engine, full, seats=2, contact_name="A Person", contact_email="a@x.com", actor=STAFF)
    near_b = make(1, location="Location A")
    later = make(7)
    too_small = make(2, capacity=1)
    make(1, course_type="CPR and AED")
    found = alternatives(engine, full, seats=2)
    assert [s.id for s in found] == [near_b, later]
    assert too_small not in [s.id for s in found]
