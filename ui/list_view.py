"""The calendar as a list by day (phones, narrow windows, or the "Compact list" toggle):
two weeks at a time from the chosen From date (else today), paged a week back or forward
within the date filter.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from ui import keys as K
from ui.filters import Filters

SPAN_DAYS = 14
STEP = dt.timedelta(days=7)


def list_window(filters: Filters, today: dt.date, weeks: int) -> tuple[dt.date, dt.date]:
    """The dates [first, last] shown after paging `weeks` weeks from the filter's start.

    It starts at From (else today, or To's last 14 days when To has passed) and runs 14
    days, never past To; a page that would leave the date filter is pulled back inside it.
    """
    anchor = filters.date_from or today
    if filters.date_to and anchor > filters.date_to:  # only a To date, and it has passed: its last days
        anchor = filters.date_to - dt.timedelta(days=SPAN_DAYS - 1)
    first = anchor + weeks * STEP
    if filters.date_to:
        first = min(first, max(anchor, filters.date_to - dt.timedelta(days=SPAN_DAYS - 1)))
    first = max(first, filters.date_from or first)
    last = first + dt.timedelta(days=SPAN_DAYS - 1)
    if filters.date_to:
        last = min(last, filters.date_to)
    return first, last


def can_page(filters: Filters, first: dt.date, last: dt.date) -> tuple[bool, bool]:
    """(back, forward): is there anything of the date filter before `first` / after `last`?"""
    back = filters.date_from is None or first > filters.date_from
    forward = filters.date_to is None or last < filters.date_to
    return back, forward


def weeks_paged(filters: Filters) -> int:
    """Weeks paged from the filter's start; a new From or To date starts again at 0."""
    start = (filters.date_from, filters.date_to)
    kept = st.session_state.get(K.LIST_WEEKS)
    if not kept or kept[0] != start:
        st.session_state[K.LIST_WEEKS] = (start, 0)
        return 0
    return kept[1]


def _move(filters: Filters, by: int) -> None:
    st.session_state[K.LIST_WEEKS] = ((filters.date_from, filters.date_to), weeks_paged(filters) + by)


def paging_buttons(filters: Filters, first: dt.date, last: dt.date, where: str) -> None:
    """'Previous week' and 'Next week' (a button is disabled at the end of the date filter)."""
    back, forward = can_page(filters, first, last)
    row = st.container(horizontal=True)  # side by side on a phone too (columns stack there)
    row.button("Previous week", key=K.list_page(where, "back"), icon=":material/chevron_left:",
                disabled=not back, on_click=_move, args=(filters, -1), width="stretch")
    row.button("Next week", key=K.list_page(where, "next"), icon=":material/chevron_right:",
                 disabled=not forward, on_click=_move, args=(filters, 1), width="stretch")
