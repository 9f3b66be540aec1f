"""Bank holidays in England (the sites' country), from the `holidays` package: the demo
schedule leaves them out, and the schedule warns when a session would fall on one.

The package computes them from rules (Easter, "observed" Mondays after a weekend), so
nothing is fetched at run time; a year is computed once per process.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

COUNTRY, REGION = "GB", "ENG"


@lru_cache(maxsize=32)
def _year(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays(COUNTRY, subdiv=REGION, years=year))


def bank_holiday(day: dt.date) -> str | None:
    """The bank holiday's name ('Christmas Day', 'Boxing Day (observed)'), or None."""
    return _year(day.year).get(day)


def bank_holidays_between(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """Every bank holiday from `first` to `last` (both included), by date."""
    found: dict[dt.date, str] = {}
    for year in range(first.year, last.year + 1):
        found |= {d: name for d, name in _year(year).items() if first <= d <= last}
    return dict(sorted(found.items()))
