"""The change version each app process holds in memory, and who hears when it moves.

One `ChangeHub` per process and database keeps the newest committed change version.
It is fed two ways, and either alone is enough on its own database:

- in-process writes: `core.db.write()` calls our commit hook with the new version
  (DuckDB belongs to one process, so this is all it needs);
- on PostgreSQL, other app processes: one LISTEN connection per process, in a daemon
  thread, hears the NOTIFY that every app process's announcer (`core.db`) sends after its
  commits, one for a burst. A notification only wakes the hub, which then reads the
  version of *its* database (a one-row read): the channel is shared by every schema of
  the database, so a payload is a hint, never trusted.
  When that connection drops, the thread reconnects with a short backoff and reads the
  version again, so nothing committed meanwhile is missed.

Subscribers (the push links of open pages) are called from whichever thread published:
they must only hand the news over (e.g. `loop.call_soon_threadsafe`). `follow()` does
that for asyncio and coalesces bursts: at most one version per `min_gap`, the latest.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
import weakref
from collections.abc import AsyncIterator, Callable

from sqlalchemy.engine import Engine

from core import db
from core.changes import NOTIFY_CHANNEL, latest_version
from core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


# A push link sends at most one version per min gap, and a heartbeat after so many seconds
# without one: the settings PUSH_MIN_GAP_SECONDS / PUSH_HEARTBEAT_SECONDS (core.config).
WAKE_SECONDS = 1.0         # the listener checks for a stop request this often
KEEPALIVE_SECONDS = 30.0   # ...and its connection (and the version) this often when idle
MAX_BACKOFF_SECONDS = 5.0

_running: weakref.WeakSet[ChangeHub] = weakref.WeakSet()
_current: ChangeHub | None = None
_current_lock = threading.Lock()


class ChangeHub:
    """The latest change version of one database in this process, with subscribers.

    `start()` reads the version and, on PostgreSQL, starts the listener thread; `stop()`
    ends it. `publish(v)` only ever moves the version forward and then calls every
    subscriber with it.
    """

    def __init__(self, engine: Engine, *, listen: bool | None = None,
                 application_name: str | None = None) -> None:
        self.engine = engine
        self._listen = engine.dialect.name == "postgresql" if listen is None else listen
        self._app_name = application_name or f"availability-listen pid={os.getpid()}"
        self._lock = threading.Lock()
        self._version = 0
        self._subscribers: dict[int, Callable[[int], None]] = {}
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = "stopped"     # in-process | connecting | listening | reconnecting | stopped
        self.connections = 0       # listener connections made (1 + reconnects)
        self.listener_pid: int | None = None  # the listener's PostgreSQL backend

    # -- the version ---------------------------------------------------------------------

    @property
    def version(self) -> int:
        return self._version

    def publish(self, version: int) -> bool:
        """Move to `version` if it is newer and tell every subscriber; else do nothing."""
        with self._lock:
            if version <= self._version:
                return False
            self._version = version
            callbacks = list(self._subscribers.values())
        for callback in callbacks:
            try:
                callback(version)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("change subscriber failed")
        return True

    def refresh(self) -> int:
        """Read the database's version and publish it. Raises DatabaseUnavailable."""
        self.publish(latest_version(self.engine))
        return self._version

    # -- subscribers ---------------------------------------------------------------------

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call `callback(version)` on every new version; returns the unsubscribe function."""
        with self._lock:
            key = next(self._ids)
            self._subscribers[key] = callback

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> ChangeHub:
        """Read the current version (if the database answers) and start listening."""
        _running.add(self)
        self._stop.clear()
        try:
            self.refresh()
        except DatabaseUnavailable as exc:  # the listener (or the next write) catches up
            log.warning("change hub started without the database: %s", exc)
        if self._listen:
            self.state = "connecting"
            self._thread = threading.Thread(target=self._listen_forever, name="change-listener", daemon=True)
            self._thread.start()
        else:
            self.state = "in-process"
        return self

    def stop(self, timeout: float = 0.1) -> None:
        """Stop listening. The listener thread (a daemon) notices within WAKE_SECONDS; a
        server shutting down does not wait for it (that would add up to a second)."""
        _running.discard(self)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.state = "stopped"

    def _dsn(self) -> str:
        url = self.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _listen_forever(self) -> None:
        delay = 0.1
        while not self._stop.is_set():
            try:
                self._listen_once()
                delay = 0.1
            except Exception as exc:  # dropped connection, server restart, DNS, ...
                if self._stop.is_set():
                    break
                self.state = "reconnecting"
                log.warning("change listener lost its connection (%s); retrying in %.1f s",
                            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        self.state = "stopped"

    def _listen_once(self) -> None:
        import psycopg

        with psycopg.connect(self._dsn(), autocommit=True, connect_timeout=5,
                             application_name=self._app_name, keepalives=1, keepalives_idle=30,
                             keepalives_interval=10, keepalives_count=3) as conn:
            conn.execute(f'LISTEN "{NOTIFY_CHANNEL}"')
            self.listener_pid = conn.info.backend_pid
            self.connections += 1
            self.refresh()  # whatever was committed while we were not listening
            self.state = "listening"
            idle = 0.0
            while not self._stop.is_set():
                batch = list(conn.notifies(timeout=WAKE_SECONDS, stop_after=1))
                if not batch:
                    idle += WAKE_SECONDS
                    if idle >= KEEPALIVE_SECONDS:
                        idle = 0.0
                        conn.execute("SELECT 1")  # a dead link raises here
                        self.refresh()
                    continue
                idle = 0.0
                batch += conn.notifies(timeout=0)  # what else is already queued
                if any(_payload(n.payload) > self._version for n in batch):
                    self.refresh()


def _payload(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 1 << 62  # unknown payload: read the version to be sure


def _on_commit(engine: Engine, version: int) -> None:
    url = engine.url
    for hub in list(_running):
        if hub.engine is engine or hub.engine.url == url:
            hub.publish(version)


db.on_commit(_on_commit)


# -- the process-wide hub ----------------------------------------------------------------


def start(engine: Engine) -> ChangeHub:
    """Start (once) and return this process's hub for `engine`."""
    global _current
    with _current_lock:
        if _current is None or _current.engine is not engine:
            if _current is not None:
                _current.stop()
            _current = ChangeHub(engine).start()
        return _current


def current() -> ChangeHub | None:
    """This process's hub, if the server started one (None under plain `streamlit run Home.py`)."""
    return _current


def stop() -> None:
    global _current
    with _current_lock:
        if _current is not None:
            _current.stop()
            _current = None


# -- one push link -------------------------------------------------------------------------


async def follow(hub: ChangeHub, *, min_gap: float | None = None,
                 heartbeat: float | None = None) -> AsyncIterator[tuple[str, int]]:
    """What one push link sends: ("version", v) first and on every move, ("heartbeat", v)
    after `heartbeat` seconds of silence.

    Versions are coalesced: the first move after a quiet spell goes out at once, later ones
    at most one per `min_gap`, always the newest. Use it under `contextlib.aclosing` so the
    subscription ends with the link.
    """
    from core.config import get_settings

    settings = get_settings()
    min_gap = settings.push_min_gap_seconds if min_gap is None else min_gap
    heartbeat = settings.push_heartbeat_seconds if heartbeat is None else heartbeat
    loop = asyncio.get_running_loop()
    moved = asyncio.Event()

    def wake(_version: int) -> None:
        try:
            loop.call_soon_threadsafe(moved.set)
        except RuntimeError:  # the loop is closed: the link is going away anyway
            pass

    unsubscribe = hub.subscribe(wake)
    try:
        sent = hub.version
        yield "version", sent
        sent_at = loop.time()
        while True:
            try:
                await asyncio.wait_for(moved.wait(), heartbeat)
            except asyncio.TimeoutError:
                yield "heartbeat", sent
                continue
            wait = sent_at + min_gap - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # later moves fold into this one
            moved.clear()
            if hub.version > sent:
                sent = hub.version
                sent_at = loop.time()
                yield "version", sent
    finally:
        unsubscribe()
