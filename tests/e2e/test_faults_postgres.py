"""Faults on PostgreSQL, against a throwaway cluster of our own (never the shared server):

* the server is restarted in the middle of a burst of bookings: every booking that was
  reported as made is in the ledger once, the invariants hold, and the running app
  (server.py) answers /healthz again within 10 s, without being restarted itself;
* the app is started while the database is down: the page says so plainly (no traceback),
  and starts working by itself once the database is back.

The cluster is made with Debian's pg_createcluster on a free port (trust auth, listening
on localhost only), started, restarted and stopped with pg_ctlcluster, and dropped at the
end. Without those tools (or without root) the tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import booking, errors
from core.config import today
from core.db import forget_engine, get_engine, migrate
from core.sessions import create_sessions
from tests.actors import ADMIN, STAFF
from tests.conftest import IN_CI, assert_invariants
from tests.e2e.conftest import ROOT, _free_port, _stop

RECOVERY_SECONDS = 10
STARTUP_SECONDS = 60
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]


def _wait_until(condition, what: str, timeout: float, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)  # polling a condition, not waiting a fixed time


# --- a throwaway PostgreSQL cluster ---------------------------------------------------------


@dataclass
class Cluster:
    version: str
    name: str
    port: int

    def ctl(self, action: str, *extra: str) -> None:
        done = subprocess.run(["pg_ctlcluster", *extra, self.version, self.name, action],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"pg_ctlcluster {action}: {done.stderr or done.stdout}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def up(self) -> bool:
        engine = sa.create_engine(self.url("postgres"), connect_args={"connect_timeout": 2}, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            engine.dispose()


def _cluster_tools_reason() -> str | None:
    missing = [tool for tool in ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster") if not shutil.which(tool)]
    if missing:
        return f"no {', '.join(missing)} (Debian's postgresql-common) to make a throwaway cluster"
    if os.geteuid() != 0:
        return "making a throwaway PostgreSQL cluster needs root (pg_createcluster)"
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    return None


@pytest.fixture(scope="module")
def cluster():
    reason = _cluster_tools_reason()
    if reason:
        if IN_CI:
            pytest.fail(reason + " (CI must run the PostgreSQL fault tests)")
        pytest.skip(reason)
    version = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: float(p.parts[-3]))[-1].parts[-3]
    made = Cluster(version, f"ft_{uuid.uuid4().hex[:8]}", _free_port())
    created = subprocess.run(
        ["pg_createcluster", version, made.name, "--port", str(made.port),
         "-o", "listen_addresses=localhost", "-o", "shared_buffers=16MB", "-o", "max_connections=100",
         "--", "--auth=trust"],
        capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr or created.stdout
    try:
        made.ctl("start")
        _wait_until(made.up, "the throwaway cluster to accept connections", 60)
        yield made
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, made.name], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def database(cluster) -> str:
    """A migrated database `faults` on the throwaway cluster."""
    admin = sa.create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE faults"))
    admin.dispose()
    url = cluster.url("faults")
    migrate(get_engine(url))
    return url


@pytest.fixture
def running(cluster):
    """The cluster is up at the start and at the end of a test."""
    if not cluster.up():
        cluster.ctl("start")
        _wait_until(cluster.up, "the throwaway cluster to come up", 60)
    yield cluster
    if not cluster.up():
        cluster.ctl("start")


# --- the app ------------------------------------------------------------------------------------


class App:
    def __init__(self, database_url: str, log_path: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def get(self, path: str) -> tuple[int, dict | str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=3) as reply:
                body = reply.read().decode()
                status = reply.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read().decode(), exc.code
        except OSError:
            return 0, ""
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def serving(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"the app exited with {self.process.returncode}: {self.log()[-2000:]}")
        return self.get("/_stcore/health")[0] == 200

    def healthy(self) -> bool:
        status, body = self.get("/healthz")
        return status == 200 and isinstance(body, dict) and body.get("status") == "ok"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        _stop(self.process)
        self._log.close()


@pytest.fixture
def start_app(tmp_path):
    apps = []

    def start(database_url: str) -> App:
        app = App(database_url, tmp_path / f"app{len(apps)}.log")
        apps.append(app)
        _wait_until(app.serving, "streamlit to answer /_stcore/health", STARTUP_SECONDS)
        return app

    yield start
    for app in apps:
        app.stop()


# --- PostgreSQL restarted in the middle of a burst --------------------------------------------


class Burst:
    """Threads that book, each request under its own idempotency key, retried with the same
    key after any error but "full" until it is answered: a booking whose commit was cut off
    by the restart is found again, never made twice."""

    def __init__(self, engine, session_ids: list, threads: int = 6):
        self.engine, self.session_ids = engine, session_ids
        self.made: dict[str, str] = {}          # idempotency key -> reference, as answered
        self.answers: list[tuple[str, str]] = []  # every (key, reference) answer, retries included
        self.errors: dict[str, int] = {}
        self.full: set = set()
        self.stop = threading.Event()
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self._threads), "the burst did not finish in time"

    def count(self) -> int:
        with self._lock:
            return len(self.made)

    def _run(self) -> None:
        while not self.stop.is_set() and len(self.full) < len(self.session_ids):
            n = next(self._numbers)
            sid, key = self.session_ids[n % len(self.session_ids)], f"restart-{n}"
            while not self.stop.is_set():
                try:
                    made = booking.book(self.engine, sid, contact_name=f"Caller {n}",
                                        contact_email=f"caller{n}@example.com", idempotency_key=key, actor=STAFF)
                except errors.SessionFull:
                    self.full.add(sid)
                    break
                except (errors.DatabaseUnavailable, errors.Busy, sa.exc.DBAPIError) as exc:
                    with self._lock:
                        name = type(exc).__name__
                        self.errors[name] = self.errors.get(name, 0) + 1
                    time.sleep(0.05)  # the database is restarting: ask again shortly, same key
                    continue
                with self._lock:
                    self.answers.append((key, made.reference))
                    self.made[key] = made.reference
                break


def test_a_postgresql_restart_mid_burst_loses_no_booking_books_none_twice_and_the_app_recovers_within_10_s(
        running, database, start_app):
    engine = get_engine(database)
    day = today() + dt.timedelta(days=10)
    specs = [dict(course_type="First Aid at Work", session_date=day, start_time=f"{8 + i:02d}:00",
                  end_time=f"{8 + i:02d}:30", location=loc, max_capacity=12)
             for i in range(6) for loc in ("Location A", "Location B")]
    session_ids = [s.id for s in create_sessions(engine, specs, actor=ADMIN)]
    app = start_app(database)
    _wait_until(app.healthy, "the app's /healthz to say ok", STARTUP_SECONDS)
    pid = app.process.pid

    burst = Burst(engine, session_ids).start()
    try:
        _wait_until(lambda: burst.count() >= 25, "25 bookings before the restart", 60, every=0.02)
        before = burst.count()
        restarted = time.monotonic()
        running.ctl("restart", "-m", "fast")  # returns once the server accepts connections again
        back = time.monotonic()
        _wait_until(app.healthy, "the app's /healthz after the restart", RECOVERY_SECONDS + 5, every=0.05)
        healthy_after = time.monotonic() - back
        _wait_until(lambda: burst.count() >= before + 25, "25 more bookings after the restart", 60, every=0.02)
    finally:
        burst.stop.set()
        burst.join(timeout=60)
    print(f"\nrestart took {back - restarted:.2f} s; /healthz ok {healthy_after:.2f} s after the server was back; "
          f"{len(burst.made)} bookings answered; retried errors: {burst.errors}")

    assert app.process.poll() is None and app.process.pid == pid  # the same process, never restarted
    assert healthy_after <= RECOVERY_SECONDS
    assert burst.errors, "the restart should have interrupted some bookings (else this test proved nothing)"
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT reference, idempotency_key FROM bookings")).all()
    ledger = {r.reference: r.idempotency_key for r in rows}
    assert len(ledger) == len(rows)
    for key, reference in burst.answers:  # every answer (first or replayed) is in the ledger, under its key
        assert ledger.get(reference) == key, (key, reference)
    assert len({ref for _, ref in burst.answers}) == len(burst.made)  # one booking per key, however often asked
    assert sorted(ledger.values()) == sorted(burst.made)  # nothing booked that nobody was told of
    assert_invariants(engine)
    status, body = app.get("/healthz")
    assert status == 200 and body["version"] >= len(rows)
    forget_engine(engine)


# --- database unreachable at start-up ---------------------------------------------------------


def test_an_app_started_while_the_database_is_down_says_so_and_works_once_it_is_back(
        running, database, start_app, new_page):
    from playwright.sync_api import expect

    running.ctl("stop", "-m", "fast")
    assert not running.up()
    app = start_app(database)
    page = new_page()
    page.goto(app.base)
    notice = page.get_by_test_id("stAlertContentError").get_by_text("The database cannot be reached yet")
    expect(notice).to_be_visible(timeout=30_000)
    expect(page.get_by_text("reconnecting").first).to_be_visible()
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "psycopg" not in body.split("reconnecting")[0]
    status, health = app.get("/healthz")
    assert status == 503 and health["status"] == "unavailable"

    running.ctl("start")
    came_back = time.monotonic()
    expect(page.get_by_text("live, updated").first).to_be_visible(timeout=30_000)  # no reload by anyone
    expect(notice).to_have_count(0)
    _wait_until(app.healthy, "/healthz to say ok", 30)
    print(f"\npage live {time.monotonic() - came_back:.1f} s after the database came back")
    assert "Traceback" not in app.log()
