"""Every core entry point fed arbitrary strings, numbers, dates and ids.

Only `core.errors` exceptions come out, and a call that fails writes nothing.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import availability, booking, changes, errors, holds, sessions, waitlist
from tests.conftest import ADMIN, STAFF, assert_invariants

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=True),
    st.text(max_size=300), st.text(alphabet="<>&\"'`=+-@\t\r\n\x00;", max_size=40),
    st.dates(), st.times(), st.datetimes(), st.uuids(), st.lists(st.text(max_size=20), max_size=15),
    st.sampled_from(["Location A", "Location B", "First Aid at Work", "2027-02-30", "09:00", "BK-ZZZZZZ",
                     "12", "0", "-1", "13", "a@b.co", "x" * 10_000]),
)

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _footprint(engine) -> tuple:
    with engine.connect() as conn:
        counts = tuple(conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                       for t in ("course_sessions", "bookings", "booking_attendees", "holds", "waitlist_entries"))
    return counts, changes.latest_version(engine)


@pytest.fixture
def world(engine, future_day):
    """A session with a booking, a hold and a waiting-list entry to aim at."""
    roomy = sessions.create_session(engine, course_type="First Aid at Work", session_date=future_day,
                                    start_time="09:00", end_time="16:30", location="Location A", actor=ADMIN)
    tight = sessions.create_session(engine, course_type="First Aid at Work", session_date=future_day,
                                    start_time="09:00", end_time="16:30", location="Location B", max_capacity=2,
                                    actor=ADMIN)
    made = booking.book(engine, tight.id, contact_name="Ann Lee", contact_email="ann@example.com", seats=2,
                        actor=STAFF)
    hold = holds.place_hold(engine, roomy.id, 1, actor=STAFF)
    entry = waitlist.join_waitlist(engine, tight.id, name="Tom Clarke", email="tom@example.com", actor=STAFF)
    return dict(roomy=roomy.id, tight=tight.id, booking=made.id, hold=hold.id, entry=entry.id)


def _valid(world, call) -> list:
    """Arguments that would succeed, so that each garbage argument is reached in turn."""
    person = ["Zoë O'Brien", "zoe@example.co.uk", "07700 900123", "Acme", 1, None, None]
    return {
        "book": [world["roomy"], *person],
        "cancel": [world["booking"]],
        "move": [world["booking"], world["roomy"]],
        "create_session": ["CPR and AED", "2031-03-04", "09:30", "12:30", "Location B", 6, "notes"],
        "update_session": [world["roomy"], "Location B", "10:00"],
        "set_capacity": [world["roomy"], 11],
        "cancel_session": [world["roomy"], "Trainer ill"],
        "place_hold": [world["roomy"], 1, "Sam", 5],
        "release_hold": [world["hold"]],
        "book_from_hold": [world["hold"], "Ann Lee", "ann2@example.com", 1],
        "join_waitlist": [world["tight"], "Kim Wu", "kim@example.com", 1],
        "withdraw": [world["entry"]],
        "find_sessions": ["2031-01-01", "2031-12-31", ["Location A"]],
        "alternatives": [world["roomy"]],
        "get_booking": [world["booking"]],
    }[call]


CALLS = {
    "book": lambda e, a: booking.book(e, a[0], contact_name=a[1], contact_email=a[2], contact_phone=a[3],
                                      company=a[4], seats=a[5], attendees=a[6], idempotency_key=a[7], actor=STAFF),
    "cancel": lambda e, a: booking.cancel(e, a[0], actor=STAFF),
    "move": lambda e, a: booking.move(e, a[0], a[1], actor=STAFF),
    "create_session": lambda e, a: sessions.create_session(
        e, course_type=a[0], session_date=a[1], start_time=a[2], end_time=a[3], location=a[4], max_capacity=a[5],
        instructor_notes=a[6], actor=ADMIN),
    "update_session": lambda e, a: sessions.update_session(e, a[0], location=a[1], start_time=a[2], actor=ADMIN),
    "set_capacity": lambda e, a: sessions.set_capacity(e, a[0], a[1], actor=ADMIN),
    "cancel_session": lambda e, a: sessions.cancel_session(e, a[0], reason=a[1], actor=ADMIN),
    "place_hold": lambda e, a: holds.place_hold(e, a[0], a[1], held_by=a[2], minutes=a[3], actor=STAFF),
    "release_hold": lambda e, a: holds.release_hold(e, a[0], actor=STAFF),
    "book_from_hold": lambda e, a: holds.book_from_hold(e, a[0], contact_name=a[1], contact_email=a[2],
                                                        seats=a[3], actor=STAFF),
    "join_waitlist": lambda e, a: waitlist.join_waitlist(e, a[0], name=a[1], email=a[2], seats=a[3], actor=STAFF),
    "withdraw": lambda e, a: waitlist.withdraw(e, a[0], actor=STAFF),
    "find_sessions": lambda e, a: availability.find_sessions(e, a[0], a[1], locations=a[2]),
    "alternatives": lambda e, a: availability.alternatives(e, a[0], 1),
    "get_booking": lambda e, a: booking.get_booking(e, a[0]),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_arbitrary_input_gives_a_core_error_or_a_result_and_a_failed_call_writes_nothing(engine, world, call):
    valid = _valid(world, call) + [None] * 8

    @FUZZ
    @given(garbage=st.dictionaries(st.integers(0, len(_valid(world, call)) - 1), anything, min_size=1, max_size=2))
    def check(garbage):
        args = [garbage.get(i, v) for i, v in enumerate(valid)]
        before = _footprint(engine)
        try:
            CALLS[call](engine, args)
        except errors.BookingError as exc:
            assert str(exc).strip(), "an error must say what is wrong"
            assert _footprint(engine) == before, f"{call} failed with {exc!r} but wrote something"

    check()
    assert_invariants(engine)


pytestmark = pytest.mark.timeout(900)
