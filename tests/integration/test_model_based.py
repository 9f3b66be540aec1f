"""Random sequences of schedule and booking operations against a plain in-memory model.

After every step the database and the model agree and the invariants hold.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from core import booking, errors, sessions
from core.availability import get_session
from core.config import today
from core.db import forget_engine
from tests.conftest import assert_invariants
from tests.actors import ADMIN, STAFF


class Model:
    def __init__(self):
        self.capacity: dict = {}      # session id -> capacity
        self.cancelled: set = set()   # cancelled session ids
        self.bookings: dict = {}      # booking id -> (session id, seats, status)

    def booked(self, sid) -> int:
        return sum(s for (b_sid, s, st_) in self.bookings.values() if b_sid == sid and st_ == "confirmed")


def machine_for(engine):
    day = today() + dt.timedelta(days=30)

    class Schedule(RuleBasedStateMachine):
        session_ids = Bundle("sessions")
        booking_ids = Bundle("bookings")

        def __init__(self):
            super().__init__()
            self.model = Model()
            self.n = 0

        def teardown(self):
            # each example has its own database: close its connections now, not after all
            # of them (25 examples' pools at once came near PostgreSQL's 100 connections)
            forget_engine(engine)

        @rule(target=session_ids, capacity=st.integers(1, 12), site=st.sampled_from(["Location A", "Location B"]))
        def create(self, capacity, site):
            made = sessions.create_session(engine, course_type="CPR and AED", session_date=day,
                                           start_time="09:30", end_time="12:30", location=site, max_capacity=capacity, actor=ADMIN)
            self.model.capacity[made.id] = capacity
            return made.id

        @rule(target=booking_ids, sid=session_ids, seats=st.integers(1, 12))
        def book(self, sid, seats):
            self.n += 1
            expect_ok = sid not in self.model.cancelled and self.model.booked(sid) + seats <= self.model.capacity[sid]
            try:
                made = booking.book(engine, sid, seats=seats, contact_name=f"Person {self.n}",
                                    contact_email=f"p{self.n}@example.com", actor=STAFF)
            except errors.SessionFull as exc:
                assert not expect_ok
                assert exc.remaining == self.model.capacity[sid] - self.model.booked(sid)
                return None
            except errors.SessionNotBookable:
                assert sid in self.model.cancelled
                return None
            assert expect_ok
            self.model.bookings[made.id] = (sid, seats, "confirmed")
            return made.id

        @rule(bid=booking_ids)
        def cancel(self, bid):
            if bid is None:
                return
            sid, seats, status = self.model.bookings[bid]
            try:
                booking.cancel(engine, bid, actor=STAFF)
            except errors.BookingNotActive:
                assert status == "cancelled"
                return
            assert status in ("confirmed", "rebook")
            self.model.bookings[bid] = (sid, seats, "cancelled")

        @rule(bid=booking_ids, to=session_ids)
        def move(self, bid, to):
            if bid is None:
                return
            sid, seats, status = self.model.bookings[bid]
            fits = to not in self.model.cancelled and self.model.booked(to) + seats <= self.model.capacity[to]
            try:
                booking.move(engine, bid, to, actor=STAFF)
            except errors.BookingNotActive:
                assert status == "cancelled"
            except errors.InvalidInput:
                assert to == sid
            except (errors.SessionFull, errors.SessionNotBookable):
                assert not fits
            else:
                assert status != "cancelled" and to != sid and fits
                self.model.bookings[bid] = (to, seats, "confirmed")

        @rule(sid=session_ids, capacity=st.integers(1, 12))
        def set_capacity(self, sid, capacity):
            try:
                sessions.set_capacity(engine, sid, capacity, actor=ADMIN)
            except errors.CapacityBelowBooked:
                assert capacity < self.model.booked(sid)
            else:
                assert capacity >= self.model.booked(sid)
                self.model.capacity[sid] = capacity

        @precondition(lambda self: self.model.capacity)
        @rule(sid=session_ids)
        def cancel_session(self, sid):
            try:
                sessions.cancel_session(engine, sid, actor=ADMIN)
            except errors.InvalidInput:
                assert sid in self.model.cancelled
                return
            self.model.cancelled.add(sid)
            for bid, (b_sid, seats, status) in list(self.model.bookings.items()):
                if b_sid == sid and status == "confirmed":
                    self.model.bookings[bid] = (b_sid, seats, "rebook")

        @invariant()
        def database_agrees_with_model(self):
            for sid, capacity in self.model.capacity.items():
                row = get_session(engine, sid)
                assert row.max_capacity == capacity
                assert row.current_bookings == self.model.booked(sid)
                assert row.status == ("cancelled" if sid in self.model.cancelled else "scheduled")
            assert_invariants(engine)

    return Schedule


def test_random_operation_sequences_agree_with_a_model(engine, make_database):
    """Each example needs a clean database: hypothesis calls the machine many times."""
    kind = engine.dialect.name

    def fresh_machine():
        machine = machine_for(make_database("duckdb" if kind == "duckdb" else "postgresql"))
        return machine()

    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        fresh_machine,
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )


pytestmark = pytest.mark.timeout(600)
