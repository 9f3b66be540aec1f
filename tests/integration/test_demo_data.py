"""Demo data looks like a real schedule and is the same for the same seed."""

from __future__ import annotations

import datetime as dt

from core import booking
from core.availability import find_sessions
from core.config import today
from core.demo import DEMO_JOINING, DEMO_SITES, seed_demo
from core.mail import messages, sender
from tests.actors import STAFF
from tests.conftest import assert_invariants


def _snapshot(engine):
    return [(s.course_type, s.session_date, s.start_time, s.location, s.current_bookings, s.status)
            for s in find_sessions(engine, today() - dt.timedelta(weeks=9), today() + dt.timedelta(weeks=13),
                                   include_cancelled=True)]


def test_demo_schedule_spans_past_and_future_with_every_kind_of_fill(engine, make_database):
    made = seed_demo(engine, seed=3)
    assert made > 100
    ahead = find_sessions(engine, today() + dt.timedelta(days=1), today() + dt.timedelta(weeks=12))
    assert {s.state for s in ahead} >= {"available", "almost_full", "full"}
    assert any(s.current_bookings == 0 for s in ahead)
    assert {s.location for s in ahead} == {"Location A", "Location B"}
    assert len({s.course_type for s in ahead}) == 4
    assert all(s.session_date.weekday() < 5 for s in ahead)
    past = find_sessions(engine, today() - dt.timedelta(weeks=8), today() - dt.timedelta(days=1))
    assert past and all(s.status == "completed" for s in past)
    assert_invariants(engine)
    other = make_database(engine.dialect.name)
    seed_demo(other, seed=3)
    assert _snapshot(other) == _snapshot(engine)


def test_a_confirmation_from_the_demo_says_where_the_site_is_and_what_to_bring(engine):
    seed_demo(engine, seed=3)
    sender.run_once(engine, smtp=None)  # the mail consumer starts here ("now")
    session = next(s for s in find_sessions(engine, today() + dt.timedelta(days=20), today() + dt.timedelta(weeks=12))
                   if s.state == "available" and s.location == "Location B")
    made = booking.book(engine, session.id, contact_name="Dee Demo", contact_email="dee@example.co.uk", actor=STAFF)
    sender.run_once(engine, smtp=None)
    kept = messages.list_messages(engine, reference=made.reference)
    assert [m.recipient for m in kept] == ["dee@example.co.uk"]
    body = messages.get_message(engine, kept[0].id).text_body
    address, directions = DEMO_SITES["Location B"]
    assert address in body and directions in body and DEMO_JOINING in body
