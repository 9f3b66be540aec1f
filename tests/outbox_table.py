"""The table tests' outbox handlers write to: one row per event handled, in handling order."""

from __future__ import annotations

import sqlalchemy as sa

# `n` is drawn when the row is written, so ordering by it is the order events were handled
# (a shard's batches run one after another: each waits for the previous one's commit).
_DDL = (
    "CREATE SEQUENCE handled_n",
    "CREATE TABLE handled (n BIGINT NOT NULL DEFAULT nextval('handled_n') PRIMARY KEY, consumer VARCHAR(40),"
    " version BIGINT NOT NULL, session_id VARCHAR(40), worker VARCHAR(40))",
)


def create_handled_table(engine) -> None:
    with engine.begin() as conn:
        for statement in _DDL:
            conn.execute(sa.text(statement))


def record_handled(conn, change, worker: str = "", consumer: str = "") -> None:
    conn.execute(
        sa.text("INSERT INTO handled (consumer, version, session_id, worker) VALUES (:c, :v, :s, :w)"),
        dict(c=consumer, v=change.version, s=str(change.session_id) if change.session_id else None, w=worker),
    )


def handled_rows(engine, consumer: str | None = None) -> list:
    stmt = "SELECT version, session_id, worker FROM handled"
    if consumer is not None:
        stmt += " WHERE consumer = :c"
    with engine.connect() as conn:
        return conn.execute(sa.text(stmt + " ORDER BY n"), dict(c=consumer)).all()
