"""Shared fixtures: a migrated database per test, on DuckDB and on PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server, database `test`).
Each test gets its own schema, dropped afterwards. When no server answers, PostgreSQL
tests skip with the reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
import sqlalchemy as sa

from core import config
from core.db import forget_engine, get_engine, migrate
from tests.actors import ADMIN, STAFF, VIEWER  # noqa: F401  (re-exported for the tests)

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_reason() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: no usable server
        return f"PostgreSQL not reachable at {sa.make_url(PG_URL).render_as_string(hide_password=True)}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    reason = _postgres_reason()
    if reason:
        if IN_CI:
            pytest.fail(reason + " (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    return PG_URL


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch):
    """Each test reads settings anew (tests may set environment variables)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def _duckdb_url(tmp_path) -> str:
    return f"duckdb:///{tmp_path / 'test.duckdb'}"


def _postgres_schema_url(base: str, schema: str) -> str:
    url = sa.make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture
def make_database(request, tmp_path):
    """make_database(kind) -> migrated engine on a brand-new database of that kind."""
    cleanups = []

    def make(kind: str):
        if kind == "duckdb":
            engine = get_engine(_duckdb_url(tmp_path / uuid.uuid4().hex[:8]))
            cleanups.append(lambda: forget_engine(engine))
        else:
            base = request.getfixturevalue("postgres_url")
            schema = "t_" + uuid.uuid4().hex[:12]
            admin = sa.create_engine(base)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()  # no idle connection kept per database made (a test may make many)
            engine = get_engine(_postgres_schema_url(base, schema))

            def drop():
                forget_engine(engine)
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()

            cleanups.append(drop)
        migrate(engine)
        return engine

    yield make
    for cleanup in reversed(cleanups):
        cleanup()


@pytest.fixture(params=["duckdb", "postgresql"])
def engine(request, make_database):
    """A migrated, empty database (the four course types only), on each database."""
    return make_database(request.param)


@pytest.fixture(params=["duckdb", "postgresql", "postgresql-general-path"])
def every_booking_path(request, make_database, monkeypatch):
    """A migrated database on DuckDB, on PostgreSQL with its one-statement booking, and on
    PostgreSQL with that statement turned off: the booking tests are one contract for both
    ways of taking places."""
    from core import booking

    if request.param == "postgresql-general-path":
        monkeypatch.setattr(booking, "ONE_STATEMENT", False)
    return make_database(request.param.removesuffix("-general-path"))


@pytest.fixture
def future_day() -> dt.date:
    """A weekday well in the future, so sessions on it are bookable."""
    day = config.today() + dt.timedelta(days=14)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def new_session(engine, future_day):
    """new_session(**overrides) -> a scheduled First Aid at Work session."""
    from core.sessions import create_session

    def make(**overrides):
        spec = dict(course_type="First Aid at Work", session_date=future_day, start_time="09:00",
                    end_time="16:30", location="Location A", max_capacity=12)
        spec.update(overrides)
        return create_session(engine, **spec, actor=ADMIN)

    return make


def assert_invariants(engine) -> None:
    """For every session: 0 <= booked + held <= capacity <= limit, booked == confirmed seats,
    held == seats of holds not yet ended, and nobody promoted from a waiting list twice."""
    limit = config.get_settings().capacity_limit
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT s.id, s.current_bookings, s.held_places, s.max_capacity, "
            "COALESCE((SELECT SUM(b.seats) FROM bookings b WHERE b.session_id = s.id AND b.status = 'confirmed'), 0) AS seats, "
            "COALESCE((SELECT SUM(h.seats) FROM holds h WHERE h.session_id = s.id AND h.status = 'active'), 0) AS held "
            "FROM course_sessions s"
        )).all()
        twice = conn.execute(sa.text(
            "SELECT booking_id FROM waitlist_entries WHERE booking_id IS NOT NULL GROUP BY booking_id HAVING COUNT(*) > 1"
        )).all()
    for r in rows:
        assert 0 <= r.current_bookings and 0 <= r.held_places, r
        assert r.current_bookings + r.held_places <= r.max_capacity <= limit, r
        assert r.current_bookings == r.seats, f"session {r.id}: counter {r.current_bookings} != confirmed seats {r.seats}"
        assert r.held_places == r.held, f"session {r.id}: held counter {r.held_places} != active holds {r.held}"
    assert not twice, twice


def count_rows(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
