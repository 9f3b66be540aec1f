"""The calendar's list by day: which dates a page shows, and when paging stops."""

from __future__ import annotations

import datetime as dt

import pytest

from ui.filters import Filters
from ui.list_view import can_page, list_window

TODAY = dt.date(2026, 12, 1)
D = dt.date


@pytest.mark.parametrize("filters, weeks, shown", [
    (Filters(), 0, (D(2026, 12, 1), D(2026, 12, 14))),
    (Filters(), 3, (D(2026, 12, 22), D(2027, 1, 4))),
    (Filters(), -1, (D(2026, 11, 24), D(2026, 12, 7))),
    (Filters(date_from=D(2026, 12, 23)), 0, (D(2026, 12, 23), D(2027, 1, 5))),   # was "23 Dec to 14 Dec"
    (Filters(date_from=D(2026, 12, 23)), 1, (D(2026, 12, 30), D(2027, 1, 12))),
    (Filters(date_from=D(2026, 12, 23)), -2, (D(2026, 12, 23), D(2027, 1, 5))),  # never before From
    (Filters(date_from=D(2027, 1, 4), date_to=D(2027, 1, 8)), 0, (D(2027, 1, 4), D(2027, 1, 8))),
    (Filters(date_from=D(2027, 1, 1), date_to=D(2027, 1, 21)), 1, (D(2027, 1, 8), D(2027, 1, 21))),
    (Filters(date_from=D(2027, 1, 1), date_to=D(2027, 1, 21)), 5, (D(2027, 1, 8), D(2027, 1, 21))),  # never past To
    (Filters(date_to=D(2026, 11, 20)), 0, (D(2026, 11, 7), D(2026, 11, 20))),  # To before today: its last 14 days
])
def test_the_list_shows_14_days_from_the_chosen_date_paged_by_week_inside_the_date_filter(filters, weeks, shown):
    assert list_window(filters, TODAY, weeks) == shown


def test_paging_stops_at_the_ends_of_the_date_filter_and_nowhere_without_one():
    bounded = Filters(date_from=D(2027, 1, 1), date_to=D(2027, 1, 21))
    assert can_page(bounded, *list_window(bounded, TODAY, 0)) == (False, True)
    assert can_page(bounded, *list_window(bounded, TODAY, 1)) == (True, False)
    assert can_page(Filters(), *list_window(Filters(), TODAY, 0)) == (True, True)
