"""A session's places under real threads on PostgreSQL: waiting lists, holds and refusals.

DuckDB lets one writer in at a time and hides these races, so they run on PostgreSQL
(the `engine` fixture's other half runs where a test says so). Each race releases at
least 32 threads at the same moment and is repeated; each was seen failing before the
places got one owner (core/places.py).
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from core import availability, booking, changes, errors, holds, waitlist
from core.availability import get_session
from core.models import Booking
from tests.actors import STAFF
from tests.conftest import assert_invariants
from tests.integration.test_holds_and_waitlist import FrozenClock

THREADS = 32


@pytest.fixture
def pg(make_database):
    return make_database("postgresql")


@pytest.fixture
def make_session(pg, future_day):
    from core.sessions import create_session
    from tests.actors import ADMIN

    counter = iter(range(10_000))

    def make(capacity: int):
        n = next(counter)  # sessions of one test differ by their start, a minute apart
        return create_session(pg, course_type="First Aid at Work", session_date=future_day,
                              start_time=f"{6 + n // 60:02d}:{n % 60:02d}", end_time="23:00",
                              location="Location A", max_capacity=capacity, actor=ADMIN)

    return make


def _race(jobs):
    """Run every job on its own thread, all released at the same moment; results or errors."""
    gate = threading.Barrier(len(jobs))

    def run(job):
        gate.wait()
        try:
            return job()
        except errors.BookingError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _person(i: int, **more) -> dict:
    return dict(contact_name=f"Caller {i}", contact_email=f"caller{i}@example.com", **more)


def _waiting(engine, session_id):
    return waitlist.list_waitlist(engine, session_id)


@pytest.mark.parametrize("round_", range(3))
def test_the_same_group_joining_a_waiting_list_from_32_threads_waits_once_and_is_booked_once(pg, make_session, round_):
    session = make_session(4)
    first = booking.book(pg, session.id, seats=4, **_person(0), actor=STAFF)

    outcomes = _race([lambda: waitlist.join_waitlist(pg, session.id, name="Dana Group", email="dana@example.com",
                                                     seats=2, actor=STAFF)] * THREADS)

    joined = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(joined) == 1
    assert all(isinstance(o, errors.InvalidInput) and "already on the waiting list" in str(o) for o in refused), refused
    assert len(_waiting(pg, session.id)) == 1

    booking.cancel(pg, first.id, actor=STAFF)
    mine = [b for b in booking.list_bookings(pg, session.id) if b.contact_email == "dana@example.com"]
    assert [b.seats for b in mine] == [2]
    assert_invariants(pg)


def test_people_joining_while_a_cancellation_commits_are_promoted_or_told_to_book_never_left_waiting(pg, make_session):
    """A 12-place session, two bookings of 6, five waiting; one booking is cancelled while
    31 others join 0-30 ms later. Afterwards nobody waits next to a free place that fits."""
    for round_ in range(10):
        session = make_session(12)
        big = [booking.book(pg, session.id, seats=6, **_person(100 * round_ + i), actor=STAFF) for i in range(2)]
        for i in range(5):
            waitlist.join_waitlist(pg, session.id, name=f"Early {i}", email=f"early{round_}-{i}@example.com",
                                   actor=STAFF)
        rng = random.Random(round_)
        delays = [rng.uniform(0, 0.03) for _ in range(THREADS - 1)]

        def joiner(i):
            def job():
                time.sleep(delays[i])  # the spread of the race itself, not a wait for a result
                return waitlist.join_waitlist(pg, session.id, name=f"Late {i}", email=f"late{round_}-{i}@example.com",
                                              actor=STAFF)
            return job

        outcomes = _race([lambda: booking.cancel(pg, big[0].id, actor=STAFF)] + [joiner(i) for i in range(THREADS - 1)])

        told_to_book = [o for o in outcomes[1:] if isinstance(o, errors.InvalidInput)]
        assert all("free on" in str(o) and "book instead" in str(o) for o in told_to_book), told_to_book
        seen = get_session(pg, session.id)
        still_waiting = _waiting(pg, session.id)
        assert all(e.seats > seen.remaining for e in still_waiting), (round_, seen.remaining, still_waiting[:3])
        # The five early ones were promoted; the sixth place went to a joiner who came
        # before the cancellation committed, or it is free and those after were told to book.
        assert seen.current_bookings in (11, 12)
        assert seen.current_bookings == 12 or len(told_to_book) == THREADS - 1
        assert_invariants(pg)


def test_a_withdrawal_racing_a_promotion_reports_exactly_what_happened(pg, make_session):
    """16 full 2-place sessions, two waiting on each: on each, one booking is cancelled and
    the first person waiting withdraws at the same moment (32 threads), three times over."""
    for round_ in range(3):
        cases = []
        for n in range(THREADS // 2):
            session = make_session(2)
            made = booking.book(pg, session.id, seats=2, **_person(1000 * round_ + n), actor=STAFF)
            first = waitlist.join_waitlist(pg, session.id, name="First", email=f"first{n}@example.com", actor=STAFF)
            waitlist.join_waitlist(pg, session.id, name="Second", email=f"second{n}@example.com", actor=STAFF)
            cases.append((session, made, first))
        jobs = []
        for session, made, first in cases:
            jobs += [lambda made=made: booking.cancel(pg, made.id, actor=STAFF),
                     lambda first=first: waitlist.withdraw(pg, first.id, actor=STAFF)]
        outcomes = _race(jobs)

        for (session, made, first), withdrawn in zip(cases, outcomes[1::2]):
            [entry] = [e for e in waitlist.list_waitlist(pg, session.id, include_ended=True) if e.id == first.id]
            if isinstance(withdrawn, Exception):
                assert entry.status == "promoted", (withdrawn, entry)
                reference = booking.get_booking(pg, entry.booking_id).reference
                assert f"given a place meanwhile: booking {reference}" in str(withdrawn)
            else:
                assert entry.status == "withdrawn", entry
                assert entry.booking_id is None
        assert_invariants(pg)


def test_a_promotion_caused_by_a_hold_reaped_inside_a_booking_is_in_the_feed(engine, new_session, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = new_session(max_capacity=2)
    hold = holds.place_hold(engine, session.id, 2, actor=STAFF, minutes=5)
    waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    clock.advance(minutes=6)
    cursor = changes.feed_cursor(engine)

    made = booking.book(engine, session.id, **_person(7), actor=STAFF)

    caused = changes.changes_since(engine, cursor).changes
    assert [(c.action, c.actor) for c in caused] == [
        ("hold.expired", "system"), ("waitlist.promoted", "system"), ("booking.created", STAFF.name)]
    assert caused[0].details["hold_id"] == str(hold.id) and caused[0].details["seats"] == 2
    assert caused[1].details["email"] == "ann@example.com" and caused[1].details["seats"] == 1
    assert caused[2].booking_id == made.id
    assert get_session(engine, session.id).current_bookings == 2
    assert_invariants(engine)


def test_32_bookers_after_a_hold_expired_record_its_expiry_and_the_promotion_once(pg, make_session, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = make_session(6)
    holds.place_hold(pg, session.id, 6, actor=STAFF, minutes=5)
    waitlist.join_waitlist(pg, session.id, name="Ann Lee", email="ann@example.com", seats=2, actor=STAFF)
    clock.advance(minutes=5)
    cursor = changes.feed_cursor(pg)

    outcomes = _race([lambda i=i: booking.book(pg, session.id, **_person(i), actor=STAFF) for i in range(THREADS)])

    assert sum(1 for o in outcomes if not isinstance(o, Exception)) == 4
    actions = [c.action for c in changes.changes_since(pg, cursor).changes]
    assert actions.count("hold.expired") == 1 and actions.count("waitlist.promoted") == 1
    assert actions.count("booking.created") == 4
    assert_invariants(pg)


def test_a_full_refusal_racing_cancellations_never_says_there_is_room(pg, make_session):
    """Every refusal is true when it is made: 'full' means no place for what was asked."""
    refusals = []
    for round_ in range(4):
        session = make_session(12)
        early = [booking.book(pg, session.id, **_person(10_000 + 100 * round_ + i), actor=STAFF) for i in range(12)]
        jobs = [lambda b=b: booking.cancel(pg, b.id, actor=STAFF) for b in early[:THREADS // 2 - 4]]
        jobs += [lambda i=i: booking.book(pg, session.id, **_person(20_000 + 100 * round_ + i), actor=STAFF)
                 for i in range(THREADS - len(jobs))]
        outcomes = _race(jobs)
        refusals += [o for o in outcomes if isinstance(o, errors.SessionFull)]
        assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, errors.SessionFull)]
        assert_invariants(pg)
    assert refusals, "the race should refuse some bookings"
    contradictions = [str(o) for o in refusals if o.remaining >= o.wanted]
    assert contradictions == []


@pytest.mark.parametrize("seats", ["three", 0, -1, 13, 2.5, None])
def test_alternatives_refuse_a_bad_number_of_places_with_the_cores_own_error(engine, new_session, seats):
    session = new_session()
    with pytest.raises(errors.InvalidInput) as refused:
        availability.alternatives(engine, session.id, seats=seats)
    assert refused.value.field == "seats"


def test_a_waiting_list_allows_one_active_entry_per_contact_even_past_the_core(pg, make_session):
    """The unique index is the backstop: a second waiting row for the same contact is refused
    by the database itself."""
    session = make_session(1)
    booking.book(pg, session.id, **_person(1), actor=STAFF)
    entry = waitlist.join_waitlist(pg, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    from core.schema import waitlist_entries as wl

    with pytest.raises(sa.exc.IntegrityError):
        with pg.begin() as conn:
            conn.execute(wl.insert().values(id=__import__("uuid").uuid4(), session_id=session.id, name="Ann Lee",
                                            email="ann@example.com", seats=1, status="waiting",
                                            created_at=entry.created_at))


def test_holds_and_bookings_from_32_threads_take_exactly_the_places_there_are(pg, make_session):
    for round_ in range(3):
        session = make_session(12)
        jobs = [lambda i=i: holds.place_hold(pg, session.id, 1, held_by=f"Desk {i}", actor=STAFF)
                for i in range(THREADS // 2)]
        jobs += [lambda i=i: booking.book(pg, session.id, **_person(30_000 + 100 * round_ + i), actor=STAFF)
                 for i in range(THREADS // 2)]
        outcomes = _race(jobs)
        made = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(made) == 12
        assert all(isinstance(o, errors.SessionFull) for o in outcomes if isinstance(o, Exception))
        kept = [o for o in made if isinstance(o, holds.Hold)]
        # Half the holds are released and the other half booked while 16 more callers try.
        jobs = [lambda h=h: holds.release_hold(pg, h.id, actor=STAFF) for h in kept[::2]]
        jobs += [lambda h=h, i=i: holds.book_held(pg, h.id, **_person(40_000 + 100 * round_ + i), actor=STAFF)
                 for i, h in enumerate(kept[1::2])]
        jobs += [lambda i=i: booking.book(pg, session.id, **_person(50_000 + 100 * round_ + i), actor=STAFF)
                 for i in range(THREADS - len(jobs))]
        outcomes = _race(jobs)
        assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, errors.SessionFull)]
        converted = [o for o in outcomes if isinstance(o, holds.HeldBooking)]
        assert len(converted) == len(kept[1::2])  # a live hold is always booked
        booked_now = sum(o.seats for o in outcomes if isinstance(o, Booking))
        seen = get_session(pg, session.id)
        assert seen.held == 0
        assert seen.current_bookings == (12 - len(kept)) + len(converted) + booked_now <= 12
        assert_invariants(pg)


def test_a_capacity_change_racing_31_bookers_either_fits_or_says_who_would_not(pg, make_session):
    from core.sessions import set_capacity
    from tests.actors import ADMIN

    for round_ in range(5):
        session = make_session(12)
        for i in range(6):
            booking.book(pg, session.id, **_person(60_000 + 100 * round_ + i), actor=STAFF)
        jobs = [lambda: set_capacity(pg, session.id, 8, actor=ADMIN)]
        jobs += [lambda i=i: booking.book(pg, session.id, **_person(70_000 + 100 * round_ + i), actor=STAFF)
                 for i in range(THREADS - 1)]
        outcomes = _race(jobs)
        seen = get_session(pg, session.id)
        if isinstance(outcomes[0], Exception):
            assert isinstance(outcomes[0], errors.CapacityBelowBooked), outcomes[0]
            assert seen.max_capacity == 12
        else:
            assert seen.max_capacity == 8 and seen.current_bookings <= 8
        assert all(isinstance(o, errors.SessionFull) for o in outcomes[1:] if isinstance(o, Exception))
        assert seen.current_bookings == 6 + sum(1 for o in outcomes[1:] if not isinstance(o, Exception))
        assert_invariants(pg)


def test_cancelling_a_session_while_31_callers_book_and_hold_leaves_no_place_taken(pg, make_session):
    from core.sessions import cancel_session
    from tests.actors import ADMIN

    for round_ in range(3):
        session = make_session(12)
        jobs = [lambda: cancel_session(pg, session.id, actor=ADMIN, reason="Room flooded")]
        jobs += [lambda i=i: (booking.book(pg, session.id, **_person(80_000 + 100 * round_ + i), actor=STAFF)
                              if i % 3 else holds.place_hold(pg, session.id, 1, actor=STAFF))
                 for i in range(THREADS - 1)]
        outcomes = _race(jobs)
        assert not isinstance(outcomes[0], Exception), outcomes[0]
        refused = [o for o in outcomes[1:] if isinstance(o, Exception)]
        assert all(isinstance(o, (errors.SessionNotBookable, errors.SessionFull)) for o in refused), refused
        seen = get_session(pg, session.id)
        assert (seen.status, seen.current_bookings, seen.held) == ("cancelled", 0, 0)
        assert {b.status for b in booking.list_bookings(pg, session.id)} <= {"rebook"}
        assert_invariants(pg)
