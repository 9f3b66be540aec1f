"""7. Busy-day live cost: open calendars while bookings arrive at one a second.

One app process (`streamlit run server.py`, PostgreSQL with the demo data), PAGES headless
Chromium pages of the calendar (month view of the month with the bench's sessions, 10
pages a browser context), and three watcher pages on the Day view of that day (filtered to
its 16 CPR sessions at Location B, so every booking changes what they show). Bookings are
made from this process through the core API (another instance as far as the app can tell:
the news reaches it by NOTIFY), one a second for SECONDS, round robin over the 16 sessions.

Measured over the booking window, against an idle window of the same pages before it:
- app CPU (utime + stime of the app process, all threads, from /proc): per booking, and per
  redraw (a rerun request the pages sent);
- rerun requests per push: messages the pages sent on Streamlit's WebSocket, over the
  versions their push links received (both counted inside the pages);
- commit to redraw on the watchers: the commit time (the booking's connection back in the
  pool) to the moment the watcher's calendar shows that session's new title (a 10 ms check
  inside the page, Date.now() on the same clock);
- the browsers' own CPU (every Chromium process below this one) and the whole machine's
  busy share, so that a saturated machine shows as such; PostgreSQL's CPU.

    python -m bench.run --only busy --busy-pages 100 --busy-seconds 120   # the issue's figure
    python -m bench.run --only busy --busy-pages 30 --busy-seconds 60     # a busy machine
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid

import sqlalchemy as sa

from bench import api, procs
from bench import app as A
from bench.live import _mem_available_gib, _weekday_ahead
from bench.stats import summary
from core.availability import get_session
from core.demo import seed_demo
from ui.events import event_title

DEMO_SEED = 11
SESSIONS = 16                 # CPR at Location B on one day, 07:00 to 19:00, 45 minutes each
WATCHERS = 3
PAGES_PER_CONTEXT = 10
IDLE_WINDOW_S = 15.0

# Inside every page: rerun requests sent (and their bytes), pushed versions received.
COUNT = """
(() => {
  window.__bench = { sent: 0, bytes: 0, pushes: 0 };
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (String(this.url).includes('/_stcore/stream')) {
      window.__bench.sent += 1;
      window.__bench.bytes += data.byteLength ?? data.size ?? String(data).length;
    }
    return send.call(this, data);
  };
  const Socket = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new Socket(url) : new Socket(url, protocols);
    if (String(url).endsWith('/push')) {
      ws.addEventListener('message', (event) => {
        try { if (JSON.parse(event.data).type === 'version') window.__bench.pushes += 1; } catch (e) {}
      });
    }
    return ws;
  };
  window.WebSocket.prototype = Socket.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();
"""

# On a watcher: every change of the calendar's event titles, with its time.
WATCH = """
([selector]) => {
  const read = () => {
    const frame = document.querySelector(selector);
    const doc = frame && frame.contentDocument;
    return doc ? [...doc.querySelectorAll('.fc-event-title')].map(e => e.textContent.trim()) : null;
  };
  clearInterval(window.__watchTimer);
  window.__seen = [];
  let last = null;
  window.__watchTimer = setInterval(() => {
    const titles = read();
    if (titles === null) return;
    const key = titles.join('|');
    if (key !== last) { last = key; window.__seen.push([Date.now(), titles]); }
  }, 10);
}
"""


def prepare(ctx):
    engine = ctx.db.new_schema("busy")
    seed_demo(engine, seed=DEMO_SEED)
    day = _weekday_ahead(23)
    starts = [dt.datetime.combine(day, dt.time(7)) + dt.timedelta(minutes=45 * n) for n in range(SESSIONS)]
    made = api.create_sessions(engine, [
        dict(course_type="CPR and AED", session_date=day, start_time=t.time(),
             end_time=(t + dt.timedelta(minutes=45)).time(), location="Location B", max_capacity=12)
        for t in starts])
    return engine, day, [s.id for s in made]


def _month(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def _open(ctx, chromium, app, day, pages_wanted: int, budget_s: float) -> tuple[list, list, list, str | None]:
    """(contexts, calendar pages, watcher pages, why it stopped short or None)."""
    first, last = _month(day)
    month_url = f"{app.url}/Calendar?from={first.isoformat()}&to={last.isoformat()}"
    watch_url = f"{app.url}/Calendar?course=CPR&location=B&from={day.isoformat()}&to={day.isoformat()}"
    contexts, pages, watchers = [], [], []
    started = time.monotonic()
    stopped = None

    def context():
        made = A.new_context(chromium, timeout_ms=120_000)
        made.add_init_script(COUNT)
        contexts.append(made)
        return made

    holder = context()
    for _ in range(WATCHERS):
        page = holder.new_page()
        page.goto(watch_url)
        A.wait_live(page, push=True, timeout_ms=120_000)
        A.wait_calendar(page, timeout_ms=120_000)
        button = page.frame_locator(A.CALENDAR_IFRAME).get_by_role("button", name="Day", exact=True)
        button.click()
        page.frame_locator(A.CALENDAR_IFRAME).locator(".fc-timeGridDay-view").wait_for(state="visible")
        watchers.append(page)
    current = None
    while len(pages) < pages_wanted:
        if time.monotonic() - started > budget_s:
            stopped = f"opening budget of {budget_s:.0f} s used up"
            break
        if _mem_available_gib() < 2.5:
            stopped = "less than 2.5 GiB of memory left on the machine"
            break
        batch = []
        for _ in range(min(PAGES_PER_CONTEXT, pages_wanted - len(pages))):
            if current is None or len(current.pages) >= PAGES_PER_CONTEXT:
                current = context()
            page = current.new_page()
            page.goto(month_url, wait_until="commit")
            batch.append(page)
        for page in batch:
            A.wait_live(page, push=True, timeout_ms=120_000)
            A.wait_calendar(page, timeout_ms=120_000)
        pages.extend(batch)
        ctx.log(f"  {len(pages)} calendars open ({time.monotonic() - started:.0f} s)")
    return contexts, pages, watchers, stopped


def _counts(pages) -> dict:
    sent = pushes = bytes_ = 0
    for page in pages:
        with contextlib.suppress(Exception):
            got = page.evaluate("window.__bench")
            sent, pushes, bytes_ = sent + got["sent"], pushes + got["pushes"], bytes_ + got["bytes"]
    return {"sent": sent, "pushes": pushes, "bytes": bytes_}


class Meters:
    """CPU of the app, the browsers, PostgreSQL and the whole machine over one window."""

    def __init__(self, app) -> None:
        self.app = procs.CpuMeter(app.pid)
        self.browsers = self._browser_cpu()
        self.server = procs.ServerMeter()
        self.machine = procs.MachineMeter()

    @staticmethod
    def _browser_cpu() -> float:
        total = 0.0
        for pid in procs.descendants(os.getpid()):
            with contextlib.suppress(OSError):
                total += procs.cpu_seconds(pid)
        return total

    def read(self) -> dict:
        app = self.app.read()
        wall = app["wall_s"]
        browsers = self._browser_cpu() - self.browsers
        server = self.server.read()
        return {"wall_s": wall, "app_cpu_s": app["cpu_s"], "app_core_share": app["core_share"],
                "browsers_cpu_s": browsers, "browsers_core_share": browsers / wall if wall else None,
                "postgres_cpu_s": server, "machine_busy_share": self.machine.read()}


def _latencies(watchers, bookings: list[tuple[float, str]]) -> tuple[list[float], int]:
    """Commit to the watcher showing the booked session's new title, for each watcher."""
    found, missed = [], 0
    for page in watchers:
        seen = page.evaluate("window.__seen")
        for committed, title in bookings:
            shown = next((at for at, titles in seen if at >= committed - 5 and title in titles), None)
            if shown is None:
                missed += 1
            else:
                found.append(max(shown - committed, 0.0))
    return found, missed


def book_for(engine, session_ids, seconds: float, ctx, watchers) -> tuple[list[tuple[float, str]], list[float]]:
    """One booking a second, round robin; (commit time ms, the title it leads to) each."""
    made, call_ms = [], []
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        target = started + n
        if (wait := target - time.monotonic()) > 0:
            watchers[0].wait_for_timeout(wait * 1000)  # lets Playwright deliver events meanwhile
        sid = session_ids[n % len(session_ids)]
        at = []

        def checkin(*_args) -> None:
            at.append(time.time() * 1000)

        sa.event.listen(engine, "checkin", checkin)
        called = time.time() * 1000
        try:
            api.book(engine, sid, name="Busy Day Caller", email=f"busy{n}-{uuid.uuid4().hex[:6]}@example.com")
        finally:
            sa.event.remove(engine, "checkin", checkin)
        call_ms.append(time.time() * 1000 - called)
        made.append((at[0] if at else called, event_title(get_session(engine, sid))))
        n += 1
        if n % 30 == 0:
            ctx.log(f"  {n} bookings")
    return made, call_ms


def run(ctx) -> dict:
    wanted = int(ctx.options.get("busy_pages") or (4 if ctx.quick else 100))
    seconds = float(ctx.options.get("busy_seconds") or (15 if ctx.quick else 120))
    engine, day, session_ids = prepare(ctx)
    app = A.start_app(ctx.tmp / "busy", ctx.db.url("busy"), post_script_gc=False)
    result: dict = ctx.partial
    result.update(pages_wanted=wanted, seconds=seconds, sessions_booked=SESSIONS, watchers=WATCHERS)
    try:
        with A.browser() as chromium:
            budget = 40.0 if ctx.quick else max(60.0, min(300.0, ctx.left() - seconds - 120))
            contexts, pages, watchers, stopped = _open(ctx, chromium, app, day, wanted, budget)
            result.update(pages=len(pages), stopped_short=stopped)
            everyone = pages + watchers
            A.pump(watchers[0], 5)  # the last pages' first runs
            before = _counts(everyone)
            meters = Meters(app)
            A.pump(watchers[0], IDLE_WINDOW_S)
            idle = meters.read()
            idle["requests"] = _counts(everyone)["sent"] - before["sent"]
            result["idle"] = idle
            ctx.log(f"  idle, {len(pages)} pages: app {100 * idle['app_core_share']:.1f}% of a core, "
                    f"{idle['requests']} requests")

            for page in watchers:
                page.evaluate(WATCH, [A.CALENDAR_IFRAME])
            before = _counts(everyone)
            meters = Meters(app)
            bookings, call_ms = book_for(engine, session_ids, seconds, ctx, watchers)
            A.pump(watchers[0], 3)  # the last booking's redraws
            busy = meters.read()
            after = _counts(everyone)
            requests = after["sent"] - before["sent"]
            pushes = after["pushes"] - before["pushes"]
            extra_cpu = max(busy["app_cpu_s"] - idle["app_core_share"] * busy["wall_s"], 0.0)
            found, missed = _latencies(watchers, bookings)
            busy.update(
                bookings=len(bookings), requests=requests, request_bytes=after["bytes"] - before["bytes"],
                pushes=pushes, requests_per_push=requests / pushes if pushes else None,
                pushes_per_page_per_booking=pushes / len(everyone) / len(bookings) if bookings else None,
                app_cpu_ms_per_booking=1000 * extra_cpu / len(bookings) if bookings else None,
                app_cpu_ms_per_redraw=1000 * extra_cpu / requests if requests else None,
                app_cpu_ms_per_redraw_all=1000 * busy["app_cpu_s"] / requests if requests else None,
                book_call_ms=summary(call_ms),
                commit_to_redraw_ms=summary(found), redraws_missed=missed,
            )
            result["busy"] = busy
            ctx.log(f"  busy: {len(bookings)} bookings, {requests} requests for {pushes} pushes, "
                    f"app {100 * busy['app_core_share']:.0f}% of a core, "
                    f"{busy['app_cpu_ms_per_redraw'] or 0:.1f} ms a redraw, browsers "
                    f"{100 * (busy['browsers_core_share'] or 0):.0f}%, commit to redraw p50/p95 "
                    f"{busy['commit_to_redraw_ms']['p50']}/{busy['commit_to_redraw_ms']['p95']} ms")
            for made in contexts:
                with contextlib.suppress(Exception):
                    made.close()
    finally:
        A.stop_app(app)
    return result
