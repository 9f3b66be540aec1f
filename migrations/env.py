"""Alembic environment: run by core.db.migrate() with a connection, or by `alembic`."""

from alembic import context
from alembic.ddl.impl import DefaultImpl

from core.schema import metadata


class DuckDBImpl(DefaultImpl):
    """Alembic has no DuckDB dialect of its own; DuckDB takes the default DDL."""

    __dialect__ = "duckdb"


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from core.db import get_engine

        with get_engine().begin() as conn:
            context.configure(connection=conn, target_metadata=metadata)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=metadata)
    context.run_migrations()


run_migrations()
