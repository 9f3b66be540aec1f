"""Calendar: every session with its live remaining places; click one to see and book it."""

import streamlit as st

from core.config import today
from ui.auth import require_role
from ui import data, live, page
from ui.calendar_frame import help_calendar_frame
from ui.calendar_view import render_calendar
from ui.daylist import day_list
from ui.detail import open_session
from ui.filters import compact_view, sidebar_filters
from ui.legend import render_legend
from ui.list_view import list_window, paging_buttons, weeks_paged
from ui.summary import counts_line

page.setup("Calendar")
require_role("viewer")
types = page.course_types()
filters = sidebar_filters(types, with_view=True)
st.title("Course calendar")
help_calendar_frame()


@live.fragment
def live_calendar(status: live.LiveStatus) -> None:
    counts = st.container()
    if compact_view(filters):
        start, end = list_window(filters, today(), weeks_paged(filters))
        sessions = live.keep_last("calendar_list", (start, end, filters, status.version),
                                  lambda: data.sessions(start, end, filters, status.version))
        with counts:
            counts_line(sessions, f"{start:%-d %b} to {end:%-d %b}")
        paging_buttons(filters, start, end, "cal_top")
        clicked = day_list(sessions, "cal")
        paging_buttons(filters, start, end, "cal_end")
    else:
        sessions, clicked = render_calendar(filters, status)
        with counts:
            counts_line(sessions, "In view")
    render_legend(types, show_cancelled=filters.show_cancelled)
    if clicked:
        open_session(clicked)


live_calendar()
