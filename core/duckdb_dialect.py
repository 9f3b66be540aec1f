"""duckdb_engine's dialect with SQLAlchemy's compiled-statement cache on.

duckdb_engine turns the cache off only to silence SQLAlchemy's warning about dialects that
have not said whether they support it; its compiler is PostgreSQL's. Without the cache
every statement is compiled again on every call: a sixth of a DuckDB booking's time
(measured). The whole test suite runs on this dialect. Registered by core.db as
`duckdb+cached`, and imported only when a DuckDB engine is made.
"""

from __future__ import annotations

import duckdb_engine


class CachedDuckDBDialect(duckdb_engine.Dialect):
    supports_statement_cache = True
