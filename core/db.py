"""Engines, migrations and the one way the core writes: a transaction retried on conflict.

DuckDB (the embedded default) belongs to one process; PostgreSQL is shared by several app
instances. The differences between them are kept in this module.
"""

from __future__ import annotations

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


def _create_engine(url: sa.URL) -> Engine:
    if url.get_backend_name() == "duckdb":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, pool_size=8, max_overflow=32, pool_timeout=60)
        _writer_locks[engine] = threading.Lock()
        return engine
    return sa.create_engine(
        url, pool_size=10, max_overflow=30, pool_pre_ping=True, pool_timeout=30,
        connect_args={"connect_timeout": 5},
    )


def forget_engine(engine: Engine) -> None:
    """Close an engine's connections and drop it from the per-URL cache (tests, tools)."""
    from core.holds import stop_expiry_sweeper

    stop_expiry_sweeper(engine)
    with _engines_lock:
        for url, known in list(_engines.items()):
            if known is engine:
                del _engines[url]
    engine.dispose()


def dialect_name(engine: Engine) -> str:
    return engine.dialect.name


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
    state = getattr(orig, "sqlstate", None) or ""
    if state.startswith("08") or state in ("57P01", "57P02", "57P03"):
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
                conn.info.pop("changed", None)
                result = work(conn)
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


def _after_commit(engine: Engine) -> None:
    """Tell this process's listeners, and on PostgreSQL the others, the new version.

    Outside the write's transaction: the write is already safe, so a failure here is
    only logged; other processes also re-read the version now and then.
    """
    from core.changes import announce

    try:
        version = announce(engine)
    except Exception:  # noqa: BLE001  (the booking stands; listeners catch up)
        log.warning("could not announce a committed change", exc_info=True)
        return
    for hook in list(_after_commit_hooks):
        hook(engine, version)


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
