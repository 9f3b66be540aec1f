"""The change feed: every write adds its events (one or more rows) in its own transaction.

Open pages ask `latest_version` (a read of a few dozen tiny rows) and reload only when it
moved. The feed doubles as the audit trail: who did what, when, to what.

Why shards: a single counter row bumped by every write would queue all writers behind one
row lock until each commit (measured with pgbench on this kind of machine: ~635 tps
instead of ~3,000 for bookings spread over 200 sessions). Each write bumps the counter of
its session's shard instead, so writers on different sessions do not wait for each other,
while the sum over the shards still counts every committed write exactly.

On PostgreSQL, other app processes hear of commits by a NOTIFY sent after them
(`announce`, called by the announcer thread of `core.db`, once for a burst of commits),
outside every write's transaction: a NOTIFY inside it takes a database-wide lock held
through commit (measured: ~570 tps for the same spread bookings).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.config import utc_now
from core.db import before_commit, reading, set_version_reader
from core.models import Change
from core.schema import change_counter, changes, changes_version_seq

NOTIFY_CHANNEL = "availability_changes"
FEED_PAGE = 1000
SHARDS = 64


def shard_of(session_id: uuid.UUID | None) -> int:
    """The counter a write on this session bumps (writes on one session share a shard)."""
    return session_id.int % SHARDS if session_id is not None else 0


@dataclass(frozen=True)
class FeedCursor:
    """Where a reader of the feed is: how far it has read each shard."""

    positions: tuple[int, ...]

    @property
    def version(self) -> int:
        return sum(self.positions)

    @classmethod
    def start(cls) -> FeedCursor:
        return cls((0,) * SHARDS)


@dataclass(frozen=True)
class ChangeSet:
    latest: int                     # the version (count of committed writes) read up to
    cursor: FeedCursor              # pass it to the next changes_since call
    session_ids: frozenset[uuid.UUID]
    changes: list[Change]           # oldest first within a shard


def record(
    conn: Connection,
    action: str,
    *,
    actor: str | None,
    session_id: uuid.UUID | None = None,
    other_session_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    details: dict | None = None,
) -> None:
    """Add an event to this transaction: written when `core.db.write` is about to commit.

    Any number of events a transaction: one for what was asked and one for each thing it
    caused (a promotion, a hold it reaped). They are written together at the end, shard by
    shard in shard order, each shard's counter bumped once: so the counter rows are locked
    only from then to commit, always in the same order (no deadlock between two
    transactions touching two shards), and within a shard the feed becomes visible in the
    order it is numbered.
    """
    conn.info.setdefault("pending_events", []).append(dict(
        action=action, actor=actor, session_id=session_id, other_session_id=other_session_id,
        booking_id=booking_id, details=details))
    conn.info["changed"] = True


def _write_pending(conn: Connection) -> None:
    """Before commit: the transaction's events into the feed (see `record`)."""
    pending = conn.info.pop("pending_events", None)
    if not pending:
        return
    by_shard: dict[int, list[dict]] = {}
    for event in pending:
        by_shard.setdefault(shard_of(event["session_id"]), []).append(event)
    rows = []
    for shard in sorted(by_shard):
        events = by_shard[shard]
        # Every bump is this one statement: DuckDB 2.0.1 misses the conflict between an
        # UPDATE ... RETURNING and a plain UPDATE of the same row, so the two kinds must
        # not be mixed on it.
        top = conn.execute(
            sa.update(change_counter)
            .where(change_counter.c.id == shard)
            .values(version=change_counter.c.version + len(events))
            .returning(change_counter.c.version)
        ).scalar_one()
        first = top - len(events) + 1
        rows.extend(change_row(shard, first + n, **event) for n, event in enumerate(events))
    for row in rows:  # one by one: each draws its version from the sequence in this order
        conn.execute(changes.insert().values(row))


before_commit(_write_pending)


def change_row(shard: int, shard_seq, action: str, *, actor, session_id=None, other_session_id=None,
               booking_id=None, details=None) -> dict:
    return dict(
        version=changes_version_seq.next_value(), shard=shard, shard_seq=shard_seq, occurred_at=utc_now(),
        actor=actor, action=action, session_id=session_id, other_session_id=other_session_id,
        booking_id=booking_id, details=json.dumps(details or {}, default=str, ensure_ascii=False),
    )


_SUM = sa.select(sa.func.coalesce(sa.func.sum(change_counter.c.version), 0))


def latest_version(engine: Engine) -> int:
    """How many events have committed (one or more a write): it moves on every commit and never goes back."""
    with reading(engine) as conn:
        return int(conn.execute(_SUM).scalar_one())


def announce(engine: Engine) -> int:
    """After a commit: read the version and, on PostgreSQL, NOTIFY it to other processes."""
    if engine.dialect.name != "postgresql":
        return latest_version(engine)
    with reading(engine.execution_options(isolation_level="AUTOCOMMIT")) as conn:
        total = _SUM.scalar_subquery()
        row = conn.execute(sa.select(total.label("v"), sa.func.pg_notify(NOTIFY_CHANNEL, sa.cast(total, sa.Text)))).one()
        return int(row.v)


set_version_reader(announce)


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


def feed_cursor(engine: Engine) -> FeedCursor:
    """The feed as it stands now: `changes_since(engine, feed_cursor(engine))` is empty."""
    with reading(engine) as conn:
        return _positions(conn)


def _positions(conn: Connection) -> FeedCursor:
    rows = dict(conn.execute(sa.select(change_counter.c.id, change_counter.c.version)).all())
    return FeedCursor(tuple(int(rows.get(shard, 0)) for shard in range(SHARDS)))


def changes_since(engine: Engine, since: FeedCursor | None = None) -> ChangeSet:
    """The changes after `since` (None: from the start) and the sessions they touched.

    Exact: a change is in exactly one answer of a chain of calls that pass on `.cursor`.
    At most 1000 changes a call; when there were more, call again with the new cursor.
    """
    since = since or FeedCursor.start()
    with reading(engine) as conn:
        # The counters first: every change up to them is committed, so none is skipped.
        top = _positions(conn)
        moved = [(s, since.positions[s], top.positions[s]) for s in range(SHARDS)
                 if top.positions[s] > since.positions[s]]
        rows = []
        if moved:
            rows = conn.execute(
                sa.select(changes)
                .where(sa.or_(*(sa.and_(changes.c.shard == s, changes.c.shard_seq > lo, changes.c.shard_seq <= hi)
                                for s, lo, hi in moved)))
                .order_by(changes.c.shard_seq, changes.c.shard)
                .limit(FEED_PAGE)
            ).all()
    if len(rows) == FEED_PAGE:  # a partial page: move each shard only as far as was read
        reached = list(since.positions)
        for r in rows:
            reached[r.shard] = max(reached[r.shard], r.shard_seq)
        top = FeedCursor(tuple(reached))
    feed = sorted((_change(r) for r in rows), key=lambda c: c.version)
    touched: set[uuid.UUID] = set()
    for change in feed:
        touched |= _touched(change)
    return ChangeSet(latest=top.version, cursor=top, session_ids=frozenset(touched), changes=feed)
