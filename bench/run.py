"""`make bench`: every benchmark in one run, results in bench/results.md and bench/results.json.

    python -m bench.run                  # the full run (about 12-14 minutes)
    python -m bench.run --quick          # small sizes, short windows: a smoke test (~3 min)
    python -m bench.run --only booking,query
    python -m bench.run --render         # rewrite results.md from results.json

Needs the PostgreSQL server of BENCH_POSTGRES_URL (default: local, user postgres), pgbench,
and Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium). A database
`bench_<random>` is created for the run and dropped after it; DuckDB files live in a
temporary folder, removed after; every process started (app servers, pgbench, the
browser) is stopped, also on Ctrl-C or SIGTERM. The quick run writes to bench/quick/.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from bench import machine, procs, report
from bench.pgdb import BenchDatabase

HERE = Path(__file__).resolve().parent
HARD_LIMIT_SECONDS = 14.5 * 60  # make bench must end within 15 minutes, results written

BENCHMARKS = {
    # name: (module, section title)
    "booking": ("bench.throughput", "Booking throughput"),
    "query": ("bench.calendar_query", "Calendar query"),
    "pages": ("bench.page_timings", "Page timings with 20,000 sessions"),
    "exports": ("bench.exports", "Exports of 20,000 sessions"),
    "memory": ("bench.memory", "Memory over an hour-equivalent of polls"),
    # last: it opens as many of its 100 pages as the time left allows (a slow machine
    # measures fewer and scales to 100), so every other figure is taken on any machine
    "live": ("bench.live", "Propagation and the server cost of open calendars"),
}


class OutOfTime(Exception):
    pass


@dataclass
class Context:
    db: BenchDatabase
    tmp: Path
    quick: bool
    out: Path
    partial: dict = field(default_factory=dict)  # a benchmark's results so far (kept if it is stopped)
    started: float = field(default_factory=time.monotonic)

    def log(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def left(self) -> float:
        return HARD_LIMIT_SECONDS - (time.monotonic() - self.started)


def _on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _on_alarm(_signum, _frame):
    raise OutOfTime(f"the run reached its {HARD_LIMIT_SECONDS / 60:.1f}-minute limit")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short windows (smoke test)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--out", default=None, help="folder for results.md/json (default bench/, quick: bench/quick/)")
    parser.add_argument("--render", action="store_true", help="only rewrite results.md from results.json")
    args = parser.parse_args(argv)

    out = Path(args.out) if args.out else (HERE / "quick" if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    if args.render:
        results = json.loads((out / "results.json").read_text())
        (out / "results.md").write_text(report.render(results))
        print(f"wrote {out / 'results.md'}")
        return 0

    chosen = [b.strip() for b in args.only.split(",") if b.strip()] or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(HARD_LIMIT_SECONDS))

    results: dict = {"quick": args.quick, "benchmarks": {}, "errors": {}}
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    db = BenchDatabase()
    ctx = Context(db=db, tmp=tmp, quick=args.quick, out=out)
    status = 0
    try:
        ctx.log(f"machine facts; database {db.name}")
        db.create()
        results["machine"] = machine.facts(db)
        ctx.log(f"load average {results['machine']['load_at_start']}")
        for name in chosen:
            module_name, title = BENCHMARKS[name]
            ctx.log(f"== {title}")
            started = time.monotonic()
            load_before = procs.load_average()
            ctx.partial = {}
            try:
                module = __import__(module_name, fromlist=["run"])
                section = module.run(ctx)
            except (KeyboardInterrupt, OutOfTime) as exc:
                if ctx.partial:
                    results["benchmarks"][name] = {**ctx.partial, "incomplete": f"stopped: {exc}",
                                                   "load_before": load_before, "load_after": procs.load_average()}
                raise
            except Exception as exc:  # one benchmark failing must not lose the others
                traceback.print_exc()
                results["errors"][name] = f"{type(exc).__name__}: {exc}"[:2000]
                status = 1
                continue
            finally:
                procs.stop_all()
            section["took_seconds"] = round(time.monotonic() - started, 1)
            section["load_before"] = load_before
            section["load_after"] = procs.load_average()
            results["benchmarks"][name] = section
            ctx.log(f"   {title}: {section['took_seconds']} s")
    except (KeyboardInterrupt, OutOfTime) as exc:
        results["errors"]["run"] = f"stopped: {exc}"
        ctx.log(f"stopped: {exc}")
        status = 2
    finally:
        signal.alarm(0)
        procs.stop_all()
        try:
            db.drop()
        except Exception as exc:  # report, but still write what was measured
            results["errors"]["cleanup"] = f"dropping {db.name}: {exc}"
            status = status or 1
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        results["total_seconds"] = round(time.monotonic() - ctx.started, 1)
        results["finished_at"] = time.strftime("%Y-%m-%d %H:%M %Z")
        results["load_at_end"] = procs.load_average()
        (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
        (out / "results.md").write_text(report.render(results))
        ctx.log(f"wrote {out / 'results.md'} and results.json in {results['total_seconds']} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
