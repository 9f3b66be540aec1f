"""Booking, cancelling and moving, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from core import booking, changes, errors
from core.availability import get_session
from core.models import Attendee
from core.sessions import cancel_session, set_capacity
from tests.conftest import assert_invariants, count_rows
from tests.actors import ADMIN, STAFF
from core.access import Actor

@pytest.fixture
def engine(every_booking_path):
    """Each test here on DuckDB, on PostgreSQL's one-statement booking and on its general path."""
    return every_booking_path


CONTACT = dict(contact_name="Zoë O'Brien", contact_email="zoe@example.co.uk", contact_phone="07700 900123",
               company="Little Acorns Nursery")


def test_booking_takes_places_and_gives_a_readable_reference(engine, new_session):
    session = new_session()
    made = booking.book(engine, session.id, seats=3, **CONTACT, actor=Actor('sam', "staff"))
    assert made.reference.startswith("BK-") and len(made.reference) == 9
    assert made.seats == 3 and made.status == "confirmed" and made.created_by == "sam"
    assert made.contact_name == "Zoë O'Brien"
    assert get_session(engine, session.id).remaining == 9
    assert booking.get_booking(engine, made.reference) == made
    assert_invariants(engine)


def test_single_place_booking_records_the_contact_as_the_attendee(engine, new_session):
    made = booking.book(engine, new_session().id, **CONTACT, actor=STAFF)
    assert made.attendees == (Attendee("Zoë O'Brien", "zoe@example.co.uk"),)


def test_group_booking_records_attendee_names_per_seat(engine, new_session):
    made = booking.book(engine, new_session().id, seats=3, attendees=["Łukasz Nowak", "Aisha Khan"], **CONTACT, actor=STAFF)
    assert [a.name for a in made.attendees] == ["Łukasz Nowak", "Aisha Khan"]


def test_the_same_idempotency_key_books_once(engine, new_session):
    session = new_session()
    first = booking.book(engine, session.id, idempotency_key="form-1", **CONTACT, actor=STAFF)
    again = booking.book(engine, session.id, idempotency_key="form-1", **CONTACT, actor=STAFF)
    assert again.id == first.id
    assert get_session(engine, session.id).current_bookings == 1
    assert count_rows(engine, "bookings") == 1


def test_asking_for_more_places_than_left_says_how_many_are_left(engine, new_session):
    session = new_session(max_capacity=4)
    booking.book(engine, session.id, seats=2, **CONTACT, actor=STAFF)
    with pytest.raises(errors.SessionFull) as caught:
        booking.book(engine, session.id, seats=3, contact_name="Tom Clarke", contact_email="tom@example.com", actor=STAFF)
    assert caught.value.remaining == 2
    assert "Only 2 places left on First Aid at Work" in str(caught.value)
    assert caught.value.field == "seats"
    assert get_session(engine, session.id).current_bookings == 2


def test_a_full_session_says_full(engine, new_session):
    session = new_session(max_capacity=1)
    booking.book(engine, session.id, **CONTACT, actor=STAFF)
    with pytest.raises(errors.SessionFull, match="is full: no places left"):
        booking.book(engine, session.id, contact_name="Tom Clarke", contact_email="tom@example.com", actor=STAFF)


def test_a_cancelled_session_cannot_be_booked(engine, new_session):
    session = new_session()
    cancel_session(engine, session.id, actor=ADMIN)
    with pytest.raises(errors.SessionNotBookable, match="cancelled"):
        booking.book(engine, session.id, **CONTACT, actor=STAFF)


def test_a_session_in_the_past_cannot_be_booked(engine, new_session):
    from core.config import today

    session = new_session(session_date=today() - dt.timedelta(days=1))
    with pytest.raises(errors.SessionNotBookable, match="it started at 09:00"):
        booking.book(engine, session.id, **CONTACT, actor=STAFF)
    assert get_session(engine, session.id).current_bookings == 0


def test_an_unknown_session_is_not_found(engine):
    with pytest.raises(errors.SessionNotFound):
        booking.book(engine, uuid.uuid4(), **CONTACT, actor=STAFF)


def test_the_same_attendee_email_twice_on_one_session_is_refused(engine, new_session):
    session = new_session()
    booking.book(engine, session.id, **CONTACT, actor=STAFF)
    with pytest.raises(errors.DuplicateAttendee, match="zoe@example.co.uk is already booked"):
        booking.book(engine, session.id, **CONTACT, actor=STAFF)
    assert get_session(engine, session.id).current_bookings == 1
    assert count_rows(engine, "bookings") == 1


BAD_INPUT = [
    (dict(session_id="not-a-uuid"), "session_id"),
    (dict(seats=0), "seats"),
    (dict(seats=-1), "seats"),
    (dict(seats=13), "seats"),
    (dict(seats="two"), "seats"),
    (dict(seats=True), "seats"),
    (dict(contact_name=""), "contact_name"),
    (dict(contact_name="   "), "contact_name"),
    (dict(contact_name="x" * 10_000), "contact_name"),
    (dict(contact_email="not-an-email"), "contact_email"),
    (dict(contact_email="a@b"), "contact_email"),
    (dict(contact_phone="call me maybe"), "contact_phone"),
    (dict(company="Acme \u202eelpmaxe"), "company"),  # a right-to-left override
    (dict(contact_name="Sam \u2067Patel"), "contact_name"),  # a right-to-left isolate
    (dict(seats=2, attendees=["A \u200fB"]), "attendees"),  # a right-to-left mark
    (dict(seats=2, attendees=["A", "B", "C"]), "attendees"),
    (dict(seats=2, attendees=[Attendee("A", "a@x.com"), Attendee("B", "a@x.com")]), "attendees"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_INPUT, ids=[f"{b}" for b, _ in BAD_INPUT])
def test_bad_input_is_refused_with_the_field_and_nothing_written(engine, new_session, bad, field):
    session = new_session()
    version = changes.latest_version(engine)
    args = dict(CONTACT, session_id=session.id) | bad
    session_id = args.pop("session_id")
    with pytest.raises(errors.InvalidInput) as caught:
        booking.book(engine, session_id, **args, actor=STAFF)
    assert caught.value.field == field
    assert str(caught.value)
    assert changes.latest_version(engine) == version
    assert count_rows(engine, "bookings") == 0
    assert get_session(engine, session.id).current_bookings == 0


def test_cancelling_frees_the_places_and_cannot_happen_twice(engine, new_session):
    session = new_session()
    made = booking.book(engine, session.id, seats=4, **CONTACT, actor=STAFF)
    cancelled = booking.cancel(engine, made.id, actor=Actor('sam', "staff"))
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert get_session(engine, session.id).current_bookings == 0
    with pytest.raises(errors.BookingNotActive, match="is cancelled"):
        booking.cancel(engine, made.reference, actor=STAFF)
    assert_invariants(engine)


def test_cancelling_an_unknown_booking_names_the_reference(engine):
    with pytest.raises(errors.BookingNotFound, match="BK-ZZZZZZ"):
        booking.cancel(engine, "BK-ZZZZZZ", actor=STAFF)


def test_moving_a_booking_carries_its_places_to_the_new_session(engine, new_session, future_day):
    here = new_session()
    there = new_session(location="Location B")
    made = booking.book(engine, here.id, seats=3, **CONTACT, actor=STAFF)
    moved = booking.move(engine, made.id, there.id, actor=Actor('sam', "staff"))
    assert moved.session_id == there.id and moved.seats == 3
    assert get_session(engine, here.id).current_bookings == 0
    assert get_session(engine, there.id).current_bookings == 3
    assert_invariants(engine)


def test_a_move_to_a_session_without_room_changes_nothing(engine, new_session):
    here = new_session()
    there = new_session(location="Location B", max_capacity=2)
    made = booking.book(engine, here.id, seats=3, **CONTACT, actor=STAFF)
    with pytest.raises(errors.SessionFull, match="Only 2 places left"):
        booking.move(engine, made.id, there.id, actor=STAFF)
    assert booking.get_booking(engine, made.id).session_id == here.id
    assert get_session(engine, here.id).current_bookings == 3
    assert get_session(engine, there.id).current_bookings == 0


def test_bookings_of_a_cancelled_session_are_kept_for_rebooking_and_can_move(engine, new_session):
    here = new_session()
    there = new_session(location="Location B")
    made = booking.book(engine, here.id, seats=2, **CONTACT, actor=STAFF)
    to_rebook = cancel_session(engine, here.id, reason="Trainer ill", actor=ADMIN)
    assert [b.reference for b in to_rebook] == [made.reference]
    assert to_rebook[0].status == "rebook"
    moved = booking.move(engine, made.id, there.id, actor=STAFF)
    assert moved.status == "confirmed"
    assert get_session(engine, there.id).current_bookings == 2
    assert_invariants(engine)


def test_capacity_cannot_go_below_the_places_booked_and_says_who_would_not_fit(engine, new_session):
    session = new_session()
    booking.book(engine, session.id, seats=4, **CONTACT, actor=STAFF)
    late = booking.book(engine, session.id, seats=3, contact_name="Tom Clarke", contact_email="tom@example.com", actor=STAFF)
    with pytest.raises(errors.CapacityBelowBooked) as caught:
        set_capacity(engine, session.id, 5, actor=ADMIN)
    assert late.reference in str(caught.value) and "Tom Clarke (3 places)" in str(caught.value)
    assert get_session(engine, session.id).max_capacity == 12
    assert set_capacity(engine, session.id, 7, actor=ADMIN).remaining == 0


@pytest.mark.parametrize("capacity", [0, 13, "many"])
def test_capacity_outside_1_to_12_is_refused(engine, new_session, capacity):
    with pytest.raises(errors.InvalidInput) as caught:
        set_capacity(engine, new_session().id, capacity, actor=ADMIN)
    assert caught.value.field == "max_capacity"


def test_every_write_adds_exactly_one_version_naming_the_sessions_touched(engine, new_session):
    here, there = new_session(), new_session(location="Location B")
    start = changes.latest_version(engine)
    cursor = changes.feed_cursor(engine)
    made = booking.book(engine, here.id, **CONTACT, actor=STAFF)
    assert changes.latest_version(engine) == start + 1
    after_booking = changes.feed_cursor(engine)
    booking.move(engine, made.id, there.id, actor=STAFF)
    assert changes.latest_version(engine) == start + 2
    booking.cancel(engine, made.id, actor=STAFF)
    assert changes.latest_version(engine) == start + 3
    feed = changes.changes_since(engine, cursor)
    assert [c.action for c in feed.changes] == ["booking.created", "booking.moved", "booking.cancelled"]
    assert feed.session_ids == {here.id, there.id}
    assert feed.latest == start + 3
    assert [c.action for c in changes.changes_since(engine, after_booking).changes] == [
        "booking.moved", "booking.cancelled"]
    assert changes.changes_since(engine, feed.cursor).changes == []


def test_a_chain_of_feed_reads_sees_every_change_exactly_once(engine, new_session, monkeypatch):
    monkeypatch.setattr(changes, "FEED_PAGE", 3)
    made = [new_session(location=loc) for loc in ("Location A", "Location B") for _ in range(4)]
    for s in made:
        booking.book(engine, s.id, **CONTACT, actor=STAFF)
    seen, cursor = [], changes.FeedCursor.start()
    while True:
        page = changes.changes_since(engine, cursor)
        if not page.changes:
            break
        seen += [c.version for c in page.changes]
        cursor = page.cursor
    assert len(seen) == len(set(seen)) == changes.latest_version(engine) == 16
