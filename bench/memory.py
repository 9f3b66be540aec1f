"""6. Memory: the app process's RSS over an hour-equivalent of polls.

An hour-equivalent is 1,800 polls: one open page polling every 2 s for an hour. Here it
is compressed: the app runs with LIVE_POLL_SECONDS=0.2 and eight calendar pages poll (push
blocked) while a booking is made every second from this process, so the change version
keeps moving and every page keeps reloading its data (new cache entries each time).
The app's VmRSS is sampled every second with the number of polls made so far; VmHWM is
the kernel's peak RSS. "No growth" is judged on the slope over the second half.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid

from bench import api, procs
from bench import app as A
from bench.stats import slope
from core.config import today
from core.demo import seed_demo
from core.errors import SessionFull

POLL_SECONDS = 0.2
HOUR_EQUIVALENT_POLLS = 1800


def run(ctx) -> dict:
    quick = ctx.quick
    pages_n = 2 if quick else 8
    target = 150 if quick else HOUR_EQUIVALENT_POLLS
    limit_s = 60 if quick else 150
    engine = ctx.db.new_schema("memory")
    seed_demo(engine, seed=11)
    day = today() + dt.timedelta(days=9)
    sessions = [s.id for s in api.create_sessions(engine, [
        dict(course_type="First Aid at Work", session_date=day, start_time=dt.time(9), end_time=dt.time(16),
             location=("Location A", "Location B")[i % 2], max_capacity=12) for i in range(30)])]
    app = A.start_app(ctx.tmp / "memory", ctx.db.url("memory"), env={"LIVE_POLL_SECONDS": str(POLL_SECONDS)})
    result: dict = {"pages": pages_n, "poll_interval_s": POLL_SECONDS, "target_polls": target,
                    "hour_equivalent_polls": HOUR_EQUIVALENT_POLLS}
    try:
        with A.browser() as chromium:
            context = A.new_context(chromium)
            gate = A.PushGate(context)
            gate.block()
            counter = A.FrameCounter()
            pages = []
            for _ in range(pages_n):
                page = context.new_page()
                counter.attach(page)
                page.goto(app.url + "/Calendar", wait_until="commit")
                pages.append(page)
            for page in pages:
                A.wait_live(page, push=False)
                A.wait_calendar(page)
            rss_start_app = procs.memory_kb(app.pid)
            samples: list[tuple[int, float, float]] = []  # polls, seconds, RSS MB
            polls0, started, next_booking, k, bookings = counter.sent, time.monotonic(), 0.0, 0, 0
            while counter.sent - polls0 < target and time.monotonic() - started < limit_s:
                now = time.monotonic() - started
                if now >= next_booking:
                    with contextlib.suppress(SessionFull):
                        api.book(engine, sessions[k % len(sessions)], name="Memory Booker",
                                 email=f"m{k}-{uuid.uuid4().hex[:6]}@example.com")
                        bookings += 1
                    k += 1
                    next_booking = now + 1.0
                samples.append((counter.sent - polls0, now, procs.memory_kb(app.pid)["VmRSS"] / 1024))
                A.pump(pages[0], 1.0)
            samples.append((counter.sent - polls0, time.monotonic() - started, procs.memory_kb(app.pid)["VmRSS"] / 1024))
            mem = procs.memory_kb(app.pid)
            with contextlib.suppress(Exception):
                context.close()
    finally:
        A.stop_app(app)
    polls = samples[-1][0] if samples else 0
    tail = [s for s in samples if s[0] >= polls / 2]
    warm = [s for s in samples if s[0] >= polls * 0.1] or samples
    result.update(
        polls=polls,
        seconds=round(samples[-1][1], 1) if samples else None,
        bookings=bookings,
        hour_equivalents=polls / HOUR_EQUIVALENT_POLLS,
        rss_mb_before_polling=rss_start_app.get("VmRSS", 0) / 1024,
        rss_mb_after_warmup=warm[0][2] if warm else None,
        rss_mb_end=samples[-1][2] if samples else None,
        peak_rss_mb=mem.get("VmHWM", 0) / 1024,
        slope_mb_per_1000_polls_second_half=(1000 * slope([s[0] for s in tail], [s[2] for s in tail])
                                             if len(tail) > 2 else None),
        samples=[(p, round(t, 1), round(m, 1)) for p, t, m in samples],
    )
    ctx.log(f"  {polls} polls in {result['seconds']} s with {bookings} bookings: RSS "
            f"{result['rss_mb_after_warmup']:.0f} -> {result['rss_mb_end']:.0f} MB, peak {result['peak_rss_mb']:.0f} MB, "
            f"slope {result['slope_mb_per_1000_polls_second_half']} MB/1000 polls")
    return result
