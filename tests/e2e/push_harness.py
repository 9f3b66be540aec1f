"""Real app processes for the push tests: `streamlit run server.py` on PostgreSQL.

Each database is a fresh schema of the test server with the demo data; each server runs
in its own process group, killed at teardown. Every wait polls a condition.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from core.db import forget_engine, get_engine, migrate
from tests.e2e.conftest import _stop

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90
DEMO_SEED = 11


def wait_until(check, what: str, timeout: float = 10.0, every: float = 0.02):
    """Poll `check()` until it returns something truthy (returned), or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def committed_at(engine, before: int, timeout: float = 15.0) -> float:
    """When the change version moved past `before` (polled every few ms, for the timing)."""
    from core.changes import latest_version

    deadline = time.monotonic() + timeout
    while latest_version(engine) <= before:
        if time.monotonic() > deadline:
            raise AssertionError("the booking was not committed")
        time.sleep(0.003)
    return time.monotonic()


def track_poll_intervals(page) -> list[float]:
    """The polling intervals the server sets for this page's live fragments (the page's, an open
    session window's), in order."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    seen: list[float] = []

    def received(payload) -> None:
        if isinstance(payload, bytes):
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "auto_rerun":
                seen.append(msg.auto_rerun.interval)

    page.on("websocket", lambda ws: "_stcore/stream" in ws.url and ws.on("framereceived", received))
    return seen


@dataclass
class PgDatabase:
    url: str
    engine: sa.Engine
    schema: str


def make_pg_database(base_url: str, *, demo: bool = True):
    """A fresh migrated schema (demo data if asked); returns (PgDatabase, drop)."""
    schema = "push_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    engine = get_engine(url)
    migrate(engine)
    if demo:
        from core.demo import seed_demo

        seed_demo(engine, seed=DEMO_SEED)

    def drop() -> None:
        forget_engine(engine)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return PgDatabase(url, engine, schema), drop


def make_duckdb_database(path: Path) -> tuple[str, list]:
    """A migrated DuckDB file with the demo data, let go of so that a server can own it;
    returns its URL and its sessions as seeded (from yesterday on)."""
    import datetime as dt

    from core.availability import find_sessions
    from core.config import today
    from core.demo import seed_demo

    url = f"duckdb:///{path}"
    engine = get_engine(url)
    migrate(engine)
    seed_demo(engine, seed=DEMO_SEED)
    sessions = find_sessions(engine, today() - dt.timedelta(days=1), today() + dt.timedelta(days=90))
    forget_engine(engine)
    return url, sessions


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/push"

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def health(self) -> dict:
        status, _, body = self.get("/healthz")
        return json.loads(body) if status in (200, 503) else {}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(folder: Path, database_url: str, *, env: dict | None = None, args: tuple = ()) -> AppServer:
    """`streamlit run server.py` on a free port; returns once its change hub is up."""
    folder.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FEED_TOKEN")}
    environment.update(DATABASE_URL=database_url, PYTHONUNBUFFERED="1", **(env or {}))
    port = free_port()
    log_path = folder / f"server-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", *args],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = AppServer(f"http://127.0.0.1:{port}", process, log_path)

    def ready():
        if process.poll() is not None:
            raise AssertionError(f"server.py exited with {process.returncode}: {server.log()[-2000:]}")
        try:
            return server.health().get("listener") in ("listening", "in-process")
        except OSError:  # not accepting connections yet
            return False

    try:
        wait_until(ready, "server.py to answer /healthz with its listener up", timeout=STARTUP_SECONDS, every=0.1)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: AppServer) -> None:
    """SIGTERM to the whole process group, SIGKILL if it lingers; leaves nothing behind."""
    _stop(server.process)


def listener_backend(engine: sa.Engine, server: AppServer) -> int | None:
    """The PostgreSQL backend of that server's LISTEN connection (by its application_name)."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": f"availability-listen pid={server.pid}"}).scalar()
