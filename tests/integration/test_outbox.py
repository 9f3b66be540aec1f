"""Named consumers of the change feed (core/outbox.py): exactly once, in order per session."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections import defaultdict

import pytest
import sqlalchemy as sa

from core import booking, changes, holds, outbox
from core.sessions import create_session
from tests.actors import ADMIN, STAFF
from tests.conftest import count_rows
from tests.outbox_table import create_handled_table, handled_rows, record_handled

pytestmark = pytest.mark.timeout(180)


def _recorder(consumer: str):
    return lambda conn, change: record_handled(conn, change, consumer=consumer)


def _book(engine, session, n: int):
    return booking.book(engine, session.id, contact_name=f"Caller {n}", contact_email=f"caller{n}@example.co.uk",
                        actor=STAFF)


def _all_versions(engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(changes.changes.c.version)).scalars())


def _assert_each_event_once_in_order_per_session(engine, rows) -> None:
    versions = [r.version for r in rows]
    assert len(versions) == len(set(versions)) == count_rows(engine, "changes")
    assert sorted(versions) == _all_versions(engine)
    per_session = defaultdict(list)
    for r in rows:
        per_session[r.session_id].append(r.version)
    for session_id, seen in per_session.items():
        assert seen == sorted(seen), f"session {session_id} handled out of order: {seen}"


def test_each_event_is_handled_once_in_order_per_session_across_many_small_batches(engine, new_session):
    create_handled_table(engine)
    sessions = [new_session(location=loc) for loc in ("Location A", "Location B") for _ in range(3)]
    for n in range(12):
        _book(engine, sessions[n % len(sessions)], n)
    holds.place_hold(engine, sessions[0].id, 2, actor=STAFF)

    calls, total = 0, 0
    while handled := outbox.consume(engine, "mail", _recorder("mail"), limit=3):
        calls, total = calls + 1, total + handled
    assert total == changes.latest_version(engine) == 19
    assert outbox.lag(engine, "mail") == 0
    _assert_each_event_once_in_order_per_session(engine, handled_rows(engine, "mail"))

    _book(engine, sessions[1], 99)  # later events are handled by the next call, once
    assert outbox.consume(engine, "mail", _recorder("mail"), limit=3) == 1
    assert outbox.consume(engine, "mail", _recorder("mail")) == 0
    _assert_each_event_once_in_order_per_session(engine, handled_rows(engine, "mail"))


def test_a_batch_takes_at_most_its_limit_of_events_in_one_transaction(engine, new_session):
    session = new_session()
    for n in range(7):
        _book(engine, session, n)
    seen = []  # (connection of the batch, version)

    def handle(conn, change):
        seen.append((conn, change.version))

    assert outbox.consume(engine, "counter", handle, limit=3) == 8
    batches = defaultdict(list)
    for conn, version in seen:
        batches[conn].append(version)
    assert [len(b) for b in batches.values()] == [3, 3, 2]
    assert [v for _, v in seen] == _all_versions(engine)  # one session: its events in order
    assert outbox.lag(engine, "counter") == 0


def test_a_consumer_starting_now_sees_only_later_events(engine, new_session):
    create_handled_table(engine)
    session = new_session()
    _book(engine, session, 1)
    assert outbox.lag(engine, "mail") == 2  # a name never used owes the whole feed
    assert outbox.consume(engine, "mail", _recorder("mail"), start="now") == 0
    assert outbox.lag(engine, "mail") == 0

    later = _book(engine, session, 2)
    assert outbox.lag(engine, "mail") == 1
    assert outbox.consume(engine, "mail", _recorder("mail"), start="now") == 1
    [row] = handled_rows(engine, "mail")
    with engine.connect() as conn:
        assert row.version == conn.execute(sa.select(changes.changes.c.version).where(
            changes.changes.c.booking_id == later.id)).scalar_one()


def test_two_named_consumers_are_independent(engine, new_session):
    create_handled_table(engine)
    session = new_session()
    _book(engine, session, 1)
    assert outbox.consume(engine, "mail", _recorder("mail")) == 2
    assert outbox.lag(engine, "reminders") == 2
    _book(engine, session, 2)
    assert outbox.consume(engine, "reminders", _recorder("reminders")) == 3
    assert outbox.consume(engine, "mail", _recorder("mail")) == 1
    assert len(handled_rows(engine, "mail")) == len(handled_rows(engine, "reminders")) == 3


def test_a_failing_handler_moves_nothing_and_the_next_call_handles_the_event(engine, new_session):
    create_handled_table(engine)
    session = new_session()
    for n in range(3):
        _book(engine, session, n)
    broken = {"on": True}

    def handle(conn, change):
        record_handled(conn, change, consumer="mail")  # written, then rolled back with the batch
        if broken["on"] and change.action == "booking.created":
            raise ValueError("template missing")

    assert outbox.consume(engine, "mail", handle) == 1  # the session's creation, before the failure
    assert [r.version for r in handled_rows(engine, "mail")] == [1]
    status = outbox.consumer_status(engine, "mail")
    assert status.lag == 3 and status.skipped == 0
    [failing] = status.failing
    assert failing.version == 2 and failing.attempts == 1 and failing.last_error == "ValueError: template missing"

    broken["on"] = False
    assert outbox.consume(engine, "mail", handle) == 3
    assert outbox.consumer_status(engine, "mail") == outbox.ConsumerStatus("mail", 0, (), 0)
    _assert_each_event_once_in_order_per_session(engine, handled_rows(engine, "mail"))


def test_an_event_that_always_fails_is_skipped_after_max_attempts_and_its_shard_goes_on(engine, new_session):
    create_handled_table(engine)
    session, other = new_session(), new_session(location="Location B")
    while changes.shard_of(other.id) == changes.shard_of(session.id):
        other = new_session(location="Location B")
    poison = _book(engine, session, 1)
    _book(engine, session, 2)
    _book(engine, other, 3)

    def handle(conn, change):
        if change.booking_id == poison.id:
            raise KeyError("no such template")
        record_handled(conn, change, consumer="mail")

    first = outbox.consume(engine, "mail", handle, max_attempts=3)
    assert first == 3  # both creations and the other session's booking: one bad event holds up its shard only
    assert outbox.consumer_status(engine, "mail").failing[0].attempts == 1
    assert outbox.consume(engine, "mail", handle, max_attempts=3) == 0  # tried once a call
    assert outbox.consumer_status(engine, "mail").failing[0].attempts == 2
    assert outbox.consume(engine, "mail", handle, max_attempts=3) == 1  # third failure: skipped, the shard goes on
    status = outbox.consumer_status(engine, "mail")
    assert status == outbox.ConsumerStatus("mail", 0, (), 1)
    with engine.connect() as conn:
        skipped = conn.execute(sa.text("SELECT version, attempts, error FROM event_skips")).one()
    assert skipped.attempts == 3 and "no such template" in skipped.error
    assert sorted(r.version for r in handled_rows(engine, "mail")) == [v for v in _all_versions(engine)
                                                                       if v != skipped.version]


def test_a_handler_breaking_a_constraint_counts_as_a_failure_not_an_outage(engine, new_session):
    create_handled_table(engine)
    session = new_session()

    def handle(conn, change):
        conn.execute(sa.text("INSERT INTO handled (n, version) VALUES (1, :v)"), dict(v=change.version))

    _book(engine, session, 1)  # the second event's insert repeats n = 1
    assert outbox.consume(engine, "mail", handle, max_attempts=1) == 1
    assert outbox.consume(engine, "mail", handle, max_attempts=1) == 0
    assert outbox.consumer_status(engine, "mail").skipped == 1


# --- several processes ---------------------------------------------------------------------


def _start_consumer(url: str, name: str, log_dir) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.tools.consume", url, "mail", name],
        stdout=subprocess.PIPE, stderr=open(log_dir / f"{name}.log", "w"), text=True, start_new_session=True,
    )


def _wait_ready(proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        if readable and proc.stdout.readline().strip() == "READY":
            return
        assert proc.poll() is None, f"consumer exited with {proc.returncode}"
    raise AssertionError("consumer not ready in time")


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)  # a polling interval, not a wait for something to happen


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        proc.stdout.close()


def _handled_by(engine, worker: str) -> int:
    return sum(r.worker == worker for r in handled_rows(engine))


def _keep_writing(engine, sessions: list, future_day, writes: int, failures: list) -> None:
    """Real core writes, round the sessions: bookings, holds, and new sessions now and then."""
    try:
        for n in range(writes):
            if n % 10 == 9:
                sessions.append(create_session(
                    engine, course_type="CPR and AED", session_date=future_day, start_time="13:00",
                    end_time="16:00", location="Location B", actor=ADMIN))
            elif n % 3 == 0:
                holds.place_hold(engine, sessions[n % len(sessions)].id, 1, actor=STAFF)
            else:
                _book(engine, sessions[n % len(sessions)], n)
    except BaseException as exc:  # reported by the test, not lost in the thread
        failures.append(exc)


@contextlib.contextmanager
def _consumer_processes(engine, log_dir, names):
    """Processes consuming "mail", each ready; stopped and reaped on leaving, even on failure."""
    url = engine.url.render_as_string(hide_password=False)
    procs: list[subprocess.Popen] = []
    try:
        for name in names:
            procs.append(_start_consumer(url, name, log_dir))
        for proc in procs:
            _wait_ready(proc, timeout=60)
        yield procs
    finally:
        _stop(procs)


def _start_writing(engine, new_session, future_day) -> tuple[threading.Thread, list]:
    """A thread making 150 real writes on 12 sessions (and more it creates); its failures."""
    sessions = [new_session(location=loc) for loc in ("Location A", "Location B") for _ in range(6)]
    failures: list[BaseException] = []
    writer = threading.Thread(target=_keep_writing, args=(engine, sessions, future_day, 150, failures))
    writer.start()
    return writer, failures


def _finish_writing(engine, writer: threading.Thread, failures: list) -> None:
    writer.join(timeout=120)
    assert not writer.is_alive() and not failures, failures
    _wait_until(lambda: outbox.lag(engine, "mail") == 0, timeout=60, what="every event is handled")


def _assert_every_event_handled_once(engine) -> list:
    rows = handled_rows(engine)
    assert len(rows) == changes.latest_version(engine) == 12 + 150
    _assert_each_event_once_in_order_per_session(engine, rows)
    return rows


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_two_processes_consuming_at_once_handle_every_event_exactly_once(engine, new_session, future_day,
                                                                          tmp_path):
    create_handled_table(engine)
    with _consumer_processes(engine, tmp_path, ("first", "second")) as procs:
        _finish_writing(engine, *_start_writing(engine, new_session, future_day))
        assert all(p.poll() is None for p in procs), "a consumer died"
    for proc in procs:
        assert proc.returncode == 0, (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()

    rows = _assert_every_event_handled_once(engine)
    by_worker = {w: sum(r.worker == w for r in rows) for w in ("first", "second")}
    assert all(by_worker.values()), f"the two processes did not share the work: {by_worker}"


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_consumer_process_killed_mid_batch_loses_and_repeats_no_event(engine, new_session, future_day, tmp_path):
    """SIGKILL rolls back the batch in hand (its handled rows with its cursor move): the
    other process, and a replacement, handle those events once."""
    create_handled_table(engine)
    with _consumer_processes(engine, tmp_path, ("first", "second")) as procs:
        writer, failures = _start_writing(engine, new_session, future_day)
        _wait_until(lambda: _handled_by(engine, "first") >= 20, timeout=60, what="the first process has handled some")
        os.killpg(procs[0].pid, 9)
        procs[0].wait(timeout=15)
        procs.append(_start_consumer(engine.url.render_as_string(hide_password=False), "third", tmp_path))
        _wait_ready(procs[-1], timeout=60)
        _finish_writing(engine, writer, failures)
    assert procs[0].returncode == -9
    _assert_every_event_handled_once(engine)
