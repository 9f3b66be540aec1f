"""Book: the sessions that still have places, with the calendar's filters; Book opens the form."""

import datetime as dt

import streamlit as st

from core.config import today
from core.wording import count
from ui.auth import require_role
from ui import data, live, page
from ui.daylist import bookable, day_list
from ui.detail import open_session
from ui.filters import sidebar_filters
from ui.summary import counts_line

DEFAULT_DAYS = 28

page.setup("Book")
require_role("staff")
types = page.course_types()
filters = sidebar_filters(types)
st.title("Book places")


@live.fragment
def bookable_sessions(status: live.LiveStatus) -> None:
    first = max(filters.date_from or today(), today())
    start, end = filters.clip(first, filters.date_to or first + dt.timedelta(days=DEFAULT_DAYS - 1))
    found = live.keep_last("book", (start, end, filters, status.version),
                           lambda: data.sessions(start, end, filters, status.version))
    sessions = [s for s in found if bookable(s)]
    counts_line(sessions, f"Bookable from {start:%-d %b} to {end:%-d %b}", with_full=False)
    hidden = len(found) - len(sessions)
    if hidden:
        st.caption(f"{count(hidden, 'session')} in this period not listed: full, cancelled or already started.")
    clicked = day_list(sessions, "book", empty="No session with free places matches the filters in this period. "
                                               "Widen the dates or clear filters in the sidebar.")
    if clicked:
        open_session(clicked)


bookable_sessions()
