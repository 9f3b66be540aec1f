"""results.json -> results.md: ratios and targets first, then each benchmark, then the machine.

Every number in results.md comes from results.json. bench/findings.md, when present, is
the reading of the figures written after the run (by a person); it is copied in as is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _n(v, digits=0, unit=""):
    if v is None:
        return "–"
    text = f"{v:,.{digits}f}"
    return f"{text}{unit}"


def _x(v):
    return "–" if v is None else f"{v:.2f}x"


def _pct(v, digits=1):
    return "–" if v is None else f"{100 * v:.{digits}f}%"


def _median_of(runs: dict):
    """med(variant, key): the median of `key` over a variant's runs (None if none has it)."""
    def med(variant, key):
        values = [r.get(key) for r in runs.get(variant, []) if r.get(key) is not None]
        return sorted(values)[len(values) // 2] if values else None
    return med


def _ms(v, digits=1):
    return "–" if v is None else f"{v:,.{digits}f} ms"


def _verdict(ok):
    return "–" if ok is None else ("**met**" if ok else "**missed**")


def _get(d, *path):
    for key in path:
        if isinstance(d, list) and isinstance(key, int) and -len(d) <= key < len(d):
            d = d[key]
        elif isinstance(d, dict) and key in d:
            d = d[key]
        else:
            return None
    return d


GROWTH_ALLOWED_MB = 5


def _growth(mem: dict):
    end, warm = mem.get("rss_mb_end"), mem.get("rss_mb_after_warmup")
    return None if end is None or warm is None else end - warm


def _nominal(sc: dict, c: dict, pages: int = 100):
    """Share of a core for `pages` pages polling at the nominal interval, from the measured CPU per poll."""
    per_poll, base = c.get("cpu_ms_per_poll"), _get(sc, "no_pages", "core_share")
    if per_poll is None or base is None:
        return None
    return base + pages / (sc.get("poll_interval_s") or 2.0) * per_poll / 1000


def _why_missing(b: dict, name: str, part: str | None = None) -> str | None:
    """"failed" when the benchmark `name`, or its `part`, failed (its figures are then missing)."""
    for d in (b.get(name), _get(b, name, part) if part else None):
        if isinstance(d, dict) and d.get("failed"):
            return "failed"
    return None


def _or_why(cell: str, why: str | None) -> str:
    return f"**{why}** (see below)" if why and cell == "–" else cell


def _targets(b: dict) -> list[str]:
    rows = []
    pg = _get(b, "booking", "postgresql") or {}
    why = _why_missing(b, "booking", "postgresql")
    for shape, label in (("hot", "one hot session"), ("spread", "200 sessions")):
        r = _get(pg, shape, "book_vs_seed")
        rows.append(f"| Booking, {label}: `book` / seed algorithm (PostgreSQL) | ≥ 1.30x | {_or_why(_x(r), why)} | "
                    f"{_verdict(None if r is None else r >= 1.3)} |")
        r = _get(pg, shape, "book_vs_pgbench_book")
        rows.append(f"| Booking, {label}: `book` / pgbench of the same statements | ≥ 0.50x | {_or_why(_x(r), why)} | "
                    f"{_verdict(None if r is None else r >= 0.5)} |")
    q = _get(b, "query", "postgresql", "filtered") or {}
    why = _why_missing(b, "query", "postgresql")
    p95 = _get(q, "timings", "100k", "ms", "p95")
    rows.append(f"| Calendar month with filters, 100,000 sessions, p95 (PostgreSQL) | < 10 ms | {_or_why(_ms(p95, 2), why)} | "
                f"{_verdict(None if p95 is None else p95 < 10)} |")
    r = q.get("p95_ratio_100k_to_1k")
    rows.append(f"| Same query, 100,000 vs 1,000 sessions (p95) | < 2x | {_or_why(_x(r), why)} | "
                f"{_verdict(None if r is None else r < 2)} |")
    xs = _get(b, "exports", "xlsx", "median_s")
    rows.append(f"| Excel export of 20,000 sessions (DuckDB) | < 3 s | {_n(xs, 2, ' s')} | "
                f"{_verdict(None if xs is None else xs < 3)} |")
    sc = _get(b, "live", "server_cost") or {}
    push = _get(sc, "configs", "push_gc_off") or {}
    share = push.get("core_share_at_100_pages")
    measured_n = push.get("pages")
    label = "100 idle open calendars, push (measured" + (f" with {measured_n} pages" if measured_n != 100 else "") + ")"
    rows.append(f"| {label} | < 5% of one core | {_or_why(_pct(share, 2), _why_missing(b, 'live'))} | "
                f"{_verdict(None if share is None else share < 0.05)} |")
    poll = _get(sc, "configs", "poll_gc_off") or {}
    nominal = _nominal(sc, poll)
    rows.append(f"| The same calendars polling every 2 s (fallback) | (figure only) | "
                f"{_pct(poll.get('core_share_at_100_pages'), 1)} measured"
                + (f"; {_pct(nominal, 0)} at the nominal {100 / (sc.get('poll_interval_s') or 2):.0f} polls/s" if nominal else "")
                + " | |")
    busy = _get(b, "busy", "busy") or {}
    if busy or b.get("busy"):
        n = _get(b, "busy", "pages")
        per_push, per_redraw = busy.get("requests_per_push"), busy.get("app_cpu_ms_per_redraw")
        why = _why_missing(b, "busy")
        saturated = _busy_saturated(b["busy"])
        rows.append(f"| Busy day, {n} open calendars, a booking a second: rerun requests per push | 1 | "
                    f"{_or_why(_n(per_push, 2), why)}" + (" (pages could not keep up: see 7)" if saturated else "")
                    + f" | {_verdict(None if per_push is None or saturated else 0.95 <= per_push <= 1.05)} |")
        rows.append(f"| Same: app CPU per redraw ({_pct(_busy_at_100(b['busy']), 0)} of a core for 100 pages "
                    "at one booking a second) | < 10 ms (100 pages under one core) | "
                    f"{_or_why(_ms(per_redraw), why)} | {_verdict(None if per_redraw is None else per_redraw < 10)} |")
    mem = b.get("memory") or {}
    growth = _growth(mem)
    ok = None if growth is None or not mem.get("hour_equivalents") else (growth <= GROWTH_ALLOWED_MB
                                                                           and mem["hour_equivalents"] >= 1)
    rows.append(f"| App RSS over {_n(mem.get('polls'))} polls ({(mem.get('hour_equivalents') or 0):.1f} hour-equivalents) "
                f"| no growth (≤ {GROWTH_ALLOWED_MB} MB after warm-up) | "
                + ("**failed** (see below)" if _why_missing(b, "memory") and growth is None else
                   f"peak {_n(mem.get('peak_rss_mb'), 0, ' MB')}, growth {_n(growth, 1, ' MB')}")
                + f" | {_verdict(ok)} |")
    return rows


def _failed(part: dict | None, label: str) -> list[str]:
    """A part that failed: its label and one-line reason (nothing if it did not fail)."""
    return [f"{label}: **failed** ({part['failed']}).", ""] if isinstance(part, dict) and part.get("failed") else []


def _booking(sec: dict) -> list[str]:
    out = ["## 1. Booking throughput (16 concurrent bookers)", ""]
    pg = sec.get("postgresql") or {}
    out += _failed(pg, "PostgreSQL") or (_booking_postgresql(sec, pg) if pg else [])
    duck = sec.get("duckdb") or {}
    out += _failed(duck, "DuckDB") or (_booking_duckdb(duck) if duck else [])
    errors = []
    for db in ("postgresql", "duckdb"):
        for shape in ("hot", "spread"):
            for variant, runs in (_get(sec, db, shape, "runs") or {}).items():
                for r in runs:
                    if r.get("errors") or r.get("failed"):
                        errors.append(f"{db} {shape} {variant}: {r.get('errors') or r.get('failed')}")
                    if r.get("checkpoint_skipped"):
                        errors.append(f"{db} {shape} {variant}: {r['checkpoint_skipped']}")
    if errors:
        out += ["", "Errors during runs (counted, not in the rates): " + "; ".join(errors) + "."]
    return out + [""]


def _booking_postgresql(sec: dict, pg: dict) -> list[str]:
    out = []
    out.append(f"PostgreSQL; {sec.get('runs_per_variant')} interleaved runs of {sec.get('seconds_per_run')} s per "
               f"variant (after {sec.get('warmup_seconds')} s warm-up for the Python ones); medians; each run starts "
               "from emptied ledger tables. `book` = " + f"`{sec.get('api')}`.")
    out.append("")
    out.append("| shape | `book` tps | seed algorithm tps | pgbench, `book`'s statements | pgbench, seed's statements "
               "| book / seed | book / pgbench (same) | seed / pgbench (same) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for shape, label in (("hot", "one hot session"), ("spread", "200 sessions")):
        s = pg.get(shape) or {}
        m = s.get("median_tps") or {}
        out.append(f"| {label} | {_n(m.get('book'))} | {_n(m.get('seed'))} | {_n(m.get('pgbench-book'))} | "
                   f"{_n(m.get('pgbench-seed'))} | {_x(s.get('book_vs_seed'))} | {_x(s.get('book_vs_pgbench_book'))} | "
                   f"{_x(s.get('seed_vs_pgbench_seed'))} |")
    out.append("")
    out.append("Latency of one booking under that load (median of the runs' p50 / p95):")
    out.append("")
    out.append("| shape | `book` p50 | `book` p95 | seed p50 | seed p95 |")
    out.append("|---|---:|---:|---:|---:|")
    for shape, label in (("hot", "one hot session"), ("spread", "200 sessions")):
        s = pg.get(shape) or {}
        out.append(f"| {label} | {_ms(s.get('book_latency_ms_p50'))} | {_ms(s.get('book_latency_ms_p95'))} | "
                   f"{_ms(s.get('seed_latency_ms_p50'))} | {_ms(s.get('seed_latency_ms_p95'))} |")
    if any(_get(pg, shape, "runs", "book", 0, "client_cpu_ms_per_booking") is not None for shape in ("hot", "spread")):
        out += ["", "Where the CPU went (medians of the runs): the benchmark's own Python process (16 threads, one GIL) "
                "per booking and as a share of one core, and how busy the machine's cores were overall:", "",
                "| shape | `book`: client CPU a booking | client, % of a core | machine busy | seed: client CPU a booking "
                "| client, % of a core | machine busy | pgbench `book` / seed: machine busy |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for shape, label in (("hot", "one hot session"), ("spread", "200 sessions")):
            med = _median_of(_get(pg, shape, "runs") or {})
            out.append(f"| {label} | {_ms(med('book', 'client_cpu_ms_per_booking'), 2)} | "
                       f"{_pct(med('book', 'client_core_share'), 0)} | {_pct(med('book', 'machine_busy'), 0)} | "
                       f"{_ms(med('seed', 'client_cpu_ms_per_booking'), 2)} | {_pct(med('seed', 'client_core_share'), 0)} | "
                       f"{_pct(med('seed', 'machine_busy'), 0)} | {_pct(med('pgbench-book', 'machine_busy'), 0)} / "
                       f"{_pct(med('pgbench-seed', 'machine_busy'), 0)} |")
    if any(_get(pg, shape, "runs", "book", 0, "server_cpu_ms_per_booking") is not None for shape in ("hot", "spread")):
        out += ["", "PostgreSQL's own CPU a booking (every server process, read from /proc over the same "
                "windows; pgbench's over its whole run, connecting included; medians):", "",
                "| shape | `book` | seed algorithm | pgbench, `book`'s statements | pgbench, seed's statements |",
                "|---|---:|---:|---:|---:|"]
        for shape, label in (("hot", "one hot session"), ("spread", "200 sessions")):
            med = _median_of(_get(pg, shape, "runs") or {})
            out.append(f"| {label} | " + " | ".join(_ms(med(v, "server_cpu_ms_per_booking"), 2)
                                                   for v in ("book", "seed", "pgbench-book", "pgbench-seed")) + " |")
    st = sec.get("statements") or {}
    bk, sd = st.get("book") or {}, st.get("seed") or {}
    out += ["", "What one booking sends (captured from SQLAlchemy during the run):", "",
            "| | statements | transactions | pool checkouts | round trips (with BEGIN, COMMIT and pre-pings) | "
            "round trips holding the session row | round trips holding a change-feed counter row |",
            "|---|---:|---:|---:|---:|---:|---:|",
            f"| `book` | {bk.get('statements')} | {bk.get('transactions')} | {bk.get('pool_checkouts', '–')} | "
            f"{bk.get('round_trips')} | {bk.get('round_trips_holding_session_row')} | "
            f"{bk.get('round_trips_holding_change_counter') or '–'} |",
            f"| seed algorithm | {sd.get('statements')} | {sd.get('transactions')} | {sd.get('pool_checkouts', '–')} | "
            f"{sd.get('round_trips')} | {sd.get('round_trips_holding_session_row')} | – |", ""]
    listing = [f"book:  {line[:150]}" for line in bk.get("sql") or []] + [f"seed:  {line[:150]}" for line in sd.get("sql") or []]
    if listing:
        out += ["```", *listing, "```", ""]
    notes = st.get("book_script_notes") or []
    out.append(f"pgbench ran `{st.get('book_script')}` (generated from that capture, next to this file) and "
               "`pgbench/seed.sql`, 16 clients, 2 threads, prepared statements, `--max-tries=10`."
               + (" " + "; ".join(notes) + "." if notes else ""))
    diag = pg.get("diagnostics_spread_pgbench") or {}
    if diag:
        out += ["", "Diagnostics (pgbench, 200 sessions, one run each; what parts of `book`'s statements cost):", "",
                "| script | tps |", "|---|---:|",
                f"| `book`'s statements (median above) | {_n(_get(pg, 'spread', 'median_tps', 'pgbench-book'))} |"]
        names = {"book-no-notify": "without the NOTIFY statement",
                 "book-no-feed": "without the change feed (counter row, change row, NOTIFY)"}
        for key, d in diag.items():
            if key == "processes":
                continue
            out.append(f"| {names.get(key, key)} | {_n(d.get('tps')) if 'tps' in d else d.get('skipped', '–')} |")
    split = diag.get("processes")
    if split:
        runs_note = "one run each" if split.get("runs") == 1 else "medians of the runs"
        out += ["", "The same 16 bookers as 4 processes x 4 threads (a diagnostic: four GILs instead of one; "
                f"{runs_note}):", "",
                "| shape | `book` tps | seed tps | book / seed | `book` / pgbench (same statements) | "
                "client CPU a booking, `book` / seed | server CPU a booking, `book` / seed | machine busy, `book` / seed |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for shape, label in (("hot", "one hot session"), ("spread", "200 sessions")):
            m = _get(split, shape, "median_tps") or {}
            pgb = _get(pg, shape, "median_tps", "pgbench-book")
            med = _median_of(_get(split, shape, "runs") or {})
            out.append(f"| {label} | {_n(m.get('book'))} | {_n(m.get('seed'))} | "
                       f"{_x(None if not m.get('seed') else m.get('book', 0) / m['seed'])} | "
                       f"{_x(None if not pgb else (m.get('book') or 0) / pgb)} | "
                       f"{_ms(med('book', 'client_cpu_ms_per_booking'), 2)} / {_ms(med('seed', 'client_cpu_ms_per_booking'), 2)} | "
                       f"{_ms(med('book', 'server_cpu_ms_per_booking'), 2)} / {_ms(med('seed', 'server_cpu_ms_per_booking'), 2)} | "
                       f"{_pct(med('book', 'machine_busy'), 0)} / {_pct(med('seed', 'machine_busy'), 0)} |")
    return out


def _booking_duckdb(duck: dict) -> list[str]:
    out = []
    if duck:
        out += ["", f"DuckDB (a temporary file, one process, 16 threads; {duck.get('seconds_per_run')} s runs; the seed's "
                "shape without `FOR UPDATE`, which DuckDB lacks, retrying write conflicts):", "",
                "| shape | `book` tps | seed shape tps | book / seed | `book` p95 |", "|---|---:|---:|---:|---:|"]
        for shape, label in (("hot", "one hot session"), ("spread", "200 sessions")):
            s = duck.get(shape) or {}
            m = s.get("median_tps") or {}
            out.append(f"| {label} | {_n(m.get('book'))} | {_n(m.get('seed'))} | {_x(s.get('book_vs_seed'))} | "
                       f"{_ms(s.get('book_latency_ms_p95'))} |")
    dsql = _get(duck, "statements", "sql") or []
    if dsql:
        out += ["", f"One `book` on DuckDB, statement by statement ({_get(duck, 'statements', 'statements')} statements, "
                "time the driver took for each):", "", "```", *[line[:150] + (" …" + line[line.rfind(" ("):]
                                                               if len(line) > 150 and line.endswith(" ms)") else "")
                                                              for line in dsql], "```"]
    return out


def _plan_excerpt(text: str | None, lines: int = 14) -> list[str]:
    if not text:
        return []
    body = text.splitlines()[:lines]
    return ["```", *body, "```"]


def _duck_scan(text: str) -> list[str]:
    """The box of DuckDB's plan that scans course_sessions (boxes sit side by side)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        at = line.find("╭─ Table Scan")
        while at >= 0:
            right = line.find("╮", at)
            box = []
            for following in lines[i:]:
                part = following[at:right + 1]
                box.append(part.rstrip())
                if part.startswith("╰"):
                    break
            if any("course_sessions" in b for b in box):
                return ["```", *box, "```"]
            at = line.find("╭─ Table Scan", right)
    return _plan_excerpt(text, 20)


def _query(sec: dict) -> list[str]:
    out = ["## 2. The calendar query", "",
           f"`core.availability.find_sessions` for {sec.get('month', ['?', '?'])[0]} to {sec.get('month', ['?', '?'])[1]}, "
           f"{sec.get('samples')} calls per table, alternating; filters: {sec.get('filters')}; "
           f"{sec.get('per_day')} sessions a day, the same month content in both tables.", "",
           "| database | query | rows | 1,000: p50 / p95 | 100,000: p50 / p95 | 100k / 1k (p95) | "
           "database time (EXPLAIN ANALYZE, 100k) | indexes used (100k) |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    for db in ("postgresql", "duckdb"):
        d = sec.get(db) or {}
        if d.get("failed"):
            out.append(f"| {db} | **failed** ({d['failed']}) | | | | | | |")
            continue
        for case, label in (("filtered", "month, one course, one site"), ("whole_month", "month, no filter")):
            c = d.get(case) or {}
            t = c.get("timings") or {}
            small, big = _get(t, "1k", "ms") or {}, _get(t, "100k", "ms") or {}
            plan = c.get("plan_100k") or {}
            out.append(f"| {db} | {label} | {_get(t, '100k', 'rows')} | {_ms(small.get('p50'), 2)} / {_ms(small.get('p95'), 2)} | "
                       f"{_ms(big.get('p50'), 2)} / {_ms(big.get('p95'), 2)} | {_x(c.get('p95_ratio_100k_to_1k'))} | "
                       f"{_ms(plan.get('execution_ms'), 2)} | {', '.join(plan.get('indexes') or []) or 'none (scan)'} |")
    pg = _get(sec, "postgresql", "filtered", "plan_100k", "text")
    if pg:
        out += ["", "PostgreSQL's plan for the filtered month out of 100,000 sessions (first lines):", "",
                *_plan_excerpt(pg, 18)]
    dk = _get(sec, "duckdb", "filtered", "plan_100k", "text")
    if dk:
        out += ["", "DuckDB's plan, same query: the scan of course_sessions, with the filters pushed into it "
                "(DuckDB's ART indexes serve point lookups; a date range is scanned, and only row groups of "
                "~122,880 rows whose min/max fall outside it are skipped):", "",
                *_duck_scan(dk)]
    return out + [""]


def _live(sec: dict) -> list[str]:
    out = []
    sc = sec.get("server_cost") or {}
    if sc:
        n = _get(sc, "configs", "push_gc_off", "pages")
        out += ["## 3. Server cost of open calendars", "",
                f"One app process (`streamlit run server.py`, PostgreSQL, demo data); {n} headless Chromium pages of "
                "the calendar (month view, desktop size), opened in "
                f"{sc.get('opening_seconds')} s; CPU time of the app process (all threads) from /proc over steady windows "
                f"of {sc.get('push_window_s')} s with push (the safety-net poll is every 30 s) and {sc.get('window_s')} s "
                "polling; polls counted in the browser. With no page open the app used "
                f"{_pct(_get(sc, 'no_pages', 'core_share'), 2)} of one core."
                + (f" Opening stopped at {n} pages: {sc.get('stopped_short')}." if sc.get("stopped_short") else ""),
                "", "| mode | runner.postScriptGC | pages | app CPU, % of one core | per open page | polls in window | "
                "CPU per poll | scaled to 100 pages |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for key, label in (("push_gc_off", "push"), ("poll_gc_off", "polling every 2 s"),
                           ("push_gc_on", "push"), ("poll_gc_on", "polling every 2 s")):
            c = _get(sc, "configs", key)
            if not c:
                continue
            out.append(f"| {label} | {'on' if c.get('post_script_gc') else 'off (as shipped)'} | {c.get('pages')} | "
                       f"{_pct(c.get('core_share'), 2)} | {_pct(c.get('per_page_core_share'), 3)} | {c.get('polls')} | "
                       f"{_ms(c.get('cpu_ms_per_poll')) if not c.get('push') else '–'} | "
                       f"{_pct(c.get('core_share_at_100_pages'), 1)} |")
        levels = sc.get("levels") or {}
        if levels:
            out += ["", "Push, postScriptGC off, as pages were opened: " + "; ".join(
                f"{k} pages {_pct(v.get('core_share'), 2)}" for k, v in levels.items()) + "."]
        notes = [sc.get("baseline_note", "") + f". {sc.get('reconnected')} page connections came back after the "
                 "restart with postScriptGC on."]
        window = sc.get("window_s") or 1
        for key in ("poll_gc_off", "poll_gc_on"):
            c = _get(sc, "configs", key) or {}
            if c.get("pages") and c.get("polls") is not None:
                nominal_rate = c["pages"] / (sc.get("poll_interval_s") or 2.0)
                notes.append(f"Polling, postScriptGC {'on' if c.get('post_script_gc') else 'off'}: {c['pages']} pages "
                             f"sent {c['polls'] / window:.0f} polls/s (nominal {nominal_rate:.0f}); at the nominal rate, "
                             f"100 pages would cost {_pct(_nominal(sc, c), 0)} of a core.")
        push_off, push_on = _get(sc, "configs", "push_gc_off") or {}, _get(sc, "configs", "push_gc_on") or {}
        poll_on = _get(sc, "configs", "poll_gc_on") or {}
        if push_on and not push_on.get("polls") and push_off.get("polls") and poll_on.get("cpu_ms_per_poll"):
            rate = push_off["polls"] / (sc.get("push_window_s") or 30) / (push_off.get("pages") or 1) * 100
            derived = (_get(sc, "no_pages", "core_share") or 0) + rate * poll_on["cpu_ms_per_poll"] / 1000
            notes.append(f"Push with postScriptGC on: no safety-net poll fell in its window. Derived, not measured: "
                         f"100 pushed pages poll {rate:.1f} times a second (as measured with GC off), at "
                         f"{_ms(poll_on['cpu_ms_per_poll'])} a poll with GC on: about {_pct(derived, 0)} of a core.")
        out += ["", *[n + "\n" for n in notes]]
    p = sec.get("propagation") or {}
    if p:
        out += ["## 4. Propagation: a committed booking to another browser", "",
                f"{p.get('trials')} trials; booked through the core API from another process; time from the commit "
                "to the calendar's events changing in the page (the booking call itself took "
                f"{_ms(p.get('book_call_ms_p50'))} at the median).", "",
                "| path | p50 | p95 | max | missed (> 15 s) |", "|---|---:|---:|---:|---:|",
                f"| push (WebSocket, NOTIFY between processes) | {_ms(_get(p, 'push_ms', 'p50'), 0)} | "
                f"{_ms(_get(p, 'push_ms', 'p95'), 0)} | {_ms(_get(p, 'push_ms', 'max'), 0)} | {_get(p, 'missed', 'push')} |",
                f"| polling every {p.get('poll_interval_s')} s (push blocked) | {_ms(_get(p, 'poll_ms', 'p50'), 0)} | "
                f"{_ms(_get(p, 'poll_ms', 'p95'), 0)} | {_ms(_get(p, 'poll_ms', 'max'), 0)} | {_get(p, 'missed', 'poll')} |",
                ""]
    return out


def _busy_at_100(sec: dict) -> float | None:
    """App CPU for 100 pages each redrawing once a booking at one booking a second, as a
    share of one core: the idle pages' share scaled to 100, plus 100 redraws a second at
    the measured CPU per redraw (a saturated machine makes pages fold pushes together, so
    the measured total would understate it)."""
    busy, idle = sec.get("busy") or {}, sec.get("idle") or {}
    per_redraw, pages = busy.get("app_cpu_ms_per_redraw"), (sec.get("pages") or 0) + (sec.get("watchers") or 0)
    if per_redraw is None or not pages or not busy.get("wall_s"):
        return None
    rate = (busy.get("bookings") or 0) / busy["wall_s"]
    return (idle.get("app_core_share") or 0) * 100 / pages + per_redraw / 1000 * 100 * rate


def _busy_saturated(sec: dict) -> bool:
    """The pages could not keep up (the machine was busy): they folded pushes together."""
    per_push = _get(sec, "busy", "requests_per_push")
    return per_push is not None and per_push < 0.9


def _busy(sec: dict) -> list[str]:
    busy, idle = sec.get("busy") or {}, sec.get("idle") or {}
    n = sec.get("pages")
    out = ["## 7. Busy-day live cost: open calendars while bookings arrive at one a second", "",
           f"`python -m bench.run --only busy --busy-pages {sec.get('pages_wanted')} --busy-seconds "
           f"{_n(sec.get('seconds'))}` ({sec.get('measured_at') or 'this run'}, load average "
           f"{_n((sec.get('load_before') or [None])[0], 1)} at its start on a shared machine). One app process "
           f"(PostgreSQL, demo data), {n} calendar pages (month view) and {sec.get('watchers')} watcher pages "
           f"(Day view of the {sec.get('sessions_booked')} sessions booked), headless Chromium; bookings through the "
           "core API from another process, one a second, round robin. Requests and pushes counted inside the pages; "
           "CPU from /proc."
           + (f" Opening stopped at {n} pages: {sec.get('stopped_short')}." if sec.get("stopped_short") else ""), "",
           "| window | s | bookings | rerun requests | pushes received | requests per push | app CPU, % of a core | "
           "browsers' CPU, % of a core | machine busy | PostgreSQL CPU s |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, w in (("idle (pages open)", idle), ("bookings at 1/s", busy)):
        if not w:
            continue
        out.append(f"| {label} | {_n(w.get('wall_s'), 1)} | {w.get('bookings', 0)} | {w.get('requests')} | "
                   f"{w.get('pushes', '–')} | {_n(w.get('requests_per_push'), 2) if w.get('requests_per_push') else '–'} | "
                   f"{_pct(w.get('app_core_share'), 1)} | {_pct(w.get('browsers_core_share'), 0)} | "
                   f"{_pct(w.get('machine_busy_share'), 0)} | {_n(w.get('postgres_cpu_s'), 1)} |")
    if busy:
        lat = busy.get("commit_to_redraw_ms") or {}
        out += ["", f"- App CPU per booking (over the idle window's rate): {_ms(busy.get('app_cpu_ms_per_booking'))}; "
                f"per redraw (a rerun request): {_ms(busy.get('app_cpu_ms_per_redraw'))} "
                f"({_ms(busy.get('app_cpu_ms_per_redraw_all'))} counting all of the app's CPU in the window); "
                f"{_n((busy.get('request_bytes') or 0) / max(busy.get('requests') or 1, 1), 0)} bytes a request.",
                f"- 100 pages each redrawing once a booking at one booking a second, from the CPU per redraw: "
                f"{_pct(_busy_at_100(sec), 0)} of one core.",
                *([f"- **The pages could not keep up**: {_n(busy.get('requests_per_push'), 2)} rerun requests per push "
                   "received means each page folded several pushes into one rerun request (pushes that reach a "
                   "page before its queued request is sent go out with it), and the commit-to-redraw figures are the browsers "
                   f"waiting for CPU: the machine was {_pct(busy.get('machine_busy_share'), 0)} busy, the load average "
                   f"went from {_n((sec.get('load_before') or [None])[0], 1)} to "
                   f"{_n((sec.get('load_after') or [None])[0], 1)} on 2 cores (the browsers, the app and PostgreSQL share them; the browsers' CPU is in the table). One request "
                   "per push on a page that keeps up is shown by tests/e2e/test_live_dialog_browser.py."]
                  if _busy_saturated(sec) else []),
                f"- Commit to redraw on the watchers: p50 {_ms(lat.get('p50'), 0)}, p95 {_ms(lat.get('p95'), 0)}, "
                f"max {_ms(lat.get('max'), 0)} ({lat.get('n')} redraws, {busy.get('redraws_missed')} not seen); "
                f"the booking call took {_ms(_get(busy, 'book_call_ms', 'p50'))} at the median.", ""]
    return out


def _pages(sec: dict) -> list[str]:
    out = ["## 5. Page timings with 20,000 sessions", "",
           f"New browser context each time; the first render is the app's first (cold caches), then the median of "
           f"{(sec.get('renders_per_page') or 1) - 1} more.", "",
           "| database | data | calendar: first / then | occupancy dashboard: first / then | xlsx of the month: first / median |",
           "|---|---|---:|---:|---:|"]
    for db in ("postgresql", "duckdb"):
        d = sec.get(db) or {}
        if d.get("skipped") or d.get("failed"):
            out.append(f"| {db} | " + (f"skipped: {d['skipped']}" if d.get("skipped") else f"**failed** ({d['failed']})")
                       + " | | | |")
            continue
        if not d:
            continue
        data = d.get("data") or {}
        cal, occ, x = _get(d, "pages", "calendar") or {}, _get(d, "pages", "occupancy") or {}, d.get("xlsx_export") or {}
        out.append(f"| {db} | {_n(data.get('course_sessions'))} sessions, {_n(data.get('bookings'))} bookings | "
                   f"{_ms(cal.get('first_ms'), 0)} / {_ms(cal.get('median_after_first_ms'), 0)} | "
                   f"{_ms(occ.get('first_ms'), 0)} / {_ms(occ.get('median_after_first_ms'), 0)} | "
                   f"{_ms(x.get('first_ms'), 0)} / {_ms(x.get('median_ms'), 0)} ({x.get('sessions')} sessions, "
                   f"{_n((x.get('bytes') or 0) / 1024, 0)} KiB) |")
    return out + [""]


def _exports(sec: dict) -> list[str]:
    x, old = sec.get("xlsx") or {}, sec.get("xlsx_cell_at_a_time") or {}
    prev = sec.get("xlsx_xlsxwriter") or {}
    lines = ["## Exports of 20,000 sessions", "",
             f"DuckDB, {_n(sec.get('sessions'))} sessions ({_n(_get(sec, 'data', 'bookings'))} bookings), whole range, "
             f"median of {sec.get('runs')} runs (`--only exports`, {sec.get('measured_at') or 'this run'}, load average "
             f"{_n((sec.get('load_before') or [None])[0], 1)} at its start on a shared machine), each the whole export, "
             "reading the database included. Before: the writer replaced (XlsxWriter, constant-memory mode), and the "
             "same workbook written a cell at a time in a normal openpyxl workbook, both measured in the same run. "
             "Most of the time is the Bookings sheet (one row per booking, 15 columns).", "",
             "| file | seconds | bytes |", "|---|---|---|",
             f"| Excel, as shipped (core/exports/xlsx_stream.py, sheet XML written a block of rows at a time) | {_n(x.get('median_s'), 2)} | {_n(x.get('bytes'))} |"]
    if prev:
        lines.append(f"| Excel, XlsxWriter in constant-memory mode (the writer replaced) | {_n(prev.get('median_s'), 2)} | {_n(prev.get('bytes'))} |")
    lines += [f"| Excel, a cell at a time (before) | {_n(old.get('median_s'), 2)} | {_n(old.get('bytes'))} |",
              f"| CSV | {_n(_get(sec, 'csv', 'median_s'), 2)} | {_n(_get(sec, 'csv', 'bytes'))} |",
              f"| iCalendar | {_n(_get(sec, 'ics', 'median_s'), 2)} | {_n(_get(sec, 'ics', 'bytes'))} |", ""]
    said = f"Excel as shipped is {_x(sec.get('xlsx_speedup'))} faster than a cell at a time"
    if prev:
        said += f" and {_x(sec.get('xlsx_vs_xlsxwriter'))} faster than XlsxWriter"
    return lines + [said + ".", ""]


def _mail(sec: dict) -> list[str]:
    lines = ["## Booking e-mails: a burst of 1,000 bookings", "",
             f"{sec.get('bookers')} threads book one place each, the sender runs as in every app process (a thread "
             f"woken by each commit, {sec.get('batch')} messages a claim, one SMTP session a pass), the SMTP server "
             f"is aiosmtpd in the same process (`--only mail`, {sec.get('measured_at') or 'this run'}, load average "
             f"{_n((sec.get('load_before') or [None])[0], 1)} at its start on 2 shared cores). Latency: from a booking's "
             "commit to the SMTP server accepting its confirmation; the bookings are all in within a few seconds (on "
             "PostgreSQL), so it is mostly the queue draining at the rate shown. A profile of 400 sends on this machine "
             "put most of a message's time in the standard library's MIME writer and header parser (about 14 ms) and "
             "the SMTP round trips to a server sharing the process.", "",
             "| database | bookings | messages | messages a second | latency p50 | p95 | max |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name in ("postgresql", "duckdb"):
        d = sec.get(name) or {}
        if d.get("failed"):
            lines.append(f"| {name} | failed: {d['failed']} | | | | | |")
            continue
        lines.append(f"| {name} | {_n(d.get('bookings'))} | {_n(d.get('messages'))} | {_n(d.get('messages_per_s'), 1)} "
                     f"| {_n(d.get('latency_p50_ms'), 0, ' ms')} | {_n(d.get('latency_p95_ms'), 0, ' ms')} "
                     f"| {_n(d.get('latency_max_ms'), 0, ' ms')} |")
    return lines + [""]


def _memory(sec: dict) -> list[str]:
    return ["## 6. Memory over an hour-equivalent of polls", "",
            f"{sec.get('pages')} calendar pages polling every {sec.get('poll_interval_s')} s (push blocked) with a booking "
            f"every second: {_n(sec.get('polls'))} polls in {sec.get('seconds')} s "
            f"({(sec.get('hour_equivalents') or 0):.2f} x the {_n(sec.get('hour_equivalent_polls'))} polls of one page "
            f"polling every 2 s for an hour), {sec.get('bookings')} bookings.", "",
            "| RSS before polling | after warm-up (10% of polls) | at the end | growth | peak (VmHWM) | slope, second half |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {_n(sec.get('rss_mb_before_polling'), 0, ' MB')} | {_n(sec.get('rss_mb_after_warmup'), 0, ' MB')} | "
            f"{_n(sec.get('rss_mb_end'), 0, ' MB')} | {_n(_growth(sec), 1, ' MB')} | {_n(sec.get('peak_rss_mb'), 0, ' MB')} | "
            f"{_n(sec.get('slope_mb_per_1000_polls_second_half'), 2)} MB per 1,000 polls |", ""]


def _machine(m: dict, results: dict) -> list[str]:
    pg = m.get("postgresql") or {}
    settings = ", ".join(f"{k}={v}" for k, v in sorted((pg.get("settings") or {}).items()))
    return ["## The machine", "",
            f"- {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory_gib')} GiB memory, {m.get('os')}",
            f"- {pg.get('version', '?')}; {settings}",
            f"- {m.get('pgbench')}; DuckDB {m.get('duckdb')}; SQLAlchemy {m.get('sqlalchemy')}; psycopg {m.get('psycopg')}; "
            f"Streamlit {m.get('streamlit')}; Python {m.get('python')}; Playwright {m.get('playwright')}; {m.get('chromium')}",
            f"- PostgreSQL, the app, the benchmark's own Python threads and the browser all share these cores.",
            f"- code: commit {m.get('git_commit')}" + (" plus uncommitted changes to tracked files" if m.get("git_tracked_changes") else ""),
            ""]


# keys that hold a benchmark's measured figures (the others describe how it was run)
FIGURES = ("postgresql", "duckdb", "propagation", "server_cost", "polls", "xlsx", "csv", "ics")  # mail: postgresql, duckdb


def _one_line(text) -> str:
    first = next((line.strip() for line in str(text).splitlines() if line.strip()), "")
    return first[:300]


def render(results: dict) -> str:
    b = results.get("benchmarks") or {}
    m = results.get("machine") or {}
    load = m.get("load_at_start") or [None] * 3
    when = results.get("finished_at") or dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    out = ["# Benchmarks", ""]
    if results.get("quick"):
        out += ["> **Quick run** (`--quick`): small sizes and short windows, a smoke test. Not the figures to quote.", ""]
    took = results.get("total_seconds")
    took = f"{took} s in all" if took is not None else "still running (this is rewritten after each part)"
    out += [f"`make bench` on {when}, {took}, on {m.get('cores')} cores / "
            f"{m.get('memory_gib')} GiB ({m.get('cpu')}), PostgreSQL {str(_get(m, 'postgresql', 'version') or '?').split(' on ')[0].replace('PostgreSQL ', '')}, "
            f"DuckDB {m.get('duckdb')}. Load average (1/5/15 min) at the start: "
            + " / ".join(_n(v, 2) for v in load) + ", at the end: "
            + " / ".join(_n(v, 2) for v in (results.get("load_at_end") or [None] * 3))
            + ". Raw data: `results.json`. Reproduce: `make bench` (see the README).", ""]
    findings = HERE / "findings.md"
    if findings.is_file() and not results.get("quick"):
        out += [findings.read_text().rstrip(), ""]
    out += ["## Targets", "", "| claim | target | measured | |", "|---|---|---|---|", *_targets(b), ""]
    if results.get("errors"):
        out += ["**Failed or stopped** (the rest of the run was measured and is below):", "",
                *[f"- {k}: {_one_line(v)}" for k, v in results["errors"].items()], ""]
    for name, section in b.items():
        if section.get("incomplete"):
            out += [f"**{name}: incomplete** ({section['incomplete']}); what it measured before that is below.", ""]
    for name, renderer in (("booking", _booking), ("query", _query), ("live", _live), ("pages", _pages),
                           ("exports", _exports), ("memory", _memory), ("mail", _mail), ("busy", _busy)):
        section = b.get(name)
        if section is None:
            continue
        if section.get("failed"):
            measured = any(k in section for k in FIGURES)
            out += [f"**{name}: failed** ({section['failed']})"
                    + ("; what it measured before that is below." if measured else "."), ""]
            if not measured:
                continue
        out += renderer(section)
    loads = [f"{name}: {_n((s.get('load_before') or [None])[0], 1)} → {_n((s.get('load_after') or [None])[0], 1)} "
             f"({s.get('took_seconds')} s)" for name, s in b.items()]
    if loads:
        out += ["Load average (1 min) before → after each benchmark: " + "; ".join(loads) + ".", ""]
    out += _machine(m, results)
    return "\n".join(out) + "\n"
