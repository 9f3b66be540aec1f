"""3 and 4. What an open calendar costs the server, and how fast a booking reaches it.

One app process (`streamlit run server.py`, PostgreSQL with the demo data) and headless
Chromium pages of /Calendar. A context's /push WebSockets go through a gate
(bench.app.PushGate): open, the pages get pushed changes (and poll every 30 s as a safety
net); blocked, as behind a proxy that drops WebSockets, they poll every
LIVE_POLL_SECONDS (2 s).

Propagation (4): two watcher pages on the Day view of a date with our sessions, one
pushed, one polling. Each trial books one place from this process through the core API
(another app instance, as far as the server can tell: the news reaches it by NOTIFY),
takes the commit time (the moment the booking's connection went back to the pool), and
reads in each page when the calendar's events changed (a 4 ms check inside the page,
Date.now() on the same clock). A random pause of 0.5-2.5 s before each booking spreads
the bookings over the polling cycle.

Server cost (3): CPU time of the app process (utime + stime from /proc/<pid>/stat, all
threads) over steady windows (30 s with push, to take in the 30 s safety-net poll; 16 s
polling): with no page, with 100 pushed pages, with the same 100 pages polling. Then ten
of them are kept, the app is restarted on the same port with runner.postScriptGC on (the
pages reconnect by themselves), and polling and push are measured again: with GC on a
poll costs ~100 ms, and 100 polling pages would need more than this machine's two cores.
Polls are counted in the browser: each message a page sends on Streamlit's WebSocket is
a rerun request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import threading
import time
import uuid

import sqlalchemy as sa

from bench import api, procs
from bench import app as A
from bench.stats import median, summary
from core.config import today
from core.demo import seed_demo

DEMO_SEED = 11
TRIAL_TIMEOUT_S = 15.0

WATCH_JS = """
([selector]) => {
  const read = () => {
    const frame = document.querySelector(selector);
    const doc = frame && frame.contentDocument;
    if (!doc) return null;
    return Array.from(doc.querySelectorAll('.fc-event')).map(e => e.textContent.trim()).sort().join('|');
  };
  clearInterval(window.__benchTimer);
  window.__bench = { base: read(), changedAt: null };
  window.__benchTimer = setInterval(() => {
    if (window.__bench.changedAt !== null) return;
    const now = read();
    if (now !== null && now !== window.__bench.base) window.__bench.changedAt = Date.now();
  }, 4);
  return window.__bench.base;
}
"""


def _weekday_ahead(days: int) -> dt.date:
    day = today() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def prepare(ctx):
    """The demo schedule, plus eight CPR sessions at Location B on one day for the trials."""
    engine = ctx.db.new_schema("live")
    seed_demo(engine, seed=DEMO_SEED)
    day = _weekday_ahead(23)
    made = api.create_sessions(engine, [
        dict(course_type="CPR and AED", session_date=day, start_time=dt.time(8 + h), end_time=dt.time(9 + h),
             location="Location B", max_capacity=12) for h in range(8)])
    return engine, day, [s.id for s in made]


class CommitClock:
    """Wall-clock time (ms) at which a write's connection went back to the pool: the commit."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.at: float | None = None
        sa.event.listen(engine, "checkin", self._checkin)

    def _checkin(self, *_args) -> None:
        if self.at is None:
            self.at = time.time() * 1000

    def close(self) -> None:
        sa.event.remove(self.engine, "checkin", self._checkin)


def _watch_url(app, day: dt.date) -> str:
    return f"{app.url}/Calendar?course=CPR&location=B&from={day.isoformat()}&to={day.isoformat()}"


def _open_watcher(chromium, app, day: dt.date, *, push: bool):
    context = A.new_context(chromium)
    gate = A.PushGate(context)
    if not push:
        gate.block()
    page = context.new_page()
    page.goto(_watch_url(app, day))
    A.wait_live(page, push=push)
    A.wait_calendar(page)
    day_button = page.frame_locator(A.CALENDAR_IFRAME).get_by_role("button", name="Day", exact=True)
    day_button.click()
    page.frame_locator(A.CALENDAR_IFRAME).locator(".fc-timeGridDay-view").wait_for(state="visible")
    page.frame_locator(A.CALENDAR_IFRAME).locator(".fc-event").first.wait_for(state="visible")
    return context, page


def propagation(ctx, chromium, app, engine, day, session_ids) -> dict:
    trials = 4 if ctx.quick else 30
    watchers = {}
    for mode in ("push", "poll"):
        watchers[mode] = _open_watcher(chromium, app, day, push=mode == "push")
    A.pump(watchers["push"][1], 3)  # let the first renders settle
    got: dict[str, list[float]] = {"push": [], "poll": []}
    missed = {"push": 0, "poll": 0}
    call_ms: list[float] = []
    rng = random.Random(8)
    try:
        for n in range(trials):
            for _, page in watchers.values():
                page.evaluate(WATCH_JS, [A.CALENDAR_IFRAME])
            time.sleep(rng.uniform(0.5, 2.5))
            clock = CommitClock(engine)
            started = time.time() * 1000
            try:
                api.book(engine, session_ids[n % len(session_ids)], name="Trial Booker",
                         email=f"trial{n}-{uuid.uuid4().hex[:6]}@example.com")
            finally:
                clock.close()
            call_ms.append(time.time() * 1000 - started)
            committed = clock.at or started
            pending = dict(watchers)
            deadline = time.monotonic() + TRIAL_TIMEOUT_S
            while pending and time.monotonic() < deadline:
                for mode, (_, page) in list(pending.items()):
                    seen = page.evaluate("window.__bench && window.__bench.changedAt")
                    if seen is not None:
                        got[mode].append(seen - committed)
                        del pending[mode]
                if pending:
                    watchers["push"][1].wait_for_timeout(20)
            for mode in pending:
                missed[mode] += 1
            ctx.log(f"  trial {n + 1}/{trials}: push {got['push'][-1] if 'push' not in pending else None!s:>8} ms,"
                    f" poll {got['poll'][-1] if 'poll' not in pending else None!s:>8} ms")
    finally:
        for context, _ in watchers.values():
            with contextlib.suppress(Exception):
                context.close()
    return {
        "trials": trials,
        "push_ms": summary(got["push"]),
        "poll_ms": summary(got["poll"]),
        "missed": missed,
        "poll_interval_s": 2.0,
        "book_call_ms_p50": median(call_ms),
        "raw_push_ms": [round(v, 1) for v in got["push"]],
        "raw_poll_ms": [round(v, 1) for v in got["poll"]],
    }


# --- server cost ---------------------------------------------------------------------------------


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop_flag = pid, [], threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            with contextlib.suppress(OSError):
                self.samples.append(procs.memory_kb(self.pid).get("VmRSS", 0) / 1024)
            self.stop_flag.wait(1.0)


def _settle(app, page, *, window: float = 2.0, limit: float = 45.0) -> float:
    """Wait until the app's CPU share is steady (page loads, reconnects and their reruns are
    over): two consecutive windows within 25% (or both under 2% of a core). Returns seconds."""
    started, last = time.monotonic(), None
    while time.monotonic() - started < limit:
        meter = procs.CpuMeter(app.pid)
        A.pump(page, window)
        share = meter.read()["core_share"]
        if last is not None and (max(share, last) < 0.02 or abs(share - last) <= 0.25 * max(share, last)):
            break
        last = share
    return time.monotonic() - started


def _window(app, page, counter: A.FrameCounter, seconds: float) -> dict:
    meter, sent0 = procs.CpuMeter(app.pid), counter.sent
    A.pump(page, seconds)
    read = meter.read()
    read["polls"] = counter.sent - sent0
    return read


def _mem_available_gib() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024 / 1024
    return 99.0


def _open_pages(ctx, context, app, counter, pages: list, target: int, budget_s: float) -> str | None:
    """Open calendar pages up to `target` (10 at a time); None, or why it stopped short."""
    started = time.monotonic()
    while len(pages) < target:
        if time.monotonic() - started > budget_s:
            return f"opening budget of {budget_s:.0f} s used up"
        if _mem_available_gib() < 2.5:
            return "less than 2.5 GiB of memory left on the machine"
        batch = []
        for _ in range(min(10, target - len(pages))):
            page = context.new_page()
            counter.attach(page)
            page.goto(app.url + "/Calendar", wait_until="commit")
            batch.append(page)
        for page in batch:
            A.wait_live(page, push=True, timeout_ms=120_000)
            A.wait_calendar(page, timeout_ms=120_000)
        pages.extend(batch)
    return None


MEASURING_RESERVE_S = 230.0


def server_cost(ctx, chromium, app, folder, db_url, result: dict):
    """Fills `result` as it goes (kept if the run's time limit stops it); returns the app
    process running at the end (it is restarted once)."""
    quick = ctx.quick
    target = 4 if quick else 100
    gc_pages = 2 if quick else 10             # GC on: fewer pages, or ~100 ms a poll would saturate 2 cores
    seconds = 6.0 if quick else 16.0          # polling windows: 8 polls a page
    push_seconds = 6.0 if quick else 30.0     # push windows: one 30 s safety-net poll a page
    # the measurements after opening take about 160 s on a 2-core machine, and the last batch of
    # 10 pages may overrun the budget: keep both inside the run's limit
    opening_budget = 40.0 if quick else max(60.0, min(230.0, ctx.left() - MEASURING_RESERVE_S))
    result.update({"target_pages": target, "window_s": seconds, "push_window_s": push_seconds,
                   "poll_interval_s": 2.0, "configs": {}})
    rss = RssSampler(app.pid)
    rss.start()

    context = A.new_context(chromium, timeout_ms=120_000)
    gate = A.PushGate(context)
    counter = A.FrameCounter()
    first = context.new_page()  # a blank page to pump events on while measuring
    idle = _window(app, first, counter, seconds)
    result["no_pages"] = idle
    base_rate = idle["core_share"]
    ctx.log(f"  no page: {100 * base_rate:.2f}% of a core")

    pages: list = []
    started = time.monotonic()
    stopped = _open_pages(ctx, context, app, counter, pages, target, opening_budget)
    result["opening_seconds"] = round(time.monotonic() - started, 1)
    result["stopped_short"] = stopped
    if stopped:
        ctx.log(f"  stopped opening pages at {len(pages)}: {stopped}")
    configs = result["configs"]

    def measure(name: str, *, push: bool, gc: bool) -> None:
        n = len(pages)
        _settle(app, first)
        window = push_seconds if push else seconds
        measured = _window(app, first, counter, window)
        extra_cpu = max(measured["cpu_s"] - base_rate * measured["wall_s"], 0.0)
        measured.update(
            pages=n, push=push, post_script_gc=gc,
            per_page_core_share=(measured["core_share"] - base_rate) / n if n else None,
            cpu_ms_per_poll=1000 * extra_cpu / measured["polls"] if measured["polls"] else None,
            core_share_at_100_pages=(base_rate + 100 * (measured["core_share"] - base_rate) / n) if n else None,
        )
        configs[name] = measured
        ctx.log(f"  {name}: {100 * measured['core_share']:.2f}% of a core with {n} pages, {measured['polls']} polls "
                f"in {window:.0f} s" + (f", {measured['cpu_ms_per_poll']:.1f} ms CPU a poll" if not push and
                                         measured["cpu_ms_per_poll"] else ""))

    measure("push_gc_off", push=True, gc=False)
    gate.block()
    for page in pages:
        A.wait_live(page, push=False)
    measure("poll_gc_off", push=False, gc=False)

    # A few of the pages, against the app restarted with runner.postScriptGC on.
    for page in pages[gc_pages:]:
        with contextlib.suppress(Exception):
            page.close()
    del pages[gc_pages:]
    rss.stop_flag.set()
    result["rss_mb_gc_off"] = {"max": max(rss.samples, default=None),
                               "vmhwm": procs.memory_kb(app.pid).get("VmHWM", 0) / 1024}
    port = int(app.url.rsplit(":", 1)[1])
    A.stop_app(app)
    connected = counter.connections
    app = A.start_app(folder, db_url, post_script_gc=True, port=port)
    deadline = time.monotonic() + 60
    while counter.connections < connected + len(pages) and time.monotonic() < deadline:
        A.pump(first, 0.5)
    result["reconnected"] = counter.connections - connected
    measure("poll_gc_on", push=False, gc=True)
    gate.open()
    for page in pages:
        A.wait_live(page, push=True, timeout_ms=60_000)
    measure("push_gc_on", push=True, gc=True)
    result["baseline_note"] = ("per-page and per-poll figures subtract the no-page CPU share (measured with GC off); "
                               "'scaled to 100 pages' adds 100 times the per-page share to it")
    with contextlib.suppress(Exception):
        context.close()
    return app


def run(ctx) -> dict:
    engine, day, session_ids = prepare(ctx)
    folder = ctx.tmp / "live"
    db_url = ctx.db.url("live")
    app = A.start_app(folder, db_url, post_script_gc=False)
    result: dict = ctx.partial  # what is measured is kept even if the run's time limit stops us
    try:
        with A.browser() as chromium:
            result["propagation"] = propagation(ctx, chromium, app, engine, day, session_ids)
            p = result["propagation"]
            ctx.log(f"  propagation push p50/p95 {p['push_ms']['p50']}/{p['push_ms']['p95']} ms, "
                    f"poll {p['poll_ms']['p50']}/{p['poll_ms']['p95']} ms")
            result["server_cost"] = {}
            app = server_cost(ctx, chromium, app, folder, db_url, result["server_cost"])
    finally:
        A.stop_app(app)
    return result
