"""The change feed: every write adds one row, and one version, in its own transaction.

Open pages ask `latest_version` (a one-row read) every second or two and reload only
when it moved. The feed doubles as the audit trail: who did what, when, to what.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.config import utc_now
from core.db import reading
from core.models import Change
from core.schema import change_counter, changes

NOTIFY_CHANNEL = "availability_changes"
FEED_PAGE = 1000


@dataclass(frozen=True)
class ChangeSet:
    latest: int
    session_ids: frozenset[uuid.UUID]
    changes: list[Change]


def record(
    conn: Connection,
    action: str,
    *,
    actor: str | None,
    session_id: uuid.UUID | None = None,
    other_session_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    details: dict | None = None,
) -> int:
    """Add the change row of this transaction and return its version.

    Call it last in the transaction: bumping the counter row serialises writers from here
    to commit, so versions become visible in the order they are numbered. Every bump is
    this one statement: DuckDB 2.0.1 misses the conflict between an UPDATE ... RETURNING
    and a plain UPDATE of the same row, so the two kinds must not be mixed on it.
    """
    version = conn.execute(
        sa.update(change_counter)
        .where(change_counter.c.id == 1)
        .values(version=change_counter.c.version + 1)
        .returning(change_counter.c.version)
    ).scalar_one()
    conn.execute(
        changes.insert().values(
            version=version,
            occurred_at=utc_now(),
            actor=actor,
            action=action,
            session_id=session_id,
            other_session_id=other_session_id,
            booking_id=booking_id,
            details=json.dumps(details or {}, default=str, ensure_ascii=False),
        )
    )
    if conn.dialect.name == "postgresql":
        # Delivered by PostgreSQL at commit, never for a rolled-back transaction.
        conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(version))))
    conn.info["change_version"] = version
    return version


def latest_version(engine: Engine) -> int:
    """The newest committed version (0 before any write)."""
    with reading(engine) as conn:
        return int(conn.execute(sa.select(change_counter.c.version).where(change_counter.c.id == 1)).scalar_one())


def _change(row) -> Change:
    return Change(
        version=row.version,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        session_id=row.session_id,
        other_session_id=row.other_session_id,
        booking_id=row.booking_id,
        details=json.loads(row.details or "{}"),
    )


def _touched(change: Change) -> set[uuid.UUID]:
    ids = {i for i in (change.session_id, change.other_session_id) if i is not None}
    ids.update(uuid.UUID(i) for i in change.details.get("session_ids", ()))
    return ids


def changes_since(engine: Engine, version: int) -> ChangeSet:
    """The changes after `version` (at most 1000, oldest first) and the sessions they touched.

    When more than a page happened, `latest` is the last version returned: ask again.
    """
    with reading(engine) as conn:
        # The counter first: every version up to it is committed, so none is skipped.
        top = int(conn.execute(sa.select(change_counter.c.version)).scalar_one())
        rows = conn.execute(
            sa.select(changes)
            .where(changes.c.version > int(version), changes.c.version <= top)
            .order_by(changes.c.version)
            .limit(FEED_PAGE)
        ).all()
    latest = rows[-1].version if len(rows) == FEED_PAGE else max(top, int(version))
    feed = [_change(r) for r in rows]
    touched: set[uuid.UUID] = set()
    for change in feed:
        touched |= _touched(change)
    return ChangeSet(latest=latest, session_ids=frozenset(touched), changes=feed)


def audit_log(engine: Engine, *, limit: int = 500, session_id: uuid.UUID | None = None) -> list[Change]:
    """Newest first: who did what, when (for the audit page)."""
    stmt = sa.select(changes).order_by(changes.c.version.desc()).limit(limit)
    if session_id is not None:
        stmt = stmt.where(sa.or_(changes.c.session_id == session_id, changes.c.other_session_id == session_id))
    with reading(engine) as conn:
        return [_change(r) for r in conn.execute(stmt)]
