"""Holds while on the phone, and waiting lists, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from core import background, booking, changes, errors, holds, sessions, waitlist
from core.availability import find_sessions, get_session
from tests.conftest import assert_invariants
from tests.integration.test_races import _race
from tests.actors import ADMIN, STAFF
from core.access import Actor
import core.clock
from core import config
from core.clock import ManualClock


def _person(i: int) -> dict:
    return dict(contact_name=f"Caller {i}", contact_email=f"caller{i}@example.com")


class FrozenClock:
    """The core's one clock, stopped at a known instant, so expiry can be tested to the second."""

    def __init__(self, monkeypatch):
        self._clock = ManualClock(config.utc_now().replace(microsecond=0))
        monkeypatch.setattr(core.clock, "_override", self._clock)  # the real clock again after the test

    @property
    def now(self) -> dt.datetime:
        return self._clock.utc_now()

    def advance(self, **delta):
        self._clock.advance(**delta)


def test_a_hold_counts_against_availability_at_once_and_shows_who_holds_it(engine, new_session):
    session = new_session(max_capacity=3)
    hold = holds.place_hold(engine, session.id, 2, held_by="Sam", minutes=10, actor=STAFF)
    seen = get_session(engine, session.id)
    assert (seen.remaining, seen.held, seen.state) == (1, 2, "almost_full")
    [listed] = holds.list_holds(engine, session.id)
    assert (listed.id, listed.held_by, listed.seats) == (hold.id, "Sam", 2)
    assert 590 <= listed.seconds_left(listed.created_at) <= 600
    with pytest.raises(errors.SessionFull, match="Only 1 place left"):
        booking.book(engine, session.id, seats=2, **_person(1), actor=STAFF)
    assert_invariants(engine)


def test_a_hold_expires_at_its_boundary_second_without_anyone_doing_anything(engine, new_session, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = new_session(max_capacity=2)
    holds.place_hold(engine, session.id, 2, held_by="Sam", minutes=7, actor=STAFF)
    clock.advance(minutes=7, microseconds=-1)
    assert get_session(engine, session.id).remaining == 0
    with pytest.raises(errors.SessionFull):
        booking.book(engine, session.id, **_person(1), actor=STAFF)
    clock.advance(microseconds=1)  # exactly the expiry instant: the hold is over
    assert get_session(engine, session.id).remaining == 2
    assert holds.list_holds(engine, session.id) == []
    assert booking.book(engine, session.id, seats=2, **_person(1), actor=STAFF).seats == 2
    assert_invariants(engine)


def test_booking_from_a_hold_converts_it_and_an_expired_hold_cannot_be_converted(engine, new_session, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = new_session(max_capacity=4)
    kept = holds.place_hold(engine, session.id, 3, held_by="Sam", actor=STAFF)
    made = holds.book_from_hold(engine, kept.id, seats=2, **_person(1), actor=Actor('Sam', "staff"))
    assert made.seats == 2
    seen = get_session(engine, session.id)
    assert (seen.current_bookings, seen.held, seen.remaining) == (2, 0, 2)
    late = holds.place_hold(engine, session.id, 1, held_by="Kim", minutes=1, actor=STAFF)
    clock.advance(minutes=1)
    with pytest.raises(errors.HoldNotActive, match="has expired"):
        holds.book_from_hold(engine, late.id, **_person(2), actor=STAFF)
    with pytest.raises(errors.HoldNotActive, match="was converted"):
        holds.book_from_hold(engine, kept.id, **_person(3), actor=STAFF)
    assert get_session(engine, session.id).current_bookings == 2
    assert_invariants(engine)


def test_releasing_a_hold_gives_the_places_back(engine, new_session):
    session = new_session(max_capacity=2)
    hold = holds.place_hold(engine, session.id, 2, held_by="Sam", actor=STAFF)
    holds.release_hold(engine, hold.id, actor=Actor('Sam', "staff"))
    assert get_session(engine, session.id).remaining == 2
    with pytest.raises(errors.HoldNotActive, match="was released"):
        holds.release_hold(engine, hold.id, actor=STAFF)
    assert_invariants(engine)


def test_the_waiting_list_opens_only_when_too_few_places_are_left(engine, new_session):
    session = new_session(max_capacity=2)
    with pytest.raises(errors.InvalidInput, match="2 places are free .*: book instead"):
        waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    booking.book(engine, session.id, **_person(1), actor=STAFF)
    entry = waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", seats=2, actor=STAFF)
    assert entry.position == 1
    with pytest.raises(errors.InvalidInput, match="already on the waiting list"):
        waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", seats=2, actor=STAFF)
    assert get_session(engine, session.id).waiting == 1


def test_freed_places_go_to_the_first_waiting_entry_that_fits_in_the_same_transaction(engine, new_session):
    session = new_session(max_capacity=3)
    first = booking.book(engine, session.id, seats=2, **_person(1), actor=STAFF)
    booking.book(engine, session.id, seats=1, **_person(2), actor=STAFF)
    big = waitlist.join_waitlist(engine, session.id, name="Big Group", email="big@example.com", seats=3, actor=STAFF)
    small = waitlist.join_waitlist(engine, session.id, name="Small One", email="small@example.com", seats=1, actor=STAFF)
    later = waitlist.join_waitlist(engine, session.id, name="Later One", email="later@example.com", seats=1, actor=STAFF)
    assert [e.position for e in waitlist.list_waitlist(engine, session.id)] == [1, 2, 3]
    booking.cancel(engine, first.id, actor=STAFF)  # frees 2: Big Group (3) does not fit, the next two do
    left = waitlist.list_waitlist(engine, session.id)
    assert [(e.id, e.position) for e in left] == [(big.id, 1)]
    ended = {e.id: e for e in waitlist.list_waitlist(engine, session.id, include_ended=True)}
    assert ended[small.id].status == ended[later.id].status == "promoted"
    names = sorted(b.contact_name for b in booking.list_bookings(engine, session.id))
    assert names == ["Caller 2", "Later One", "Small One"]
    assert get_session(engine, session.id).remaining == 0
    assert_invariants(engine)


def test_raising_capacity_promotes_the_waiting_list(engine, new_session):
    session = new_session(max_capacity=1)
    booking.book(engine, session.id, **_person(1), actor=STAFF)
    waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", seats=2, actor=STAFF)
    sessions.set_capacity(engine, session.id, 3, actor=ADMIN)
    assert get_session(engine, session.id).current_bookings == 3
    assert waitlist.list_waitlist(engine, session.id) == []
    assert_invariants(engine)


def test_a_withdrawn_entry_is_never_promoted(engine, new_session):
    session = new_session(max_capacity=1)
    made = booking.book(engine, session.id, **_person(1), actor=STAFF)
    entry = waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    waitlist.withdraw(engine, entry.id, actor=STAFF)
    booking.cancel(engine, made.id, actor=STAFF)
    assert get_session(engine, session.id).current_bookings == 0
    with pytest.raises(errors.InvalidInput, match="no longer on the waiting list"):
        waitlist.withdraw(engine, entry.id, actor=STAFF)


def test_full_sessions_say_how_many_are_waiting_in_the_calendar_query(engine, new_session, future_day):
    session = new_session(max_capacity=1)
    booking.book(engine, session.id, **_person(1), actor=STAFF)
    for i in range(3):
        waitlist.join_waitlist(engine, session.id, name=f"Waiter {i}", email=f"w{i}@example.com", actor=STAFF)
    [seen] = find_sessions(engine, future_day, future_day)
    assert (seen.state, seen.waiting) == ("full", 3)


def test_places_freed_while_bookings_and_waiting_list_joins_race_skip_nobody(engine, new_session):
    session = new_session(max_capacity=6)
    sold = [booking.book(engine, session.id, **_person(i), actor=STAFF) for i in range(6)]
    waiting = [waitlist.join_waitlist(engine, session.id, name=f"Waiter {i}", email=f"w{i}@example.com", actor=STAFF)
               for i in range(4)]

    def job(i):
        if i < 3:
            return booking.cancel(engine, sold[i].id, actor=STAFF)
        if i < 8:
            return booking.book(engine, session.id, **_person(100 + i), actor=STAFF)
        return waitlist.join_waitlist(engine, session.id, name=f"Late {i}", email=f"late{i}@example.com", actor=STAFF)

    outcomes = _race(12, job)
    for o in outcomes:
        assert not isinstance(o, Exception) or isinstance(o, (errors.SessionFull, errors.InvalidInput)), o
    ended = {e.id: e for e in waitlist.list_waitlist(engine, session.id, include_ended=True)}
    # the three freed places went to the first three who were waiting, in order
    assert [ended[w.id].status for w in waiting] == ["promoted", "promoted", "promoted", "waiting"]
    newcomers = [o for o in outcomes[3:8] if not isinstance(o, Exception)]
    assert newcomers == []
    assert get_session(engine, session.id).current_bookings == 6
    assert_invariants(engine)


def test_the_sweeper_gives_an_expired_holds_places_to_the_waiting_list_and_moves_the_version(
        engine, new_session, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = new_session(max_capacity=2)
    holds.place_hold(engine, session.id, 2, actor=STAFF, minutes=5)
    entry = waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    assert holds.expire_due_holds(engine) == 0
    clock.advance(minutes=5)
    cursor = changes.feed_cursor(engine)
    assert holds.expire_due_holds(engine) == 1
    caused = changes.changes_since(engine, cursor)
    assert [(c.action, c.actor) for c in caused.changes] == [("hold.expired", "system"), ("waitlist.promoted", "system")]
    assert caused.latest > cursor.version and caused.session_ids == {session.id}
    seen = get_session(engine, session.id)
    assert (seen.current_bookings, seen.held, seen.waiting) == (1, 0, 0)
    [promoted] = waitlist.list_waitlist(engine, session.id, include_ended=True)
    assert (promoted.id, promoted.status) == (entry.id, "promoted")
    assert holds.expire_due_holds(engine) == 0  # reaped once, whoever sweeps
    assert_invariants(engine)


def test_the_sweeper_thread_expires_holds_without_anyone_asking(engine, new_session):
    import time

    session = new_session(max_capacity=1)
    holds.place_hold(engine, session.id, 1, actor=STAFF, minutes=0.01)  # under a second
    version = changes.latest_version(engine)
    holds.start_expiry_sweeper(engine, every=0.2)
    try:
        deadline = time.monotonic() + 15
        while changes.latest_version(engine) == version and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        holds.stop_expiry_sweeper(engine)
    assert changes.latest_version(engine) == version + 1
    assert get_session(engine, session.id).remaining == 1



def test_a_sweeper_cut_off_by_the_database_at_exit_ends_quietly(engine, monkeypatch, caplog):
    """At interpreter exit DuckDB may interrupt a query the sweeper is running (seen in CI
    output after every test had passed): the sweeper ends without an error traceback.
    Any other failure is still logged, and the sweeper carries on."""
    import logging
    import threading

    import sqlalchemy as sa

    class InterruptException(Exception):  # the name DuckDB's driver gives it
        pass

    calls = []
    failed_once = threading.Event()

    def failing(current):
        calls.append(1)
        if len(calls) == 1:
            failed_once.set()
            raise sa.exc.DatabaseError("SELECT ...", {}, RuntimeError("disk full"))
        raise sa.exc.DatabaseError("SELECT ...", {}, InterruptException("INTERRUPT Error: Interrupted!"))

    monkeypatch.setattr(holds, "expire_due_holds", failing)
    caplog.set_level(logging.INFO, logger=holds.log.name)
    holds.start_expiry_sweeper(engine, every=0.01)
    thread = background.thread(engine, holds.SWEEPER)
    thread.join(timeout=10)
    assert failed_once.is_set() and not thread.is_alive()
    assert len(calls) == 2  # went on after the first failure, ended at the interruption
    errors_logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors_logged] == ["hold sweeper failed"]  # the disk, not the interruption
