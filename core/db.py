"""Engines, migrations and the one way the core writes: a transaction retried on conflict.

DuckDB (the embedded default) belongs to one process; PostgreSQL is shared by several app
instances. The differences between them are kept in this module.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.config import PROJECT_ROOT, get_settings
from core.errors import Busy, ConfigError, DatabaseUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 8
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_after_commit_hooks: list[Callable[[Engine, int], None]] = []
# Registered by the modules that own them, so that this module knows no use case:
_before_commit_hooks: list[Callable[[Connection], None]] = []   # the event feed writes its rows
_forget_hooks: list[Callable[[Engine], None]] = []               # background work of an engine stops
_version_reader: list[Callable[[Engine], int]] = []              # the change feed's "announce"
_writer_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


class Retry(Exception):
    """Raised inside a write to run it again from the start (a concurrent change won)."""


def _parse_url(url: str) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            f"DATABASE_URL {url!r} is not a database URL. Use e.g. "
            "duckdb:///data/availability.duckdb or postgresql+psycopg://user@host:5432/db."
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("duckdb", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL uses {parsed.get_backend_name()!r}; only duckdb and postgresql are supported."
        )
    return parsed


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process (None: the configured DATABASE_URL).

    Raises ConfigError for a malformed URL. Does not connect: see `check_connection`.
    """
    url = url or get_settings().database_url
    with _engines_lock:
        if url not in _engines:
            _engines[url] = _create_engine(_parse_url(url))
        return _engines[url]


# DuckDB with SQLAlchemy's compiled-statement cache (core/duckdb_dialect.py; loaded on use)
sa.dialects.registry.register("duckdb.cached", "core.duckdb_dialect", "CachedDuckDBDialect")


def _create_engine(url: sa.URL) -> Engine:
    if url.get_backend_name() == "duckdb":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url.set(drivername="duckdb+cached"), pool_size=8, max_overflow=32, pool_timeout=60)
        _writer_locks[engine] = threading.Lock()
        return engine
    engine = sa.create_engine(
        url, pool_size=10, max_overflow=30, pool_timeout=30, connect_args={"connect_timeout": 5},
    )
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has lain idle for a while.

    SQLAlchemy's pool_pre_ping would cost every checkout a round trip (half of a
    booking's, measured). A connection in steady use has just proved itself; one that
    lay idle may have been closed by a database restart meanwhile, and is pinged and, if
    dead, replaced before anyone uses it. (SQLAlchemy's "pessimistic disconnect handling"
    with a checkout event.)
    """

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()  # leave no transaction open behind the ping
        except Exception as exc:  # noqa: BLE001  (the pool retries with a new connection)
            raise sa.exc.DisconnectionError(str(exc)) from exc


def forget_engine(engine: Engine) -> None:
    """Close an engine's connections and drop it from the per-URL cache (tests, tools)."""
    for hook in list(_forget_hooks):
        hook(engine)
    _stop_announcer(engine)
    with _engines_lock:
        for url, known in list(_engines.items()):
            if known is engine:
                del _engines[url]
    engine.dispose()


def describe(engine: Engine) -> str:
    """The database for messages, without a password."""
    return engine.url.render_as_string(hide_password=True)


def _is_conflict(exc: sa.exc.DBAPIError) -> bool:
    orig = exc.orig
    name = type(orig).__name__
    if name == "TransactionException":  # DuckDB: another transaction wrote the same row
        return True
    return getattr(orig, "sqlstate", None) in ("40001", "40P01")  # serialization, deadlock


def _is_unreachable(exc: sa.exc.DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if _unreachable_state(getattr(orig, "sqlstate", None)):
        return True
    text = str(orig).lower()
    return isinstance(exc, sa.exc.OperationalError) and (
        "connection" in text or "could not connect" in text or "server closed" in text
        or "could not set lock" in text
    )


def _unavailable(engine: Engine, exc: BaseException) -> DatabaseUnavailable:
    first_line = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
    return DatabaseUnavailable(describe(engine), first_line)


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads; an unreachable database becomes DatabaseUnavailable."""
    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.DBAPIError as exc:
        if _is_unreachable(exc) or isinstance(exc, sa.exc.OperationalError) and not _is_conflict(exc):
            raise _unavailable(engine, exc) from exc
        raise


def write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run `work(conn)` in one transaction; commit; then tell listeners the new version.

    A write conflict (DuckDB TransactionException, PostgreSQL serialization failure or
    deadlock) or a `Retry` raised by `work` runs it again, a bounded number of times with
    jittered backoff, then raises Busy. Nothing is written unless `work` returns.
    """
    lock = _writer_locks.get(engine) or contextlib.nullcontext()
    for attempt in range(WRITE_ATTEMPTS):
        try:
            # DuckDB has one writer process: taking turns here turns would-be write
            # conflicts into a short wait; the guarded statements still do the checking.
            with lock, engine.begin() as conn:
                # conn.info belongs to the pooled connection: nothing of an attempt that
                # rolled back (its events above all) may reach the next one.
                conn.info.pop("changed", None)
                conn.info.pop("pending_events", None)
                result = work(conn)
                for hook in _before_commit_hooks:
                    hook(conn)
                changed = conn.info.pop("changed", False)
        except Retry:
            pass
        except sa.exc.DBAPIError as exc:
            if _is_unreachable(exc):
                raise _unavailable(engine, exc) from exc
            if not _is_conflict(exc):
                raise
        else:
            if changed:
                _after_commit(engine)
            return result
        time.sleep(min(0.2, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))
    raise Busy()


def statement_alone(engine: Engine, sql: str, params: dict) -> object | None:
    """PostgreSQL: send one statement in autocommit (its own transaction: one round trip,
    no BEGIN or COMMIT) and return the first column of its one row, announcing the commit
    when that is truthy (the statement wrote).

    None when the statement failed for any reason but an unreachable database (a conflict,
    a constraint): the caller's general path then decides what that means. An unreachable
    database raises DatabaseUnavailable. Sent on the pooled driver connection itself:
    SQLAlchemy's per-statement work was a fifth of a booking's client CPU (measured).
    """
    import psycopg

    try:
        fairy = engine.raw_connection()
    except psycopg.Error as exc:  # the pool hands on the driver's own error, unwrapped
        raise _unavailable(engine, exc) from exc
    except sa.exc.DBAPIError as exc:
        if _is_unreachable(exc):
            raise _unavailable(engine, exc) from exc
        raise
    try:
        conn = fairy.driver_connection
        try:
            conn.autocommit = True
            try:
                value = conn.execute(sql, params).fetchone()[0]
            finally:
                if not conn.broken:
                    conn.autocommit = False
        except psycopg.Error as exc:
            if conn.broken or conn.closed or _unreachable_state(getattr(exc, "sqlstate", None)):
                fairy.invalidate(exc)
                raise _unavailable(engine, exc) from exc
            return None
    finally:
        fairy.close()
    if value:
        _after_commit(engine)
    return value


def _unreachable_state(state: str | None) -> bool:
    return bool(state) and (state.startswith("08") or state in ("57P01", "57P02", "57P03"))


def _after_commit(engine: Engine) -> None:
    """A write committed: its announcement goes out from the engine's announcer thread."""
    with _announcers_lock:
        found = _announcers.get(id(engine))
        if found is None or found.engine is not engine:
            found = _announcers[id(engine)] = _Announcer(engine)
        found.poke()


def _announce_now(engine: Engine) -> None:
    """Tell this process's listeners, and on PostgreSQL the others, the current version.

    Outside any write's transaction: the writes are already safe, so a failure here is
    only logged; other processes also re-read the version now and then.
    """
    if not _version_reader:
        return
    try:
        version = _version_reader[0](engine)
    except Exception:  # noqa: BLE001  (the bookings stand; listeners catch up)
        log.warning("could not announce a committed change", exc_info=True)
        return
    for hook in list(_after_commit_hooks):
        try:
            hook(engine, version)
        except Exception:  # noqa: BLE001
            log.warning("a commit listener failed", exc_info=True)


class _Announcer:
    """Announces an engine's commits from one background thread, a burst as one.

    A NOTIFY per booking costs every writer a second connection and round trip, and the
    NOTIFYs queue on the server's notification lock. Here a commit only wakes the thread;
    it reads the version and sends one NOTIFY for every commit since its last one, then
    rests GAP seconds, so a process sends at most 1/GAP announcements a second, and a
    lone commit is announced at once. The thread ends after IDLE quiet seconds (the next
    commit starts another), so an engine nobody writes to keeps no thread.
    """

    GAP = 0.02
    IDLE = 10.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._done = threading.Condition()
        self._asked = 0       # commits poked so far
        self._told = 0        # commits covered by an announcement
        self._thread = threading.Thread(target=self._run, name="change-announcer", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        with self._done:
            self._asked += 1
        self._wake.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every commit poked so far is announced; False on timeout."""
        with self._done:
            target = self._asked
            return self._done.wait_for(lambda: self._told >= target or self._stopped.is_set(), timeout)

    def stop(self) -> None:
        self.flush(2.0)
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            if not self._wake.wait(self.IDLE):
                with _announcers_lock:
                    if self._wake.is_set():
                        continue
                    if _announcers.get(id(self.engine)) is self:
                        del _announcers[id(self.engine)]
                    self._stopped.set()
                with self._done:
                    self._done.notify_all()
                return
            if self._stopped.is_set():
                return
            self._wake.clear()
            with self._done:
                covering = self._asked
            _announce_now(self.engine)
            with self._done:
                self._told = covering
                self._done.notify_all()
            if self._stopped.wait(self.GAP):
                return


_announcers: dict[int, _Announcer] = {}
_announcers_lock = threading.Lock()


def flush_announcements(engine: Engine | None = None, timeout: float = 5.0) -> None:
    """Wait until the commits made so far are announced (one engine, or all)."""
    with _announcers_lock:
        chosen = [a for a in _announcers.values() if engine is None or a.engine is engine]
    for announcer in chosen:
        announcer.flush(timeout)


def _stop_announcer(engine: Engine) -> None:
    with _announcers_lock:
        found = _announcers.pop(id(engine), None)
    if found is not None and found.engine is engine:
        found.stop()


atexit.register(flush_announcements, None, 2.0)


def before_commit(hook: Callable[[Connection], None]) -> None:
    """Call `hook(conn)` at the end of every `write`, inside its transaction."""
    if hook not in _before_commit_hooks:
        _before_commit_hooks.append(hook)


def on_forget(hook: Callable[[Engine], None]) -> None:
    """Call `hook(engine)` when an engine is forgotten (stop its background work)."""
    if hook not in _forget_hooks:
        _forget_hooks.append(hook)


def set_version_reader(read: Callable[[Engine], int]) -> None:
    """How the announcer reads (and on PostgreSQL announces) the version after commits."""
    _version_reader[:] = [read]


def on_commit(hook: Callable[[Engine, int], None]) -> None:
    """Call `hook(engine, version)` after every committed write in this process."""
    if hook not in _after_commit_hooks:
        _after_commit_hooks.append(hook)


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with one clear line if the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        raise _unavailable(engine, exc) from exc


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic `upgrade head`)."""
    from alembic import command
    from alembic.config import Config

    check_connection(engine)
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def is_empty(engine: Engine) -> bool:
    """True when no course session exists yet."""
    from core.schema import course_sessions

    with reading(engine) as conn:
        return conn.execute(sa.select(course_sessions.c.id).limit(1)).first() is None
