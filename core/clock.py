"""The one clock the core reads.

Every "now" of the product comes from here: hold expiry, "already started", the dates of
the calendar, the timestamps of records. Tests move it instead of sleeping or patching
modules one by one; a demo or a test run can start the whole app at a chosen instant.

The setting APP_NOW (core/config.py) starts the app's clock at a chosen instant.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from typing import Iterator


class Clock:
    """Naive UTC instants (records store naive UTC)."""

    def utc_now(self) -> dt.datetime:
        raise NotImplementedError


class SystemClock(Clock):
    def utc_now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class ShiftedClock(Clock):
    """Starts at `start` (naive UTC) and runs at real speed from the moment it is made."""

    def __init__(self, start: dt.datetime):
        self._start, self._origin = start, time.monotonic()

    def utc_now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._origin)


class ManualClock(Clock):
    """Stands still until a test moves it."""

    def __init__(self, start: dt.datetime):
        self._now, self._lock = start, threading.Lock()

    def utc_now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = when

    def advance(self, **delta: float) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(**delta)
            return self._now


_override: Clock | None = None    # a test's clock
_default: Clock = SystemClock()   # the real time, or APP_NOW's clock (set by core.config)


def current() -> Clock:
    """The clock in force: a test's, else the default."""
    return _override if _override is not None else _default


def set_default(clock: Clock) -> None:
    """The clock when no test has put one in force (core.config sets APP_NOW's)."""
    global _default
    _default = clock


def set_clock(clock: Clock | None) -> Clock | None:
    """Put `clock` in force for the whole process (None: back to the default); returns the
    one it replaces."""
    global _override
    previous, _override = _override, clock
    return previous


@contextlib.contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def utc_now() -> dt.datetime:
    return current().utc_now()
