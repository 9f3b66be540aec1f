"""Faults: the process that books is killed mid-burst; nothing is lost or half made."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa

from core.db import forget_engine, get_engine
from tests.conftest import assert_invariants


def _start_burst(url: str, session_ids: list) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.tools.burst", url, *map(str, session_ids)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _read_confirmed(proc: subprocess.Popen, until: int) -> list[str]:
    """Read confirmations until `until` of them arrived (or the burst ended)."""
    confirmed = []
    for line in proc.stdout:
        if line.startswith("OK "):
            confirmed.append(line.split()[1])
            if len(confirmed) >= until:
                break
        elif line.startswith("DONE"):
            break
    return confirmed


def test_killing_the_booking_process_mid_burst_loses_no_confirmed_booking(engine, new_session):
    sessions = [new_session(location=loc, max_capacity=12) for loc in ("Location A", "Location B") for _ in range(5)]
    url = engine.url.render_as_string(hide_password=False)
    forget_engine(engine)  # DuckDB: only one process may have the file open
    proc = _start_burst(url, [s.id for s in sessions])
    try:
        confirmed = _read_confirmed(proc, until=40)
        os.killpg(proc.pid, signal.SIGKILL)
        # whatever was still in the pipe was also confirmed before the kill
        rest, _ = proc.communicate(timeout=30)
        confirmed += [line.split()[1] for line in rest.splitlines() if line.startswith("OK ")]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert len(confirmed) >= 40
    reopened = get_engine(url)
    with reopened.connect() as conn:
        refs = set(conn.execute(sa.text("SELECT reference FROM bookings")).scalars())
        orphans = conn.execute(sa.text(
            "SELECT COUNT(*) FROM bookings b WHERE NOT EXISTS "
            "(SELECT 1 FROM booking_attendees a WHERE a.booking_id = b.id)")).scalar_one()
        versions = conn.execute(sa.text("SELECT COUNT(*) FROM changes WHERE action = 'booking.created'")).scalar_one()
    assert set(confirmed) <= refs, set(confirmed) - refs
    assert len(confirmed) == len(set(confirmed))
    assert orphans == 0  # every booking has its attendee row: no half-made booking
    assert versions == len(refs)  # one change-feed row per booking, none missing
    assert_invariants(reopened)


pytestmark = pytest.mark.timeout(120)



@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_pooled_connections_killed_while_idle_are_replaced_before_anyone_uses_them(engine, new_session, monkeypatch):
    """A database restart closes every idle pooled connection; the next booking and the
    next read must not fail for it: a connection idle for a while is pinged before use."""
    from core import availability, booking, db
    from tests.actors import STAFF

    session = new_session()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle
    with engine.connect() as a, engine.connect() as b:  # two connections, back in the pool after
        pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c in (a, b)]
    admin = sa.create_engine(engine.url)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM unnest(%(p)s::int[]) AS pid", {"p": pids})
    finally:
        admin.dispose()

    made = booking.book(engine, session.id, contact_name="Ann Idle", contact_email="ann@example.co.uk",
                        actor=STAFF)
    assert availability.get_session(engine, session.id).current_bookings == 1
    assert made.reference.startswith("BK-")
    assert_invariants(engine)


def test_booking_when_the_database_cannot_be_reached_says_so_in_one_line():
    from core import booking, errors
    from tests.actors import STAFF

    engine = get_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    try:
        with pytest.raises(errors.DatabaseUnavailable) as refused:
            booking.book(engine, "00000000-0000-4000-8000-000000000001", contact_name="Ann Down",
                         contact_email="ann@example.co.uk", actor=STAFF)
        assert str(refused.value).startswith("Cannot reach the database postgresql+psycopg://postgres@127.0.0.1:1/")
        assert "\n" not in str(refused.value)
    finally:
        forget_engine(engine)
