"""The seed document's booking algorithm, written in the same stack as the core
(SQLAlchemy 2 Core on the core's own engine, psycopg 3 / duckdb-engine):

    BEGIN;
    SELECT max_capacity, current_bookings, status FROM course_sessions WHERE id = :id FOR UPDATE;
    -- full or not scheduled: ROLLBACK
    UPDATE course_sessions SET current_bookings = current_bookings + :seats WHERE id = :id;
    INSERT INTO bookings (...) VALUES (...);     -- the ledger row
    COMMIT;

It is the comparison point of the booking benchmark, not part of the app: no attendee
rows, no change feed, no NOTIFY, no idempotency. DuckDB has no `FOR UPDATE`; there the
SELECT is plain and a write conflict at commit is retried (the same bounded retry as the
core), which is the only correct way to run this shape on DuckDB.
"""

from __future__ import annotations

import random
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.references import new_reference
from core.config import utc_now
from core.errors import Busy, SessionFull
from core.schema import bookings as bk
from core.schema import course_sessions as cs

ATTEMPTS = 8


def _conflict(exc: sa.exc.DBAPIError) -> bool:
    orig = exc.orig
    return type(orig).__name__ == "TransactionException" or getattr(orig, "sqlstate", None) in ("40001", "40P01")


def seed_book(engine: Engine, session_id: uuid.UUID, *, contact_name: str, contact_email: str,
              seats: int = 1) -> uuid.UUID:
    """Book `seats` the seed's way; return the new booking's id. Raises SessionFull."""
    lock = engine.dialect.name == "postgresql"
    select = sa.select(cs.c.max_capacity, cs.c.current_bookings, cs.c.status).where(cs.c.id == session_id)
    if lock:
        select = select.with_for_update()
    for attempt in range(ATTEMPTS):
        try:
            with engine.begin() as conn:
                row = conn.execute(select).one()
                if row.status != "scheduled" or row.current_bookings + seats > row.max_capacity:
                    raise SessionFull(row.max_capacity - row.current_bookings, str(session_id), seats)
                now = utc_now()
                conn.execute(sa.update(cs).where(cs.c.id == session_id)
                             .values(current_bookings=cs.c.current_bookings + seats, updated_at=now))
                booking_id = uuid.uuid4()
                conn.execute(bk.insert().values(
                    id=booking_id, session_id=session_id, reference=new_reference(), contact_name=contact_name,
                    contact_email=contact_email, seats=seats, status="confirmed", created_at=now))
                return booking_id
        except sa.exc.DBAPIError as exc:
            if not _conflict(exc):
                raise
        time.sleep(min(0.2, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))
    raise Busy()
