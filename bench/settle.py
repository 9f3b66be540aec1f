"""The same starting state before each measurement: VACUUM ANALYZE or a DuckDB checkpoint.

DuckDB refuses a plain CHECKPOINT while another connection holds a write transaction
("Cannot CHECKPOINT: there are other write transactions active"). FORCE CHECKPOINT is not
the way out here: what it does depends on the DuckDB version (before 1.4 it aborts the
other transactions; from 1.4 on it waits for them, without a bound, and lets no new
transaction start meanwhile), so one writer that never finishes would hold the run past
its time limit. Instead the plain CHECKPOINT is tried again until `wait` seconds have
passed (the benchmark's own writers have been told to stop and only finish the booking
in hand); if it is still refused, the checkpoint is skipped and the reason returned, for
the caller to record next to the figures it measures from that state.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

REFUSED = "other write transactions active"


def settle(engine, wait: float = 30.0) -> str | None:
    """VACUUM ANALYZE (PostgreSQL) or CHECKPOINT (DuckDB); None, or why the checkpoint was skipped."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        return None
    deadline = time.monotonic() + wait
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("CHECKPOINT"))
            return None
        except sa.exc.DBAPIError as exc:
            if REFUSED not in str(exc):
                raise
            if time.monotonic() >= deadline:
                first = str(exc.orig).strip().splitlines()[0][:200]
                return f"checkpoint skipped, still refused after {wait:g} s: {first}"
        time.sleep(0.1)
