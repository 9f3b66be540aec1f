"""The one clock the core reads.

Every "now" of the product comes from here: hold expiry, "already started", the dates of
the calendar, the timestamps of records. Tests move it instead of sleeping or patching
modules one by one; a demo or a test run can start the whole app at a chosen instant.

APP_NOW   an instant at the training sites, ISO 8601 (`2027-02-28T16:30`): the app starts
          there and time runs on from it at normal speed (unset: the real time).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
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


_override: Clock | None = None
_from_env: tuple[str, Clock] | None = None
_lock = threading.Lock()


def parse_app_now(raw: str, zone: dt.tzinfo) -> dt.datetime:
    """APP_NOW as naive UTC; a time at the sites unless it carries its own offset."""
    from core.errors import ConfigError

    try:
        when = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ConfigError(f"APP_NOW must be a date and time like 2027-02-28T16:30, got {raw!r}.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None)


def current() -> Clock:
    """The clock in force: a test's, else APP_NOW's, else the system's."""
    global _from_env
    if _override is not None:
        return _override
    raw = os.environ.get("APP_NOW", "")
    if not raw:
        return _SYSTEM
    with _lock:
        if _from_env is None or _from_env[0] != raw:
            from core.config import get_settings

            _from_env = (raw, ShiftedClock(parse_app_now(raw, get_settings().timezone)))
        return _from_env[1]


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


_SYSTEM = SystemClock()
