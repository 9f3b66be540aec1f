"""Previews of a capacity change and of a cancellation, on DuckDB and PostgreSQL: who is
affected, where each could go instead, and that nothing is changed by looking."""

from __future__ import annotations

import datetime as dt

import pytest

from core import booking, errors, holds, previews, sessions, waitlist
from core.availability import get_session
from core.changes import latest_version
from tests.actors import ADMIN, STAFF
from tests.conftest import assert_invariants


def _book(engine, session, i: int, seats: int = 1):
    return booking.book(engine, session.id, contact_name=f"Caller {i}", contact_email=f"caller{i}@example.com",
                        seats=seats, actor=STAFF)


def test_lowering_capacity_names_the_newest_bookings_that_would_not_fit_with_their_alternatives(
        engine, new_session, future_day):
    session = new_session(max_capacity=8)
    oldest = _book(engine, session, 1, seats=3)
    middle = _book(engine, session, 2, seats=2)
    newest = _book(engine, session, 3, seats=2)
    far = new_session(session_date=future_day + dt.timedelta(days=14), location="Location B", max_capacity=12)
    near = new_session(session_date=future_day + dt.timedelta(days=7), max_capacity=2)
    roomy_near = new_session(session_date=future_day + dt.timedelta(days=1), location="Location B", max_capacity=3)
    _book(engine, roomy_near, 9, seats=2)  # 1 place left: too small for the groups of two
    before = latest_version(engine)

    seen = previews.preview_capacity(engine, session.id, 4)

    assert [a.booking.id for a in seen.affected] == [newest.id, middle.id]
    assert seen.places_affected == 4
    for a in seen.affected:
        assert [s.id for s in a.alternatives] == [near.id, far.id]  # nearest date first, either site
        assert all(s.remaining >= a.booking.seats for s in a.alternatives)
    assert oldest.id not in {a.booking.id for a in seen.affected}
    assert latest_version(engine) == before and get_session(engine, session.id).max_capacity == 8


def test_a_capacity_that_still_fits_everyone_affects_nobody(engine, new_session):
    session = new_session(max_capacity=8)
    _book(engine, session, 1, seats=3)
    assert previews.preview_capacity(engine, session.id, 3).affected == ()
    assert previews.preview_capacity(engine, session.id, 12).affected == ()


def test_a_capacity_preview_says_when_live_holds_are_in_the_way(engine, new_session):
    session = new_session(max_capacity=6)
    _book(engine, session, 1, seats=2)
    hold = holds.place_hold(engine, session.id, 3, held_by="Sam", actor=STAFF)
    seen = previews.preview_capacity(engine, session.id, 4)
    assert seen.affected == () and seen.blocked_by_holds == 1
    assert [h.id for h in seen.holds] == [hold.id]
    with pytest.raises(errors.CapacityBelowBooked):  # the change itself agrees
        sessions.set_capacity(engine, session.id, 4, actor=ADMIN)
    assert previews.preview_capacity(engine, session.id, 5).blocked_by_holds == 0


def test_a_capacity_preview_refuses_an_impossible_capacity_by_its_field(engine, new_session):
    session = new_session()
    with pytest.raises(errors.InvalidInput) as raised:
        previews.preview_capacity(engine, session.id, 0)
    assert raised.value.field == "max_capacity"


def test_a_cancellation_preview_lists_every_booking_hold_and_waiting_entry_and_changes_nothing(
        engine, new_session, future_day):
    session = new_session(max_capacity=3)
    one = _book(engine, session, 1, seats=2)
    two = _book(engine, session, 2, seats=1)
    entry = waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    other = new_session(session_date=future_day + dt.timedelta(days=2), location="Location B")
    before = latest_version(engine)

    seen = previews.preview_cancel(engine, session.id)

    assert [a.booking.id for a in seen.affected] == [one.id, two.id]
    assert all([s.id for s in a.alternatives] == [other.id] for a in seen.affected)
    assert [e.id for e in seen.waiting] == [entry.id]
    assert latest_version(engine) == before
    assert get_session(engine, session.id).status == "scheduled"
    assert {b.status for b in booking.list_bookings(engine, session.id)} == {"confirmed"}
    assert_invariants(engine)


def test_a_cancellation_preview_of_an_unknown_session_says_so(engine):
    with pytest.raises(errors.SessionNotFound):
        previews.preview_cancel(engine, "00000000-0000-0000-0000-000000000000")
