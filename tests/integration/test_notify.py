"""The per-process change hub (core.notify): fed by this process's commits and, on
PostgreSQL, by LISTEN/NOTIFY from other processes; and what one push link gets from it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from core import booking, notify
from core.changes import NOTIFY_CHANNEL, latest_version
from tests.actors import ADMIN, STAFF

CONTACT = dict(contact_name="Priya Shah", contact_email="priya@example.co.uk")


def wait_until(check, what: str, timeout: float = 10.0) -> None:
    """Poll a condition (not a fixed sleep) until it holds, or fail naming it."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def hub(engine):
    started = notify.ChangeHub(engine).start()
    yield started
    started.stop()


@pytest.fixture
def pg_engine(make_database):
    return make_database("postgresql")


@pytest.fixture
def other_process(pg_engine):
    """A second engine on the same database, as another app process would have: its
    commits do not reach this process's hub directly, only through NOTIFY."""
    url = pg_engine.url.update_query_dict({"application_name": "other-app-process"})
    other = sa.create_engine(url)
    yield other
    other.dispose()


@pytest.fixture
def pg_hub(pg_engine):
    started = notify.ChangeHub(pg_engine).start()
    wait_until(lambda: started.state == "listening", "the listener to connect")
    yield started
    started.stop()


def _admin(engine, sql: str, **params):
    with engine.connect() as conn:
        value = conn.execute(sa.text(sql), params).scalar()
        conn.commit()
        return value


# --- fed by this process ------------------------------------------------------------------


def test_a_hub_starts_at_the_database_version_and_follows_every_commit_of_this_process(engine, new_session, hub):
    heard = []
    hub.subscribe(heard.append)
    session = new_session()
    wait_until(lambda: hub.version == latest_version(engine) > 0, "the hub to hear the new session")
    booking.book(engine, session.id, **CONTACT, actor=STAFF)
    booking.book(engine, session.id, seats=2, **CONTACT, actor=STAFF)
    now = latest_version(engine)
    wait_until(lambda: hub.version == now, "the hub to hear both bookings")
    # Commits close together may be announced as one: each version heard once, in order,
    # the last one the newest.
    assert heard and heard[-1] == now and heard == sorted(set(heard)) and heard[0] > now - 3


def test_a_version_never_moves_backwards_and_an_old_one_wakes_nobody():
    hub = notify.ChangeHub(sa.create_engine("sqlite://"), listen=False)
    heard = []
    hub.subscribe(heard.append)
    assert hub.publish(5) is True
    assert hub.publish(3) is False
    assert hub.publish(5) is False
    assert hub.version == 5 and heard == [5]


def test_a_failing_subscriber_does_not_keep_the_news_from_the_others():
    hub = notify.ChangeHub(sa.create_engine("sqlite://"), listen=False)
    heard = []

    def broken(_version):
        raise RuntimeError("gone")

    hub.subscribe(broken)
    hub.subscribe(heard.append)
    hub.publish(1)
    assert heard == [1]


def test_the_process_hub_is_started_once_and_gone_after_stop(engine):
    try:
        first = notify.start(engine)
        assert notify.start(engine) is first and notify.current() is first
        expected = ("connecting", "listening") if engine.dialect.name == "postgresql" else ("in-process",)
        assert first.state in expected
    finally:
        notify.stop()
    assert notify.current() is None and first.state == "stopped"


# --- fed by other processes (PostgreSQL LISTEN/NOTIFY) ------------------------------------


@pytest.mark.postgres
def test_a_write_by_another_app_process_reaches_the_hub_through_notify(pg_engine, pg_hub, other_process, future_day):
    from core.sessions import create_session

    session = create_session(other_process, course_type="CPR and AED", session_date=future_day,
                             start_time="09:00", end_time="12:00", location="Location B", actor=ADMIN)
    booking.book(other_process, session.id, **CONTACT, actor=STAFF)
    wait_until(lambda: pg_hub.version == latest_version(pg_engine), "the other process's booking to reach the hub")


@pytest.mark.postgres
def test_the_listener_reconnects_when_its_connection_is_killed_and_catches_up_on_what_it_missed(
        pg_engine, pg_hub, other_process, future_day):
    from core.sessions import create_session

    killed = pg_hub.listener_pid
    assert _admin(pg_engine, "SELECT pg_terminate_backend(:pid)", pid=killed) is True
    # Written while the listener may well be down: the catch-up read must find it.
    session = create_session(other_process, course_type="First Aid at Work", session_date=future_day,
                             start_time="09:00", end_time="16:30", location="Location A", actor=ADMIN)
    wait_until(lambda: pg_hub.version == latest_version(pg_engine), "the hub to catch up after the kill")
    wait_until(lambda: pg_hub.state == "listening" and pg_hub.listener_pid != killed, "a new listener connection")
    booking.book(other_process, session.id, **CONTACT, actor=STAFF)
    wait_until(lambda: pg_hub.version == latest_version(pg_engine), "a booking after the reconnect")
    assert pg_hub.connections >= 2


@pytest.mark.postgres
def test_a_notification_from_another_schema_never_moves_the_hub_past_its_own_database(
        pg_engine, pg_hub, other_process, future_day):
    from core.sessions import create_session

    _admin(pg_engine, "SELECT pg_notify(:channel, '999999')", channel=NOTIFY_CHANNEL)
    create_session(other_process, course_type="Paediatric First Aid", session_date=future_day,
                   start_time="09:00", end_time="16:00", location="Location A", actor=ADMIN)
    # Notifications arrive in commit order, so once this write is in, the stranger was read too.
    wait_until(lambda: pg_hub.version == latest_version(pg_engine), "the real write to reach the hub")
    assert pg_hub.version < 999999


# --- one push link ------------------------------------------------------------------------


def _bare_hub(version: int = 0) -> notify.ChangeHub:
    hub = notify.ChangeHub(sa.create_engine("sqlite://"), listen=False)
    if version:
        hub.publish(version)
    return hub


def _run(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps a loop in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _next(updates, timeout: float = 5.0):
    return await asyncio.wait_for(anext(updates), timeout)


def test_a_link_gets_the_version_at_once_then_each_spaced_bump_exactly_once_and_in_order():
    async def scenario():
        hub = _bare_hub(7)
        async with contextlib.aclosing(notify.follow(hub, min_gap=0.05, heartbeat=60)) as updates:
            assert await _next(updates) == ("version", 7)
            got = []
            for version in (8, 9, 10, 11):
                hub.publish(version)
                got.append(await _next(updates))
            return got

    assert _run(scenario()) == [("version", v) for v in (8, 9, 10, 11)]


def test_a_burst_of_100_versions_in_a_second_reaches_a_link_as_a_handful_ending_with_the_latest():
    async def scenario():
        hub = _bare_hub()
        loop = asyncio.get_running_loop()

        def burst():  # from another thread, as the listener or a page's write would
            for version in range(1, 101):
                hub.publish(version)
                time.sleep(0.01)  # pacing the load: 100 writes spread over about a second

        received = []
        async with contextlib.aclosing(notify.follow(hub, min_gap=0.2, heartbeat=60)) as updates:
            assert await _next(updates) == ("version", 0)
            writer = loop.run_in_executor(None, burst)
            while not received or received[-1][1] < 100:
                kind, version = await _next(updates)
                assert kind == "version"
                received.append((loop.time(), version))
            await writer
        return received

    received = _run(scenario())
    versions = [v for _, v in received]
    assert versions == sorted(set(versions)) and versions[-1] == 100
    assert len(versions) <= 8, versions  # ~1 s at one per 200 ms, plus the first at once
    gaps = [b[0] - a[0] for a, b in zip(received, received[1:])]
    assert all(gap >= 0.19 for gap in gaps), gaps


def test_a_quiet_link_sends_heartbeats_carrying_the_current_version():
    async def scenario():
        hub = _bare_hub(3)
        async with contextlib.aclosing(notify.follow(hub, heartbeat=0.05)) as updates:
            return [await _next(updates) for _ in range(3)]

    assert _run(scenario()) == [("version", 3), ("heartbeat", 3), ("heartbeat", 3)]


def test_links_that_close_leave_no_subscriber_behind_after_100_open_close_cycles():
    hub = _bare_hub(1)

    async def scenario():
        for _ in range(100):
            async with contextlib.aclosing(notify.follow(hub)) as updates:
                await _next(updates)
                assert hub.subscriber_count == 1
        open_links = [notify.follow(hub) for _ in range(5)]
        for link in open_links:
            await _next(link)
        assert hub.subscriber_count == 5
        for link in open_links:
            await link.aclose()

    _run(scenario())
    assert hub.subscriber_count == 0


def test_a_publish_from_another_thread_wakes_a_waiting_link():
    async def scenario():
        hub = _bare_hub(1)
        async with contextlib.aclosing(notify.follow(hub, min_gap=0.01, heartbeat=60)) as updates:
            await _next(updates)
            threading.Thread(target=hub.publish, args=(2,)).start()
            return await _next(updates)

    assert _run(scenario()) == ("version", 2)
