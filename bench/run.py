"""`make bench`: every benchmark in one run, results in bench/results.md and bench/results.json.

    python -m bench.run                  # the full run (about 12-14 minutes)
    python -m bench.run --quick          # small sizes, short windows: a smoke test (~3 min)
    python -m bench.run --only booking,query   # only these sections are measured again
    python -m bench.run --only busy --busy-pages 100 --busy-seconds 120
    python -m bench.run --render         # rewrite results.md from results.json

Needs the PostgreSQL server of BENCH_POSTGRES_URL (default: local, user postgres), pgbench,
and Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium). A database
`bench_<random>` is created for the run and dropped after it; DuckDB files live in a
temporary folder, removed after; every process started (app servers, pgbench, the
browser) is stopped, also on Ctrl-C or SIGTERM. The quick run writes to bench/quick/.

Each part is kept the moment it is measured: results.json and results.md are rewritten
after every part (a benchmark, or one database's half of it), so a part that fails, or a
run that is stopped or killed, keeps the figures measured before it. A part that fails is
recorded as {"failed": "<one-line reason>"} and shown so in results.md; the run goes on
with the next part and exits 1.
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
from collections.abc import Callable
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
    "mail": ("bench.mail", "Booking e-mails: a burst of 1,000 bookings"),
    # last: it opens as many of its 100 pages as the time left allows (a slow machine
    # measures fewer and scales to 100), so every other figure is taken on any machine
    "live": ("bench.live", "Propagation and the server cost of open calendars"),
    # asked for by name (--only busy): 100 pages and 2 minutes of bookings take ~6 minutes
    "busy": ("bench.busy_day", "Busy-day live cost"),
}
DEFAULT = [name for name in BENCHMARKS if name != "busy"]


class OutOfTime(Exception):
    pass


def reason(exc: BaseException) -> str:
    """One line saying why a part failed: the exception's type and its message's first line."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}"[:300] if first else type(exc).__name__


@dataclass
class Context:
    db: BenchDatabase
    tmp: Path
    quick: bool
    out: Path
    results: dict = field(default_factory=lambda: {"benchmarks": {}, "errors": {}})
    partial: dict = field(default_factory=dict)  # the running benchmark's results so far
    failed: list = field(default_factory=list)  # "benchmark" or "benchmark/part", each failed part
    current: str = ""  # the benchmark running
    options: dict = field(default_factory=dict)  # per-benchmark options from the command line
    started: float = field(default_factory=time.monotonic)

    def log(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def left(self) -> float:
        return HARD_LIMIT_SECONDS - (time.monotonic() - self.started)

    def part(self, section: dict, key: str, measure: Callable[[], dict]) -> dict:
        """Measure one part of a benchmark into section[key] and write the results out.

        A part that raises is recorded as {"failed": reason} and the benchmark goes on
        with its other parts; being stopped (Ctrl-C, SIGTERM, the time limit) is not a
        failure of the part and goes up.
        """
        try:
            section[key] = measure()
        except (KeyboardInterrupt, OutOfTime):
            raise
        except Exception as exc:
            traceback.print_exc()
            section[key] = {"failed": reason(exc)}
            self.results["errors"][f"{self.current}/{key}"] = f"{type(exc).__name__}: {exc}"[:2000]
            self.failed.append(f"{self.current}/{key}")
            self.log(f"   {self.current}/{key} failed: {section[key]['failed']}")
        self.save()
        return section[key]

    def save(self) -> None:
        """Write results.json and results.md as they stand (each replaced whole, never half written)."""
        write(self.out, self.results)


def write(out: Path, results: dict) -> None:
    for name, text in (("results.json", json.dumps(results, indent=1, default=str) + "\n"),
                       ("results.md", report.render(results))):
        part = out / f".{name}.part"
        part.write_text(text)
        os.replace(part, out / name)


def measure_all(ctx: Context, chosen: list[str]) -> int:
    """Run the chosen benchmarks one after another into ctx.results; 0, or 1 if a part failed.

    Each benchmark writes into ctx.partial, which stands in results["benchmarks"] from the
    start, so what it measured is written out and kept whatever happens to it later.
    Stopping (Ctrl-C, SIGTERM, the time limit) goes up, the section marked incomplete.
    """
    benchmarks = ctx.results["benchmarks"]
    for name in chosen:
        module_name, title = BENCHMARKS[name]
        ctx.log(f"== {title}")
        started = time.monotonic()
        load_before = procs.load_average()
        ctx.current, ctx.partial = name, {"incomplete": "still running when this was written"}
        benchmarks[name] = ctx.partial
        ctx.save()
        try:
            module = __import__(module_name, fromlist=["run"])
            section = module.run(ctx)
            if section is not ctx.partial:
                ctx.partial.update(section)
            ctx.partial.pop("incomplete", None)
        except (KeyboardInterrupt, OutOfTime) as exc:
            ctx.partial["incomplete"] = f"stopped: {exc}"
            raise
        except Exception as exc:  # one benchmark failing must not lose the others, nor its own figures
            traceback.print_exc()
            ctx.partial.pop("incomplete", None)
            ctx.partial["failed"] = reason(exc)
            ctx.results["errors"][name] = f"{type(exc).__name__}: {exc}"[:2000]
            ctx.failed.append(name)
            ctx.log(f"   {title} failed: {ctx.partial['failed']}")
        finally:
            procs.stop_all()
            ctx.partial["took_seconds"] = round(time.monotonic() - started, 1)
            ctx.partial["load_before"] = load_before
            ctx.partial["load_after"] = procs.load_average()
            ctx.partial["measured_at"] = time.strftime("%Y-%m-%d %H:%M %Z")
            ctx.save()
        ctx.log(f"   {title}: {ctx.partial['took_seconds']} s")
    return 1 if ctx.failed else 0


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
    parser.add_argument("--busy-pages", type=int, default=None, help="busy: open calendars (default 100)")
    parser.add_argument("--busy-seconds", type=float, default=None, help="busy: seconds of bookings (default 120)")
    args = parser.parse_args(argv)

    out = Path(args.out) if args.out else (HERE / "quick" if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    if args.render:
        results = json.loads((out / "results.json").read_text())
        (out / "results.md").write_text(report.render(results))
        print(f"wrote {out / 'results.md'}")
        return 0

    chosen = [b.strip() for b in args.only.split(",") if b.strip()] or DEFAULT
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(HARD_LIMIT_SECONDS))

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    db = BenchDatabase()
    ctx = Context(db=db, tmp=tmp, quick=args.quick, out=out,
                  options={"busy_pages": args.busy_pages, "busy_seconds": args.busy_seconds})
    results = ctx.results
    results["quick"] = args.quick
    kept = out / "results.json"
    only = bool(args.only) and not args.quick and kept.is_file()
    if only:  # --only: the other sections stay as their run measured them
        results.update(json.loads(kept.read_text()))
        for name in chosen:
            results["errors"].pop(name, None)
    status = 0
    try:
        ctx.log(f"machine facts; database {db.name}")
        db.create()
        facts = machine.facts(db)
        if not only:
            results["machine"] = facts
        ctx.log(f"load average {facts['load_at_start']}")
        status = measure_all(ctx, chosen)
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
        if not only:
            results["total_seconds"] = round(time.monotonic() - ctx.started, 1)
            results["finished_at"] = time.strftime("%Y-%m-%d %H:%M %Z")
            results["load_at_end"] = procs.load_average()
        ctx.save()
        ctx.log(f"wrote {out / 'results.md'} and results.json in {results['total_seconds']} s"
                + (f"; failed: {', '.join(ctx.failed)}" if ctx.failed else ""))
    return status


if __name__ == "__main__":
    sys.exit(main())
