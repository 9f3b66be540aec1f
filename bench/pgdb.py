"""A PostgreSQL database of the benchmarks' own, created for one run and dropped after it.

BENCH_POSTGRES_URL names the server and a database to connect to for CREATE/DROP
DATABASE (default: the local server's `postgres` database, user postgres). The benchmark
database `bench_<random>` holds one schema per benchmark; a connection is pointed at a
schema with libpq's `options=-csearch_path=...` (as the tests do), and pgbench with
PGOPTIONS. A dedicated database also keeps our NOTIFYs away from other databases'
listeners (LISTEN/NOTIFY channels are per database).
"""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa

from core.db import forget_engine, get_engine, migrate

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin_url() -> sa.URL:
    url = sa.make_url(os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


class BenchDatabase:
    def __init__(self) -> None:
        self.base = admin_url()
        self.name = "bench_" + uuid.uuid4().hex[:10]
        self._admin = sa.create_engine(self.base, isolation_level="AUTOCOMMIT")
        self._engines: list[sa.Engine] = []
        self.created = False

    def create(self) -> "BenchDatabase":
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.created = True
        return self

    def url(self, schema: str | None = None) -> str:
        url = self.base.set(database=self.name)
        if schema:
            url = url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def new_schema(self, schema: str, *, migrated: bool = True) -> sa.Engine:
        """CREATE SCHEMA; return the core's engine on it (migrated to the newest schema)."""
        with sa.create_engine(self.url(), isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine = get_engine(self.url(schema))
        self._engines.append(engine)
        if migrated:
            migrate(engine)
        return engine

    def libpq_env(self, schema: str) -> dict:
        """Environment for libpq clients (pgbench, psql) on this database and schema."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=self.base.host or "127.0.0.1", PGPORT=str(self.base.port or 5432),
                   PGUSER=self.base.username or "postgres", PGDATABASE=self.name,
                   PGOPTIONS=f"-c search_path={schema}")
        if self.base.password:
            env["PGPASSWORD"] = str(self.base.password)
        return env

    def server_facts(self) -> dict:
        names = ("shared_buffers", "synchronous_commit", "fsync", "max_connections", "wal_level",
                 "commit_delay", "work_mem", "jit")
        with self._admin.connect() as conn:
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
            settings = dict(conn.execute(sa.text(
                "SELECT name, setting || COALESCE(' ' || unit, '') FROM pg_settings WHERE name = ANY(:n)"),
                {"n": list(names)}).all())
        return {"version": version, "settings": settings}

    def drop(self) -> None:
        for engine in self._engines:
            forget_engine(engine)
        self._engines.clear()
        if self.created:
            with self._admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.created = False
        self._admin.dispose()
