"""Named consumers of the change feed: each event handled exactly once, from any process.

The change feed (`core.changes`) is also a transactional outbox. A consumer (the mail
sender, requalification reminders) has a name and a cursor per shard of the feed in
`event_cursors`. `consume` handles the events after the cursor in batches; a batch is ONE
transaction that locks the cursor rows it takes, calls the handler for each event with the
batch's connection, and moves the cursors. So whatever the handler writes through that
connection commits together with the cursor move, or neither does: after a crash the batch
is handled again as if for the first time, and an event's effects are committed once.

Order: within a shard, events are handled in `shard_seq` order, which is commit order (a
write holds its shard's counter row from the bump to its commit), so each session's events
come in the order they happened. Shards are independent of one another.

Several processes (PostgreSQL): a batch locks the cursor rows of at most SHARDS_PER_BATCH
shards with `FOR UPDATE SKIP LOCKED`, in random order; another process skips those and
takes other shards, so they split the work and never handle one event twice. DuckDB has one
writing process and no FOR UPDATE: `core.db.write` makes its threads take turns.

A handler must only change the database through the connection it is given; anything
outside (SMTP) belongs after commit, driven by rows the handler wrote. `write` runs a batch
again after a write conflict, and the first run's database effects were rolled back.

A handler that raises rolls back its whole batch; the event is recorded on its cursor row
(`failing_seq`, `attempts`, `last_error`) and the other shards carry on. Later batches
handle that shard only up to the event before it; then the failing event is tried alone,
once per `consume` call, and after `max_attempts` failed tries it is skipped: recorded in
`event_skips` (what the consumer never did) and the shard goes on. One bad event thus holds
up only the later events of its own shard, and only for a few calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from core.changes import SHARDS, _change
from core.config import utc_now
from core.db import _is_conflict, _is_unreachable, reading, write
from core.errors import Busy, DatabaseUnavailable
from core.models import Change
from core.schema import change_counter, changes, event_cursors, event_skips

log = logging.getLogger(__name__)

Handler = Callable[[Connection, Change], None]
Start = Literal["beginning", "now"]

# A batch takes at most this many of the 64 shards, so up to 8 processes find work at once;
# a batch is also capped by `limit` events.
SHARDS_PER_BATCH = 8
MAX_ATTEMPTS = 5
ERROR_TEXT = 500  # characters of a handler's error kept on the cursor row

as_change = _change  # a `changes` row as a Change


@dataclass(frozen=True)
class Failing:
    """An event whose handler raised: it holds up the later events of its shard."""

    shard: int
    shard_seq: int
    version: int | None
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class ConsumerStatus:
    consumer: str
    lag: int                      # events committed and not yet handled (or skipped)
    failing: tuple[Failing, ...]  # events being retried
    skipped: int                  # events given up on (rows of event_skips)


@dataclass
class _Claim:
    shard: int
    position: int
    top: int                      # the last event of the shard this batch may read
    failing_seq: int | None
    attempts: int


class _HandlerFailed(Exception):
    """The handler raised on `row`; the batch is rolled back."""

    def __init__(self, row) -> None:
        super().__init__(row.version)
        self.row = row


def consume(engine: Engine, consumer: str, handle: Handler, *, limit: int = 500, start: Start = "beginning",
            max_attempts: int = MAX_ATTEMPTS) -> int:
    """Handle the events `consumer` has not handled yet; return how many were handled.

    `handle(conn, change)` is called once per event, in commit order within each session,
    inside the transaction that moves the consumer's cursor (at most `limit` events a
    transaction). `start` matters only the first time a name is seen: "beginning" handles the
    whole feed, "now" only events committed after that first call (a new mail sender must
    not mail history). Returns when nothing is left that this process may take (another
    process may be handling some shards). A handler's exception is recorded and retried,
    then the event skipped (module docstring); Busy and DatabaseUnavailable are raised.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    _register(engine, consumer, start)
    handled, retried = 0, set()
    while True:
        done = _run_batch(engine, consumer, handle, limit, max_attempts, retried)
        if done is None:
            done = _retry_failing(engine, consumer, handle, max_attempts, retried)
            if done is None:
                return handled
        handled += done


def register(engine: Engine, consumer: str, start: Start = "beginning") -> None:
    """Create the consumer's cursors if it has none (see `consume` for `start`)."""
    _register(engine, consumer, start)


def _register(engine: Engine, consumer: str, start: Start) -> None:
    if start not in ("beginning", "now"):
        raise ValueError(f"start must be 'beginning' or 'now', not {start!r}")
    position = change_counter.c.version if start == "now" else sa.literal(0, sa.BigInteger)
    # One statement reads the counters and inserts: a concurrent first call of another
    # process inserts the same rows, and the first to commit wins each shard.
    stmt = insert(event_cursors).from_select(
        ["consumer", "shard", "position"],
        sa.select(sa.literal(consumer, sa.String), change_counter.c.id, position),
    ).on_conflict_do_nothing()

    def work(conn: Connection) -> None:
        known = conn.execute(sa.select(sa.func.count()).where(event_cursors.c.consumer == consumer)).scalar_one()
        if known < SHARDS:
            conn.execute(stmt)

    write(engine, work)


def _claim(conn: Connection, consumer: str, condition, count: int) -> list[_Claim]:
    """Lock up to `count` of the consumer's cursor rows that meet `condition` and have events."""
    stmt = (
        sa.select(event_cursors.c.shard, event_cursors.c.position, change_counter.c.version,
                  event_cursors.c.failing_seq, event_cursors.c.attempts)
        .join(change_counter, change_counter.c.id == event_cursors.c.shard)
        .where(event_cursors.c.consumer == consumer, change_counter.c.version > event_cursors.c.position, condition)
        .order_by(sa.func.random())  # no shard waits behind busier ones
        .limit(count)
    )
    if conn.dialect.name == "postgresql":
        # Rows another process holds are skipped, not waited for. A row it moved and
        # committed since this statement began is re-read (READ COMMITTED re-checks a row
        # it locks), so `position` is the committed one.
        stmt = stmt.with_for_update(skip_locked=True, of=event_cursors)
    return [_Claim(r.shard, r.position, r.version, r.failing_seq, r.attempts) for r in conn.execute(stmt)]


def _read(conn: Connection, claims: list[_Claim], limit: int) -> list:
    """The events after each claim's position up to its top, each shard's oldest first."""
    ranges = [sa.and_(changes.c.shard == c.shard, changes.c.shard_seq > c.position, changes.c.shard_seq <= c.top)
              for c in claims]
    # Ordered by shard_seq first, so a cut at `limit` takes some of every shard's events.
    return conn.execute(
        sa.select(changes).where(sa.or_(*ranges)).order_by(changes.c.shard_seq, changes.c.shard).limit(limit)
    ).all()


def _handle_all(conn: Connection, rows: list, handle: Handler) -> None:
    for row in sorted(rows, key=lambda r: (r.shard, r.shard_seq)):
        try:
            handle(conn, as_change(row))
        except sa.exc.DBAPIError as exc:
            if _is_conflict(exc) or _is_unreachable(exc):
                raise  # `write` runs the batch again, or reports the database unreachable
            raise _HandlerFailed(row) from exc  # e.g. the handler broke a constraint
        except (Busy, DatabaseUnavailable):
            raise  # not the event's fault: the next call tries again
        except Exception as exc:  # noqa: BLE001  (any handler bug must be recorded, not loop forever)
            raise _HandlerFailed(row) from exc


def _move(conn: Connection, consumer: str, shard: int, position: int, *, clear_failure: bool) -> None:
    values = dict(position=position)
    if clear_failure:
        values.update(failing_seq=None, attempts=0, last_error=None)
    conn.execute(sa.update(event_cursors)
                 .where(event_cursors.c.consumer == consumer, event_cursors.c.shard == shard).values(**values))


def _run_batch(engine: Engine, consumer: str, handle: Handler, limit: int, max_attempts: int,
               retried: set) -> int | None:
    """One batch over shards that are not at a failing event; None when there was none."""
    not_at_failure = sa.or_(event_cursors.c.failing_seq.is_(None),
                            event_cursors.c.failing_seq > event_cursors.c.position + 1)

    def work(conn: Connection) -> int | None:
        claims = _claim(conn, consumer, not_at_failure, SHARDS_PER_BATCH)
        if not claims:
            return None
        for c in claims:  # never past a failing event: it is tried alone, later
            if c.failing_seq is not None:
                c.top = min(c.top, c.failing_seq - 1)
        rows = _read(conn, claims, limit)
        _handle_all(conn, rows, handle)
        reached = {c.shard: c.top for c in claims}
        if len(rows) == limit:  # a partial read: move each shard only as far as was read
            reached = {}
            for r in rows:
                reached[r.shard] = max(reached.get(r.shard, 0), r.shard_seq)
        for shard, position in reached.items():
            _move(conn, consumer, shard, position, clear_failure=False)
        return len(rows)

    return _write_batch(engine, work, consumer, max_attempts, retried)


def _retry_failing(engine: Engine, consumer: str, handle: Handler, max_attempts: int, retried: set) -> int | None:
    """Try one event that failed before, alone (each shard once per `consume` call), or skip
    it once it has failed `max_attempts` times. None when no such event is waiting."""
    at_failure = sa.and_(event_cursors.c.failing_seq == event_cursors.c.position + 1,
                         event_cursors.c.shard.not_in(retried) if retried else sa.true())

    def work(conn: Connection) -> int | None:
        claims = _claim(conn, consumer, at_failure, 1)
        if not claims:
            return None
        claim = claims[0]
        retried.add(claim.shard)
        row = conn.execute(sa.select(changes).where(changes.c.shard == claim.shard,
                                                    changes.c.shard_seq == claim.failing_seq)).one()
        if claim.attempts >= max_attempts:
            _skip(conn, consumer, row, claim.attempts, None)
            return 0
        _handle_all(conn, [row], handle)
        _move(conn, consumer, claim.shard, row.shard_seq, clear_failure=True)
        return 1

    return _write_batch(engine, work, consumer, max_attempts, retried)


def _write_batch(engine: Engine, work, consumer: str, max_attempts: int, retried: set) -> int | None:
    """Run one batch; a handler's failure is recorded and counts as its shard's try this call."""
    try:
        return write(engine, work)
    except _HandlerFailed as failed:
        retried.add(failed.row.shard)
        _record_failure(engine, consumer, failed.row, failed.__cause__, max_attempts)
        return 0


def _record_failure(engine: Engine, consumer: str, row, error: BaseException | None, max_attempts: int) -> None:
    """Count a failed try of `row` on its cursor; skip it once it has had `max_attempts`."""
    text = f"{type(error).__name__}: {error}"[:ERROR_TEXT]
    log.warning("consumer %s: handling event %s failed", consumer, row.version, exc_info=error)

    def work(conn: Connection) -> None:
        stmt = sa.select(event_cursors).where(event_cursors.c.consumer == consumer, event_cursors.c.shard == row.shard)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        cursor = conn.execute(stmt).one()
        if cursor.position >= row.shard_seq:
            return  # handled meanwhile by another process
        attempts = cursor.attempts + 1 if cursor.failing_seq == row.shard_seq else 1
        if attempts >= max_attempts and cursor.position == row.shard_seq - 1:
            _skip(conn, consumer, row, attempts, text)
            return
        conn.execute(sa.update(event_cursors)
                     .where(event_cursors.c.consumer == consumer, event_cursors.c.shard == row.shard)
                     .values(failing_seq=row.shard_seq, attempts=attempts, last_error=text))

    write(engine, work)


def _skip(conn: Connection, consumer: str, row, attempts: int, error: str | None) -> None:
    """Give up on `row`: keep it in event_skips and move the shard past it."""
    log.error("consumer %s: skipped event %s after %d failed attempts", consumer, row.version, attempts)
    last = conn.execute(sa.select(event_cursors.c.last_error).where(
        event_cursors.c.consumer == consumer, event_cursors.c.shard == row.shard)).scalar_one()
    conn.execute(event_skips.insert().values(
        consumer=consumer, version=row.version, shard=row.shard, shard_seq=row.shard_seq, attempts=attempts,
        error=error or last, skipped_at=utc_now()))
    _move(conn, consumer, row.shard, row.shard_seq, clear_failure=True)


def consumer_status(engine: Engine, consumer: str) -> ConsumerStatus:
    """How far behind `consumer` is, which events it is retrying and how many it skipped.

    A name never consumed counts the whole feed as its lag (what a "beginning" start owes).
    """
    lag = sa.select(sa.func.coalesce(sa.func.sum(change_counter.c.version - event_cursors.c.position), 0)).join(
        change_counter, change_counter.c.id == event_cursors.c.shard).where(event_cursors.c.consumer == consumer)
    failing = (
        sa.select(event_cursors.c.shard, event_cursors.c.failing_seq, changes.c.version, event_cursors.c.attempts,
                  event_cursors.c.last_error)
        .outerjoin(changes, sa.and_(changes.c.shard == event_cursors.c.shard,
                                    changes.c.shard_seq == event_cursors.c.failing_seq))
        .where(event_cursors.c.consumer == consumer, event_cursors.c.failing_seq.is_not(None))
        .order_by(event_cursors.c.shard)
    )
    skipped = sa.select(sa.func.count()).where(event_skips.c.consumer == consumer)
    known = sa.select(sa.func.count()).where(event_cursors.c.consumer == consumer)
    with reading(engine) as conn:
        if conn.execute(known).scalar_one():
            behind = int(conn.execute(lag).scalar_one())
        else:
            behind = int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(change_counter.c.version), 0))).scalar_one())
        return ConsumerStatus(
            consumer=consumer, lag=behind,
            failing=tuple(Failing(*r) for r in conn.execute(failing)),
            skipped=int(conn.execute(skipped).scalar_one()),
        )


def lag(engine: Engine, consumer: str) -> int:
    """Events committed that `consumer` has not handled yet (for a status page)."""
    return consumer_status(engine, consumer).lag
