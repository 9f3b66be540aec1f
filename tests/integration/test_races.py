"""Real threads racing for the same places, on DuckDB and PostgreSQL."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core import booking, errors
from core.availability import get_session
from tests.conftest import assert_invariants
from tests.actors import STAFF


@pytest.fixture
def engine(every_booking_path):
    """Each test here on DuckDB, on PostgreSQL's one-statement booking and on its general path."""
    return every_booking_path


def _race(workers: int, job):
    """Run job(i) on `workers` threads released at the same moment; return results/errors."""
    gate = threading.Barrier(workers)

    def run(i):
        gate.wait()
        try:
            return job(i)
        except errors.BookingError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


def _person(i: int) -> dict:
    return dict(contact_name=f"Caller {i}", contact_email=f"caller{i}@example.com")


def test_last_places_taken_by_50_callers_at_once_are_sold_exactly_once(engine, new_session):
    session = new_session()
    outcomes = _race(50, lambda i: booking.book(engine, session.id, **_person(i), actor=STAFF))
    sold = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(sold) == 12
    assert all(isinstance(o, errors.SessionFull) for o in refused), {type(o).__name__ for o in refused}
    assert get_session(engine, session.id).current_bookings == 12
    assert_invariants(engine)


def test_groups_of_mixed_sizes_never_overfill_a_session(engine, new_session):
    session = new_session()
    sizes = [random.Random(i).choice([1, 2, 3, 4, 5]) for i in range(40)]
    outcomes = _race(40, lambda i: booking.book(engine, session.id, seats=sizes[i], **_person(i), actor=STAFF))
    sold = sum(o.seats for o in outcomes if not isinstance(o, Exception))
    assert all(isinstance(o, errors.SessionFull) for o in outcomes if isinstance(o, Exception))
    assert sold == get_session(engine, session.id).current_bookings
    assert 12 - min(sizes) < sold <= 12  # a refused group means too few places were left
    assert_invariants(engine)


def test_cancellations_racing_bookings_keep_the_counter_equal_to_the_ledger(engine, new_session):
    session = new_session()
    early = [booking.book(engine, session.id, seats=2, **_person(100 + i), actor=STAFF) for i in range(6)]

    def job(i):
        if i < len(early):
            return booking.cancel(engine, early[i].id, actor=STAFF)
        return booking.book(engine, session.id, seats=2, **_person(i), actor=STAFF)

    outcomes = _race(30, job)
    assert all(isinstance(o, errors.SessionFull) for o in outcomes if isinstance(o, Exception))
    assert_invariants(engine)
    assert get_session(engine, session.id).current_bookings <= 12


def test_moves_between_two_nearly_full_sessions_lose_and_duplicate_nothing(engine, new_session):
    a = new_session(location="Location A")
    b = new_session(location="Location B")
    on_a = [booking.book(engine, a.id, **_person(i), actor=STAFF) for i in range(11)]
    on_b = [booking.book(engine, b.id, **_person(50 + i), actor=STAFF) for i in range(11)]

    def job(i):
        if i % 2:
            return booking.move(engine, on_a[i].id, b.id, actor=STAFF)
        return booking.move(engine, on_b[i].id, a.id, actor=STAFF)

    outcomes = _race(10, job)
    for o in outcomes:
        assert not isinstance(o, Exception) or isinstance(o, errors.SessionFull), o
    assert_invariants(engine)
    total = get_session(engine, a.id).current_bookings + get_session(engine, b.id).current_bookings
    assert total == 22



def test_callers_on_eight_sessions_at_once_with_cancels_and_moves_among_them_oversell_nothing(engine, new_session):
    """Callers on eight sessions at once, with cancellations and moves on two other
    sessions among them: each of the eight sells exactly its 12 places to its 14 callers,
    the counters match the ledger, and nobody is told the system is busy."""
    sessions = [new_session(start_time=f"{8 + i:02d}:00", end_time=f"{8 + i:02d}:45") for i in range(10)]
    filled, side = sessions[:8], sessions[8:]
    early = [booking.book(engine, side[i % 2].id, **_person(500 + i), actor=STAFF) for i in range(8)]

    def job(i):
        if i < 4:
            return booking.cancel(engine, early[i].id, actor=STAFF)
        if i < 8:
            return booking.move(engine, early[i].id, side[(i + 1) % 2].id, actor=STAFF)
        return booking.book(engine, filled[i % 8].id, **_person(i), actor=STAFF)

    outcomes = _race(120, job)
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(o, errors.SessionFull) for o in failures), {type(o).__name__ for o in failures}
    assert len(failures) == 112 - 96
    assert [get_session(engine, s.id).current_bookings for s in filled] == [12] * 8
    assert sum(get_session(engine, s.id).current_bookings for s in side) == 4
    assert_invariants(engine)


def test_a_double_click_with_one_idempotency_key_books_once(engine, new_session):
    session = new_session()
    outcomes = _race(8, lambda i: booking.book(engine, session.id, idempotency_key="form-42", **_person(1), actor=STAFF))
    ids = {o.id for o in outcomes}
    assert len(ids) == 1, outcomes
    assert get_session(engine, session.id).current_bookings == 1
    assert_invariants(engine)


def test_a_duckdb_write_conflict_is_retried_then_reported_busy(make_database, future_day, monkeypatch):
    """Another connection holding the same row makes our write retry, then say busy."""
    import sqlalchemy as sa

    from core import db
    from core.sessions import create_session
    from tests.actors import ADMIN

    engine = make_database("duckdb")
    session = create_session(engine, course_type="First Aid at Work", session_date=future_day, start_time="09:00",
                             end_time="16:30", location="Location A", actor=ADMIN)
    monkeypatch.setattr(db, "WRITE_ATTEMPTS", 3)
    other = engine.connect()
    held = other.begin()
    # The same statement the core uses: DuckDB 2.0.1 does not see a conflict between an
    # UPDATE ... RETURNING and a plain UPDATE of the same row.
    other.execute(sa.text("UPDATE change_counter SET version = version + 1 RETURNING version"))
    try:
        with pytest.raises(errors.Busy, match="nothing was saved"):
            booking.book(engine, session.id, **_person(1), actor=STAFF)
    finally:
        held.rollback()
        other.close()
    assert get_session(engine, session.id).current_bookings == 0
    assert booking.book(engine, session.id, **_person(1), actor=STAFF).seats == 1
