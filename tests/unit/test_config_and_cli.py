"""Settings and the command line: a bad setting is one clear line, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core import config, errors
from core.db import get_engine


def test_the_default_database_is_an_embedded_duckdb_file_in_data():
    settings = config.get_settings()
    assert settings.database_url == "duckdb:///data/availability.duckdb"
    assert settings.timezone.key == "Europe/London"
    assert settings.capacity_limit == 12
    assert settings.live_poll_seconds == 2


def test_settings_come_from_the_secrets_file_when_not_in_the_environment(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('DATABASE_URL = "postgresql+psycopg://app@db.internal/cal"\nLIVE_POLL_SECONDS = 5\n')
    monkeypatch.setenv("SECRETS_FILE", str(secrets))
    settings = config.get_settings()
    assert settings.database_url == "postgresql+psycopg://app@db.internal/cal"
    assert settings.live_poll_seconds == 5


@pytest.mark.parametrize(("name", "value", "says"), [
    ("CAPACITY_LIMIT", "twelve", "CAPACITY_LIMIT must be a number"),
    ("CAPACITY_LIMIT", "0", "CAPACITY_LIMIT must be between"),
    ("APP_TIMEZONE", "Mars/Olympus", "APP_TIMEZONE 'Mars/Olympus' is not a known time zone"),
])
def test_a_bad_setting_names_itself(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(errors.ConfigError, match=says):
        config.get_settings()


@pytest.mark.parametrize("url", ["nonsense", "mysql://root@localhost/db"])
def test_a_malformed_or_unsupported_database_url_is_a_clear_error(url):
    with pytest.raises(errors.ConfigError, match="DATABASE_URL"):
        get_engine(url)


def _cli(*args, env_url: str):
    import os

    env = dict(os.environ, DATABASE_URL=env_url)
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, env=env, timeout=60)


def test_the_command_line_reports_an_unreachable_database_in_one_line():
    done = _cli("check", env_url="postgresql://postgres@127.0.0.1:1/nowhere")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Cannot reach the database" in done.stderr and "DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_command_line_reports_a_malformed_url_in_one_line():
    done = _cli("migrate", env_url="not a url")
    assert done.returncode == 2 and "is not a database URL" in done.stderr and "Traceback" not in done.stderr


def test_seed_demo_fills_an_empty_database_once(tmp_path):
    url = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    first = _cli("seed-demo", "--if-empty", env_url=url)
    assert first.returncode == 0 and "demo sessions" in first.stdout, first.stderr
    again = _cli("seed-demo", "--if-empty", env_url=url)
    assert again.returncode == 0 and "already has sessions" in again.stdout


def test_statements_on_duckdb_are_compiled_once_and_reused(tmp_path):
    """duckdb_engine leaves SQLAlchemy's compiled-statement cache off; the core turns it
    on, so a statement run again is not compiled again (a sixth of a booking's time)."""
    import sqlalchemy as sa

    from core.db import forget_engine

    engine = get_engine(f"duckdb:///{tmp_path / 'cache.duckdb'}")
    try:
        assert engine.dialect.name == "duckdb"
        stmt = sa.select(sa.literal_column("1") + sa.bindparam("x"))
        with engine.connect() as conn:
            first = conn.execute(stmt, {"x": 1})
            assert first.scalar() == 2
            second = conn.execute(stmt, {"x": 2})
            assert second.scalar() == 3
            assert second.context.cache_hit == second.context.dialect.CACHE_HIT
    finally:
        forget_engine(engine)
