"""Admin changes in one transaction each: cancel or resize a session with the moves chosen
for its bookings, create with the clash check, book a hold (or the free places once it
ended). A failure part-way writes nothing. On DuckDB and PostgreSQL; races on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core import booking, changes, errors, holds, sessions, waitlist
from core.availability import get_session
from tests.actors import ADMIN, STAFF
from tests.conftest import assert_invariants, count_rows
from tests.integration.test_holds_and_waitlist import FrozenClock


def _person(i: int, **more) -> dict:
    return dict(contact_name=f"Caller {i}", contact_email=f"caller{i}@example.com", **more)


def _state(engine, *sids):
    return [(s.status, s.current_bookings, s.held, s.waiting, s.max_capacity)
            for s in (get_session(engine, i) for i in sids)]


def test_cancelling_a_session_moves_the_chosen_bookings_and_keeps_the_rest_to_rebook(engine, new_session):
    doomed = new_session(start_time="09:00")
    later = new_session(start_time="13:00", end_time="16:30", location="Location B")
    made = [booking.book(engine, doomed.id, seats=s, **_person(i), actor=STAFF) for i, s in enumerate((2, 3, 1))]
    cursor = changes.feed_cursor(engine)

    done = sessions.cancel_session_with_moves(engine, doomed.id, {made[0].reference: later.id, made[1].id: later.id},
                                              actor=ADMIN, reason="Instructor ill")

    assert done.session.status == "cancelled"
    assert [b.reference for b in done.moved] == [made[0].reference, made[1].reference]
    assert all(b.session_id == later.id and b.status == "confirmed" for b in done.moved)
    assert [b.reference for b in done.to_rebook] == [made[2].reference]
    assert get_session(engine, later.id).current_bookings == 5
    events = changes.changes_since(engine, cursor).changes
    assert [e.action for e in events] == ["session.cancelled", "booking.moved", "booking.moved"]
    assert [b["reference"] for b in events[0].details["bookings"]] == [b.reference for b in made]
    assert events[0].details["reason"] == "Instructor ill"
    assert_invariants(engine)


def test_one_move_that_cannot_happen_leaves_the_session_and_every_booking_as_they_were(engine, new_session):
    doomed = new_session(start_time="09:00")
    roomy = new_session(start_time="13:00", end_time="16:30")
    tight = new_session(location="Location B", max_capacity=2)
    made = [booking.book(engine, doomed.id, seats=s, **_person(i), actor=STAFF) for i, s in enumerate((2, 3))]
    before, feed = _state(engine, doomed.id, roomy.id, tight.id), changes.latest_version(engine)

    with pytest.raises(errors.InvalidInput) as refused:
        sessions.cancel_session_with_moves(engine, doomed.id, [(made[0].id, roomy.id), (made[1].id, tight.id)],
                                           actor=ADMIN)

    assert refused.value.field == "moves"
    assert f"{made[1].reference} Caller 1 could not be moved to" in str(refused.value)
    assert "Only 2 places left" in str(refused.value) and "Nothing was changed." in str(refused.value)
    assert _state(engine, doomed.id, roomy.id, tight.id) == before
    assert [b.status for b in booking.list_bookings(engine, doomed.id)] == ["confirmed", "confirmed"]
    assert changes.latest_version(engine) == feed
    assert_invariants(engine)


def test_a_move_of_a_booking_of_another_session_is_refused_with_nothing_changed(engine, new_session):
    doomed, other, target = new_session(start_time="09:00"), new_session(start_time="13:00", end_time="16:00"), \
        new_session(location="Location B")
    stranger = booking.book(engine, other.id, **_person(1), actor=STAFF)
    with pytest.raises(errors.InvalidInput, match="is not a booking of this session"):
        sessions.cancel_session_with_moves(engine, doomed.id, {stranger.id: target.id}, actor=ADMIN)
    assert get_session(engine, doomed.id).status == "scheduled"
    assert booking.get_booking(engine, stranger.id).session_id == other.id


def test_shrinking_a_session_moves_the_chosen_bookings_out_and_does_not_fill_their_places_from_the_list(
        engine, new_session):
    session = new_session(max_capacity=6)
    elsewhere = new_session(location="Location B")
    made = [booking.book(engine, session.id, seats=3, **_person(i), actor=STAFF) for i in range(2)]
    waitlist.join_waitlist(engine, session.id, name="Wanda Wait", email="wanda@example.com", actor=STAFF)

    done = sessions.set_capacity_with_moves(engine, session.id, 3, {made[1].id: elsewhere.id}, actor=ADMIN)

    assert (done.session.max_capacity, done.session.current_bookings, done.session.waiting) == (3, 3, 1)
    assert [b.session_id for b in done.moved] == [elsewhere.id]
    assert get_session(engine, elsewhere.id).current_bookings == 3
    assert_invariants(engine)


def test_shrinking_below_what_stays_booked_moves_nobody(engine, new_session):
    session = new_session(max_capacity=6)
    elsewhere = new_session(location="Location B")
    made = [booking.book(engine, session.id, seats=2, **_person(i), actor=STAFF) for i in range(3)]
    before = _state(engine, session.id, elsewhere.id)
    with pytest.raises(errors.CapacityBelowBooked):
        sessions.set_capacity_with_moves(engine, session.id, 2, {made[0].id: elsewhere.id}, actor=ADMIN)
    assert _state(engine, session.id, elsewhere.id) == before
    assert booking.get_booking(engine, made[0].id).session_id == session.id


def test_a_session_that_overlaps_another_at_its_site_is_refused_in_the_transaction_that_creates_it(engine, new_session):
    there = new_session(start_time="09:00", end_time="12:00")
    count = count_rows(engine, "course_sessions")
    with pytest.raises(errors.InvalidInput) as refused:
        sessions.create_session(engine, course_type="CPR and AED", session_date=there.session_date,
                                start_time="11:00", end_time="13:00", location=there.location,
                                on_clash="refuse", actor=ADMIN)
    assert "overlaps First Aid at Work 09:00-12:00 at Location A" in str(refused.value)
    assert refused.value.field == "start_time"
    assert count_rows(engine, "course_sessions") == count
    # Touching is not overlapping; the other site or "allow" is fine.
    sessions.create_session(engine, course_type="CPR and AED", session_date=there.session_date, start_time="12:00",
                            end_time="13:00", location=there.location, on_clash="refuse", actor=ADMIN)
    sessions.create_session(engine, course_type="CPR and AED", session_date=there.session_date, start_time="11:00",
                            end_time="13:00", location=there.location, on_clash="allow", actor=ADMIN)


def test_32_admins_creating_overlapping_sessions_at_once_create_exactly_one(make_database, future_day):
    pg = make_database("postgresql")
    gate = threading.Barrier(32)

    def create(i):
        gate.wait()
        try:
            return sessions.create_session(pg, course_type="CPR and AED", session_date=future_day,
                                           start_time=f"09:{i:02d}", end_time="12:00", location="Location A",
                                           on_clash="refuse", actor=ADMIN)
        except errors.BookingError as exc:
            return exc

    with ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(create, range(32)))
    made = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(made) == 1, outcomes
    assert all(isinstance(o, errors.InvalidInput) and "overlaps" in str(o) for o in outcomes if isinstance(o, Exception))
    assert count_rows(pg, "course_sessions") == 1


def test_booking_a_hold_that_expired_books_the_free_places_and_says_so(engine, new_session, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = new_session(max_capacity=4)
    hold = holds.place_hold(engine, session.id, 2, actor=STAFF, minutes=5)
    clock.advance(minutes=6)

    held = holds.book_held(engine, hold.id, **_person(1), actor=STAFF)

    assert held.booking.seats == 2 and held.note == "Your hold had expired; the places were still free, so they are booked."
    seen = get_session(engine, session.id)
    assert (seen.current_bookings, seen.held) == (2, 0)
    assert_invariants(engine)


def test_booking_a_hold_that_expired_after_its_places_went_refuses_and_writes_nothing(engine, new_session, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = new_session(max_capacity=2)
    hold = holds.place_hold(engine, session.id, 2, actor=STAFF, minutes=5)
    clock.advance(minutes=6)
    booking.book(engine, session.id, seats=2, **_person(2), actor=STAFF)
    bookings = count_rows(engine, "bookings")

    with pytest.raises(errors.SessionFull, match="is full: no places left"):
        holds.book_held(engine, hold.id, **_person(1), actor=STAFF)
    assert count_rows(engine, "bookings") == bookings
    assert_invariants(engine)


def test_booking_a_live_hold_converts_it(engine, new_session):
    session = new_session(max_capacity=4)
    hold = holds.place_hold(engine, session.id, 3, actor=STAFF)
    cursor = changes.feed_cursor(engine)
    held = holds.book_held(engine, hold.id, seats=2, **_person(1), actor=STAFF)
    assert held.note is None and held.booking.seats == 2
    assert (get_session(engine, session.id).current_bookings, get_session(engine, session.id).held) == (2, 0)
    assert [c.action for c in changes.changes_since(engine, cursor).changes] == ["hold.converted", "booking.created"]


def test_the_same_idempotency_key_is_a_replay_only_for_the_same_request(engine, new_session):
    session, other = new_session(), new_session(location="Location B")
    first = booking.book(engine, session.id, seats=2, **_person(1), idempotency_key="form-123", actor=STAFF)
    assert first.replayed is False

    again = booking.book(engine, session.id, seats=2, **_person(1), idempotency_key="form-123", actor=STAFF)
    assert (again.id, again.replayed) == (first.id, True)

    for changed in (dict(session_id=other.id, seats=2, **_person(1)), dict(session_id=session.id, seats=3, **_person(1)),
                    dict(session_id=session.id, seats=2, **_person(9))):
        sid = changed.pop("session_id")
        with pytest.raises(errors.InvalidInput, match=f"already used for booking {first.reference}") as refused:
            booking.book(engine, sid, idempotency_key="form-123", **changed, actor=STAFF)
        assert refused.value.field == "idempotency_key"
    assert count_rows(engine, "bookings") == 1
    assert get_session(engine, other.id).current_bookings == 0


def test_writes_that_no_person_makes_are_recorded_as_the_system(engine, new_session, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = new_session(max_capacity=1)
    holds.place_hold(engine, session.id, 1, actor=STAFF, minutes=1)
    waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    clock.advance(minutes=2)
    cursor = changes.feed_cursor(engine)
    holds.expire_due_holds(engine)
    caused = changes.changes_since(engine, cursor).changes
    assert {c.actor for c in caused} == {"system"}
    [promoted] = [b for b in booking.list_bookings(engine, session.id)]
    assert promoted.created_by == "system"
