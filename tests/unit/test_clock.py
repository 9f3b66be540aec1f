"""The one clock: tests move it, APP_NOW starts the app at a chosen instant."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock, config
from core.errors import ConfigError


@pytest.mark.parametrize("utc, local_day, local_time", [
    (dt.datetime(2027, 3, 28, 0, 59), dt.date(2027, 3, 28), dt.time(0, 59)),   # last minute of GMT
    (dt.datetime(2027, 3, 28, 1, 0), dt.date(2027, 3, 28), dt.time(2, 0)),     # BST begins
    (dt.datetime(2026, 10, 25, 0, 30), dt.date(2026, 10, 25), dt.time(1, 30)),  # first 01:30 (BST)
    (dt.datetime(2026, 10, 25, 1, 30), dt.date(2026, 10, 25), dt.time(1, 30)),  # second 01:30 (GMT)
    (dt.datetime(2028, 2, 29, 23, 59), dt.date(2028, 2, 29), dt.time(23, 59)),  # 29 February
    (dt.datetime(2026, 12, 31, 23, 59, 59), dt.date(2026, 12, 31), dt.time(23, 59, 59)),  # year end
    (dt.datetime(2027, 6, 30, 23, 30), dt.date(2027, 7, 1), dt.time(0, 30)),    # month end, in summer
])
def test_the_sites_local_day_and_time_follow_the_one_clock(utc, local_day, local_time):
    with clock.using(clock.ManualClock(utc)):
        assert config.utc_now() == utc
        assert config.today() == local_day
        assert config.now_local().time() == local_time


def test_a_manual_clock_moves_only_when_told():
    start = dt.datetime(2027, 2, 28, 23, 59, 30)
    with clock.using(clock.ManualClock(start)) as moved:
        assert config.utc_now() == start
        moved.advance(seconds=30)
        assert config.today() == dt.date(2027, 3, 1)  # 2027 has no 29 February
    assert config.utc_now() != start + dt.timedelta(seconds=30)  # the real clock again


def test_app_now_starts_the_app_at_a_time_at_the_sites_and_runs_on(monkeypatch):
    monkeypatch.setenv("APP_NOW", "2027-07-01T09:15")
    first = config.now_local()
    assert dt.datetime(2027, 7, 1, 9, 15) <= first < dt.datetime(2027, 7, 1, 9, 16)
    assert config.utc_now().hour == 8  # BST
    assert config.now_local() >= first


def test_a_bad_app_now_names_the_setting_and_an_example(monkeypatch):
    monkeypatch.setenv("APP_NOW", "next tuesday")
    with pytest.raises(ConfigError, match=r"APP_NOW must be a date and time like 2027-02-28T16:30, got 'next tuesday'"):
        config.today()
