"""2. The calendar query: one month with filters, out of 100,000 sessions and out of 1,000.

Both tables hold the same sessions in the measured month (ten a day, content a function
of the date alone); around it the large table holds 27 years more, the small one a few
weeks. So the ratio 100,000 : 1,000 shows how the cost grows with the table, nothing else.
About 1% of sessions have a live hold and 1% a waiting list (the query counts both).

Timed: `core.availability.find_sessions` as the app calls it (SQL, rows, Session objects),
calls alternating between the two tables, after a warm-up. The plan is the database's
own EXPLAIN ANALYZE of the very statement find_sessions sent (captured).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time

import sqlalchemy as sa

from bench import sqlcapture
from bench.settle import settle
from bench.stats import ratio, summary
from core.availability import find_sessions
from core.db import forget_engine, get_engine, migrate

PER_DAY = 10
EPOCH = dt.date(2000, 1, 3)
MONTH = (dt.date(2031, 3, 1), dt.date(2031, 3, 31))
FILTERS = {"course_types": ["First Aid at Work"], "locations": ["Location A"]}
COURSES = ("Emergency First Aid at Work", "First Aid at Work", "Paediatric First Aid", "CPR and AED")


def _div(dialect: str, a: str, b: int) -> str:
    return f"(({a}) // {b})" if dialect == "duckdb" else f"(({a}) / {b})"


def fill(engine, n: int, centre: dt.date | None = None, today: dt.date | None = None) -> str | None:
    """n sessions, ten a day, centred on `centre` (default: the measured month); set-based
    (INSERT ... SELECT). With `today`, sessions before it are marked completed. Returns
    None, or why DuckDB's checkpoint after the load was skipped (bench/settle.py)."""
    dialect = engine.dialect.name
    days = n // PER_DAY
    centre = centre or MONTH[0] + dt.timedelta(days=15)
    first = centre - dt.timedelta(days=days // 2)
    offset = (first - EPOCH).days
    dn = f"({offset} + {_div(dialect, 'i', PER_DAY)})"  # the day's number since EPOCH
    j = f"(i % {PER_DAY})"
    course = " ".join(f"WHEN {k} THEN '{c}'" for k, c in enumerate(COURSES))
    now = dt.datetime(2031, 1, 1)
    insert = f"""
        INSERT INTO course_sessions (id, course_type, session_date, start_time, end_time, location, max_capacity,
                                     current_bookings, held_places, status, instructor_notes, created_at, updated_at)
        SELECT gen_random_uuid(),
               CASE (5 * {dn} + {_div(dialect, j, 2)}) % 4 {course} END,
               CAST(:first AS DATE) + CAST({_div(dialect, 'i', PER_DAY)} AS INTEGER),
               CAST('08:00' AS TIME) + {_div(dialect, j, 2)} * INTERVAL '1 hour',
               CAST('11:00' AS TIME) + {_div(dialect, j, 2)} * INTERVAL '1 hour',
               CASE WHEN i % 2 = 0 THEN 'Location A' ELSE 'Location B' END,
               12,
               LEAST(({dn} * 7 + {j} * 3) % 13, 12),
               0,
               CASE WHEN ({dn} * 10 + {j}) % 37 = 0 THEN 'cancelled'
                    WHEN CAST(:first AS DATE) + CAST({_div(dialect, 'i', PER_DAY)} AS INTEGER) < CAST(:today AS DATE)
                    THEN 'completed' ELSE 'scheduled' END,
               NULL, CAST(:now AS TIMESTAMP), CAST(:now AS TIMESTAMP)
        FROM generate_series(0, :last) AS t(i)
    """
    # Holds on about 1% of sessions, waiting lists on about 1% of the full ones (by date).
    day_no = "(session_date - CAST(:epoch AS DATE))"
    holds = f"""
        INSERT INTO holds (id, session_id, seats, held_by, note, status, created_at, expires_at)
        SELECT gen_random_uuid(), id, 1, 'bench', NULL, 'active', CAST(:now AS TIMESTAMP),
               CAST(:far AS TIMESTAMP)
        FROM course_sessions WHERE ({day_no} * 10 + EXTRACT(HOUR FROM start_time)) % 97 = 0
              AND current_bookings <= 10 AND status = 'scheduled'
    """
    held = """
        UPDATE course_sessions SET held_places = 1
        WHERE id IN (SELECT session_id FROM holds WHERE status = 'active')
    """
    waiting = f"""
        INSERT INTO waitlist_entries (id, session_id, name, email, seats, status, created_at)
        SELECT gen_random_uuid(), id, 'Wait Ing', 'wait@example.com', 1, 'waiting', CAST(:now AS TIMESTAMP)
        FROM course_sessions WHERE current_bookings = 12 AND ({day_no} * 3 + EXTRACT(HOUR FROM start_time)) % 7 = 0
    """
    with engine.begin() as conn:
        conn.execute(sa.text(insert), {"first": first, "now": now, "last": n - 1,
                                       "today": today or dt.date(1900, 1, 1)})
        conn.execute(sa.text(holds), {"now": now, "far": dt.datetime(2100, 1, 1), "epoch": EPOCH})
        conn.execute(sa.text(held))
        conn.execute(sa.text(waiting), {"now": now, "epoch": EPOCH})
    return settle(engine)


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM course_sessions")).scalar_one()


def plan(engine, filters: dict) -> dict:
    """EXPLAIN ANALYZE of the statement find_sessions sends, and the indexes it uses."""
    cap = sqlcapture.capture(engine, lambda: find_sessions(engine, *MONTH, **filters))
    sent = cap.sent[-1]
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sent.sql, sent.raw).all()
            text = "\n".join(r[0] for r in rows)
            indexes = sorted(set(re.findall(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: using| on) (\w+)", text)))
            took = re.search(r"Execution Time: ([0-9.]+) ms", text)
            return {"text": text, "indexes": indexes, "execution_ms": float(took.group(1)) if took else None}
        rows = conn.exec_driver_sql("EXPLAIN ANALYZE " + sent.sql, sent.raw).all()
        text = "\n".join(str(r[-1]) for r in rows)
        return {"text": text, "indexes": sorted(set(re.findall(r"(INDEX_SCAN|Index Scan)", text))),
                "execution_ms": None}


def measure(engines: dict, filters: dict, samples: int, warmup: int) -> dict:
    """find_sessions timings, alternating between the tables (so drift hits both alike)."""
    times = {name: [] for name in engines}
    rows = {}
    for name, engine in engines.items():
        for _ in range(warmup):
            rows[name] = len(find_sessions(engine, *MONTH, **filters))
    for _ in range(samples):
        for name, engine in engines.items():
            started = time.perf_counter()
            find_sessions(engine, *MONTH, **filters)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: {"rows": rows[name], "ms": summary(times[name])} for name in engines}


def run(ctx) -> dict:
    """Two parts, PostgreSQL and DuckDB, each kept as soon as it is measured."""
    samples, warmup = (40, 5) if ctx.quick else (300, 20)
    result: dict = ctx.partial
    result.update({"month": [d.isoformat() for d in MONTH], "filters": FILTERS, "samples": samples,
                   "per_day": PER_DAY})
    folder = ctx.tmp / "duckdb-query"
    folder.mkdir()
    try:
        for db_name in ("postgresql", "duckdb"):
            ctx.part(result, db_name, lambda: _one_database(ctx, db_name, folder, samples, warmup))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _one_database(ctx, db_name: str, folder, samples: int, warmup: int) -> dict:
    sizes = {"1k": 1_000, "100k": 100_000}
    engines = {}
    section: dict = {}
    try:
        for label, n in sizes.items():
            if db_name == "postgresql":
                engine = ctx.db.new_schema(f"query_{label}")
            else:
                engine = get_engine(f"duckdb:///{folder / f'query_{label}.duckdb'}")
                migrate(engine)
            engines[label] = engine
            started = time.perf_counter()
            skipped = fill(engine, n)
            if skipped:
                section.setdefault("checkpoint_skipped", {})[label] = skipped
            ctx.log(f"  {db_name} {label}: {_count(engine):,} sessions loaded in "
                    f"{time.perf_counter() - started:.1f} s")
        section["sessions"] = {label: _count(e) for label, e in engines.items()}
        for case, filters in (("filtered", FILTERS), ("whole_month", {})):
            timed = measure(engines, filters, samples, warmup)
            section[case] = {
                "timings": timed,
                "p95_ratio_100k_to_1k": ratio(timed["100k"]["ms"]["p95"], timed["1k"]["ms"]["p95"]),
                "p50_ratio_100k_to_1k": ratio(timed["100k"]["ms"]["p50"], timed["1k"]["ms"]["p50"]),
                "plan_100k": plan(engines["100k"], filters),
                "plan_1k": plan(engines["1k"], filters),
            }
            ctx.log(f"  {db_name} {case}: rows {timed['100k']['rows']}, p50/p95 100k "
                    f"{timed['100k']['ms']['p50']:.2f}/{timed['100k']['ms']['p95']:.2f} ms, 1k "
                    f"{timed['1k']['ms']['p50']:.2f}/{timed['1k']['ms']['p95']:.2f} ms; indexes "
                    f"{section[case]['plan_100k']['indexes']}")
        return section
    finally:
        for engine in engines.values():
            forget_engine(engine)
