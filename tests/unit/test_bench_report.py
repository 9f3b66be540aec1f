"""make bench keeps every part it measured: a part that fails is reported as failed, with
its one-line reason, and the figures of the others still reach results.json and results.md.

No benchmark is run: stand-in benchmark modules return figures or raise.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import types

import pytest
import sqlalchemy as sa

from bench import run as bench_run
from bench.settle import settle
from core.db import forget_engine, get_engine

# the PostgreSQL half of the booking benchmark, as throughput.py records it
BOOKING_PG = {shape: {"median_tps": {"book": 1000.0, "seed": 400.0, "pgbench-book": 1400.0, "pgbench-seed": 600.0},
                      "book_vs_seed": 2.5, "book_vs_pgbench_book": 0.71} for shape in ("hot", "spread")}
MEMORY = {"polls": 1800, "hour_equivalents": 1.0, "rss_mb_after_warmup": 190.0, "rss_mb_end": 191.5,
          "peak_rss_mb": 193.0}
CHECKPOINT_REFUSED = ("Cannot CHECKPOINT: there are other write transactions active. Try using FORCE "
                      "CHECKPOINT to wait until all active transactions are finished\n[SQL: CHECKPOINT]")


def _stand_in(monkeypatch, name: str, run) -> None:
    module = types.ModuleType(f"stand_in_{name}")
    module.run = run
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(bench_run.BENCHMARKS, name, (module.__name__, bench_run.BENCHMARKS[name][1]))


def _context(tmp_path) -> bench_run.Context:
    ctx = bench_run.Context(db=None, tmp=tmp_path, quick=False, out=tmp_path)
    ctx.results["quick"] = False
    return ctx


def test_a_failing_part_is_reported_and_every_other_figure_is_kept(tmp_path, monkeypatch):
    on_disk_when_duckdb_failed = {}

    def booking(ctx):
        result = ctx.partial
        result["runs_per_variant"] = 3
        ctx.part(result, "postgresql", lambda: BOOKING_PG)

        def duckdb():
            on_disk_when_duckdb_failed.update(json.loads((tmp_path / "results.json").read_text()))
            raise RuntimeError(CHECKPOINT_REFUSED)

        ctx.part(result, "duckdb", duckdb)
        return result

    def query(ctx):
        raise ValueError("the 100k table did not load\nsecond line of the message")

    _stand_in(monkeypatch, "booking", booking)
    _stand_in(monkeypatch, "query", query)
    _stand_in(monkeypatch, "memory", lambda ctx: dict(MEMORY))
    ctx = _context(tmp_path)

    status = bench_run.measure_all(ctx, ["booking", "query", "memory"])

    assert status == 1
    assert ctx.failed == ["booking/duckdb", "query"]
    # the PostgreSQL figures were on disk before the DuckDB part ran
    assert on_disk_when_duckdb_failed["benchmarks"]["booking"]["postgresql"] == BOOKING_PG

    saved = json.loads((tmp_path / "results.json").read_text())
    booking_saved = saved["benchmarks"]["booking"]
    assert booking_saved["postgresql"] == BOOKING_PG
    assert booking_saved["duckdb"] == {"failed": "RuntimeError: " + CHECKPOINT_REFUSED.splitlines()[0]}
    assert "failed" not in booking_saved and "incomplete" not in booking_saved
    assert saved["benchmarks"]["query"]["failed"] == "ValueError: the 100k table did not load"
    assert saved["benchmarks"]["memory"]["polls"] == 1800
    assert set(saved["errors"]) == {"booking/duckdb", "query"}

    md = (tmp_path / "results.md").read_text()
    targets = md[md.index("## Targets"):md.index("## 1.")]
    assert "| Booking, one hot session: `book` / seed algorithm (PostgreSQL) | ≥ 1.30x | 2.50x | **met** |" in targets
    assert "| Booking, 200 sessions: `book` / pgbench of the same statements | ≥ 0.50x | 0.71x | **met** |" in targets
    assert "| Calendar month with filters, 100,000 sessions, p95 (PostgreSQL) | < 10 ms | **failed** (see below) |" in targets
    assert "growth 1.5 MB | **met** |" in targets
    assert "| one hot session | 1,000 | 400 | 1,400 | 600 | 2.50x | 0.71x |" in md  # the PostgreSQL table
    assert ("DuckDB: **failed** (RuntimeError: Cannot CHECKPOINT: there are other write transactions active. "
            "Try using FORCE CHECKPOINT to wait until all active transactions are finished).") in md
    assert "**query: failed** (ValueError: the 100k table did not load)." in md
    assert "## 2. The calendar query" not in md  # nothing measured: the one line says it all
    assert "second line of the message" not in md and "[SQL: CHECKPOINT]" not in md
    assert "## 6. Memory over an hour-equivalent of polls" in md


def test_a_stopped_run_keeps_the_parts_measured_before_it(tmp_path, monkeypatch):
    def booking(ctx):
        ctx.part(ctx.partial, "postgresql", lambda: BOOKING_PG)
        ctx.part(ctx.partial, "duckdb", lambda: (_ for _ in ()).throw(bench_run.OutOfTime("the limit")))

    _stand_in(monkeypatch, "booking", booking)
    ctx = _context(tmp_path)

    with pytest.raises(bench_run.OutOfTime):
        bench_run.measure_all(ctx, ["booking", "memory"])

    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["benchmarks"]["booking"]["postgresql"] == BOOKING_PG
    assert saved["benchmarks"]["booking"]["incomplete"] == "stopped: the limit"
    assert "memory" not in saved["benchmarks"]
    assert "**booking: incomplete** (stopped: the limit)" in (tmp_path / "results.md").read_text()


def test_checkpoint_waits_for_a_writer_to_finish_and_is_skipped_with_the_reason_if_it_does_not(tmp_path):
    engine = get_engine(f"duckdb:///{tmp_path / 'settle.duckdb'}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        writer = engine.connect()
        open_write = writer.begin()
        writer.execute(sa.text("UPDATE t SET x = 2"))  # a write transaction left open

        skipped = settle(engine, wait=0.3)
        assert skipped is not None and "other write transactions active" in skipped

        def finish():
            time.sleep(0.3)
            open_write.commit()
            writer.close()

        finishing = threading.Thread(target=finish)
        finishing.start()
        assert settle(engine, wait=10) is None  # waited for the commit, then checkpointed
        finishing.join()
    finally:
        forget_engine(engine)
