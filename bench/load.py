"""Load test: 20 staff booking and cancelling at random and 100 viewers polling the change
feed, for 5 minutes, against PostgreSQL on this computer.

    python -m bench.load              # 5 minutes; writes bench/load_results.md and .json
    python -m bench.load --quick      # about 20 s, prints only (for development)

A plain threaded driver in one process, the way an app process works: every thread goes
through the core and its one engine (pool of 10 + 30). Staff pick a random session of the
next four weeks and book 1-3 places under a fresh idempotency key, or cancel one of the
bookings they made; viewers ask `latest_version` every LIVE_POLL_SECONDS (2 s, jittered)
and read `changes_since` when it moved, as an open page does.

Pass: no error other than SessionFull (nothing "busy", no database error), and after the
run, for every session, booked == sum of confirmed seats and 0 <= booked <= capacity <= 12.
The database is one of its own (BENCH_POSTGRES_URL's server, default 127.0.0.1:5432),
dropped at the end; only servers on this computer are accepted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from bench import machine
from bench.pgdb import BenchDatabase
from bench.stats import summary
from core import booking, changes, errors
from core.access import Actor
from core.config import get_settings, today
from core.sessions import create_sessions

HERE = Path(__file__).resolve().parent
COURSES = ("Emergency First Aid at Work", "First Aid at Work", "Paediatric First Aid", "CPR and AED")


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {"book": [], "cancel": [], "poll": []}
        self.outcomes: Counter = Counter()
        self.errors: Counter = Counter()
        self.error_samples: list[str] = []

    def took(self, kind: str, seconds: float, outcome: str) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.outcomes[f"{kind}:{outcome}"] += 1

    def error(self, kind: str, exc: BaseException) -> None:
        with self.lock:
            self.errors[f"{kind}:{type(exc).__name__}"] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")


def _sessions(engine, count: int) -> list:
    first = today() + dt.timedelta(days=1)
    specs = []
    for n in range(count):
        day = first + dt.timedelta(days=n % 28)
        specs.append(dict(course_type=COURSES[n % len(COURSES)], session_date=day,
                          start_time=f"{8 + (n // 28) % 8:02d}:00", end_time=f"{8 + (n // 28) % 8:02d}:45",
                          location=("Location A", "Location B")[(n // 4) % 2], max_capacity=12))
    return [s.id for s in create_sessions(engine, specs, actor=Actor("load test", "admin"))]


def staff(engine, who: Actor, session_ids: list, stop: threading.Event, rec: Recorder, seed: int) -> None:
    rng = random.Random(seed)
    mine: list = []
    n = 0
    while not stop.is_set():
        n += 1
        if mine and rng.random() < 0.35:
            booking_id = mine.pop(rng.randrange(len(mine)))
            started = time.perf_counter()
            try:
                booking.cancel(engine, booking_id, actor=who)
                rec.took("cancel", time.perf_counter() - started, "ok")
            except Exception as exc:  # noqa: BLE001  (every failure is counted as an error)
                rec.error("cancel", exc)
            continue
        sid = rng.choice(session_ids)
        started = time.perf_counter()
        try:
            made = booking.book(engine, sid, contact_name=f"{who.name} caller {n}",
                                contact_email=f"caller{seed}x{n}@example.com", seats=rng.randint(1, 3),
                                idempotency_key=f"load-{seed}-{n}", actor=who)
        except errors.SessionFull:
            rec.took("book", time.perf_counter() - started, "full")
            continue
        except Exception as exc:  # noqa: BLE001
            rec.error("book", exc)
            continue
        rec.took("book", time.perf_counter() - started, "ok")
        mine.append(made.id)


def viewer(engine, stop: threading.Event, rec: Recorder, seed: int, every: float) -> None:
    rng = random.Random(seed)
    stop.wait(rng.uniform(0, every))  # pages were opened at different moments
    cursor = None
    seen = None
    while not stop.is_set():
        started = time.perf_counter()
        try:
            version = changes.latest_version(engine)
            if version != seen:
                found = changes.changes_since(engine, cursor)
                cursor, seen = found.cursor, version
                outcome = "changed"
            else:
                outcome = "same"
            rec.took("poll", time.perf_counter() - started, outcome)
        except Exception as exc:  # noqa: BLE001
            rec.error("poll", exc)
        stop.wait(every * rng.uniform(0.8, 1.2))


def invariants(engine) -> list[str]:
    limit = get_settings().capacity_limit
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT s.id, s.current_bookings, s.held_places, s.max_capacity, "
            "COALESCE((SELECT SUM(b.seats) FROM bookings b WHERE b.session_id = s.id AND b.status = 'confirmed'), 0) AS seats "
            "FROM course_sessions s")).all()
        feed = conn.execute(sa.text("SELECT COUNT(*) FROM changes")).scalar_one()
        counted = conn.execute(sa.text("SELECT COALESCE(SUM(version), 0) FROM change_counter")).scalar_one()
    broken = [f"session {r.id}: booked {r.current_bookings}, confirmed seats {r.seats}, capacity {r.max_capacity}"
              for r in rows
              if not (0 <= r.current_bookings and r.current_bookings + r.held_places <= r.max_capacity <= limit
                      and r.current_bookings == r.seats)]
    if feed != counted:
        broken.append(f"change feed has {feed} rows but the counters say {counted}")
    return broken


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def run(seconds: float, n_staff: int, n_viewers: int, n_sessions: int, poll_every: float) -> dict:
    db = BenchDatabase()
    host = db.base.host or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the load test only runs against a server on this computer, not {host}")
    db.create()
    try:
        engine = db.new_schema("load")
        session_ids = _sessions(engine, n_sessions)
        facts = machine.facts(db)
        rec, stop = Recorder(), threading.Event()
        threads = [threading.Thread(target=staff, args=(engine, Actor(f"Staff {i + 1}", "staff"), session_ids, stop, rec, i),
                                    daemon=True) for i in range(n_staff)]
        threads += [threading.Thread(target=viewer, args=(engine, stop, rec, 1000 + i, poll_every), daemon=True)
                    for i in range(n_viewers)]
        started = time.monotonic()
        for t in threads:
            t.start()
        stop.wait(seconds)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        elapsed = time.monotonic() - started
        stuck = sum(t.is_alive() for t in threads)
        broken = invariants(engine)
        with engine.connect() as conn:
            confirmed = conn.execute(sa.text("SELECT COUNT(*) FROM bookings WHERE status = 'confirmed'")).scalar_one()
            cancelled = conn.execute(sa.text("SELECT COUNT(*) FROM bookings WHERE status = 'cancelled'")).scalar_one()
    finally:
        db.drop()
    lat = {kind: {k: (_ms(v) if k != "n" else v) for k, v in summary(values).items()}
           for kind, values in rec.latency.items()}
    return {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1), "staff": n_staff, "viewers": n_viewers, "sessions": n_sessions,
        "poll_every_s": poll_every, "latency_ms": lat, "outcomes": dict(rec.outcomes),
        "errors": dict(rec.errors), "error_samples": rec.error_samples, "threads_still_running": stuck,
        "bookings_confirmed_at_end": confirmed, "bookings_cancelled_at_end": cancelled,
        "invariants_broken": broken, "passed": not rec.errors and not broken and not stuck,
        "machine": facts,
    }


def markdown(r: dict) -> str:
    lat = r["latency_ms"]
    o = r["outcomes"]

    def row(name: str, kind: str) -> str:
        x = lat[kind]
        return f"| {name} | {x['n']} | {x['p50']} | **{x['p95']}** | {x['max']} |"

    load = r["machine"].get("load_at_start")
    return "\n".join([
        "# Load test",
        "",
        f"`python -m bench.load` ({r['when']}): {r['staff']} staff booking and cancelling at random and "
        f"{r['viewers']} viewers polling the change feed every {r['poll_every_s']:g} s, for {r['seconds']:.0f} s, "
        f"against PostgreSQL on this computer ({r['sessions']} sessions of 12 places over the next four weeks), "
        "one process, one engine, through the core.",
        "",
        f"**{'PASSED' if r['passed'] else 'FAILED'}**: errors other than SessionFull: "
        f"{sum(r['errors'].values())} {r['errors'] or ''}; invariants after the run: "
        f"{'hold' if not r['invariants_broken'] else 'BROKEN ' + '; '.join(r['invariants_broken'][:5])}.",
        "",
        "| operation | count | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        row("book (includes refused as full)", "book"),
        row("cancel", "cancel"),
        row("poll (latest_version, + changes_since when moved)", "poll"),
        "",
        f"Bookings made {o.get('book:ok', 0)}, refused as full {o.get('book:full', 0)}, cancelled "
        f"{o.get('cancel:ok', 0)}; polls that found changes {o.get('poll:changed', 0)}, "
        f"unchanged {o.get('poll:same', 0)}. At the end: {r['bookings_confirmed_at_end']} confirmed and "
        f"{r['bookings_cancelled_at_end']} cancelled bookings in the ledger.",
        "",
        f"Machine: {r['machine'].get('cores')} cores ({r['machine'].get('cpu')}), load average at the start "
        f"{', '.join(f'{x:.1f}' for x in load) if load else 'unknown'} (other work was running), "
        f"{str(r['machine'].get('postgresql', {}).get('version', '')).split(' on ')[0]}, "
        f"commit {r['machine'].get('git_commit')}.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 20 s, print only (for development)")
    parser.add_argument("--seconds", type=float, help="how long (default 300; --quick 20)")
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=112)
    parser.add_argument("--poll-every", type=float, default=None, help="seconds between a viewer's polls (default LIVE_POLL_SECONDS)")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write NAME.md and NAME.json (default bench/load_results; none with --quick)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (20 if args.quick else 300)
    every = args.poll_every or get_settings().live_poll_seconds
    result = run(seconds, args.staff, args.viewers, args.sessions, every)
    text = markdown(result)
    print(text)
    out = args.output or (None if args.quick else HERE / "load_results")
    if out is not None:
        out.with_suffix(".md").write_text(text, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
