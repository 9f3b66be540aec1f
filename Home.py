"""Home: today and the next 7 days at a glance, with links into the calendar."""

import datetime as dt

import streamlit as st

import pandas as pd

from core.config import today
from ui.auth import require_role
from ui import data, live, page
from ui import keys as K
from ui.daylist import day_list
from ui.detail import open_session
from ui.events import ALMOST_AMBER, FULL_RED, places_text, times_text
from ui.filters import Filters, is_phone
from ui.text import isolated
from ui.tiles import tiles

DAYS = 7

page.setup("Today")
require_role("viewer")
st.title("First aid courses: the week ahead")


def calendar_link(label: str, icon: str, **query: str) -> None:
    st.page_link("pages/1_Calendar.py", label=label, icon=icon, query_params=query)


@live.fragment
def week_at_a_glance(status: live.LiveStatus) -> None:
    first, last = today(), today() + dt.timedelta(days=DAYS)
    sessions = live.keep_last("home", (first, last, status.version),
                              lambda: data.sessions(first, last, Filters(), status.version))
    scheduled = [s for s in sessions if s.status == "scheduled"]
    full = sum(s.state == "full" for s in scheduled)
    almost = sum(s.state == "almost_full" for s in scheduled)
    span = {"from": first.isoformat(), "to": last.isoformat()}

    tiles([("Sessions", len(scheduled), "#111827"),
           ("Places left", sum(s.remaining for s in scheduled), "#166534"),
           ("Full", full, FULL_RED),
           ("Almost full (3 or fewer)", almost, ALMOST_AMBER)])
    links = st.columns(4)
    with links[0]:
        calendar_link(f"All {len(scheduled)} sessions", ":material/calendar_month:", **span)
    with links[1]:
        calendar_link("With places left", ":material/event_available:", **span, status="available,almost_full")
    with links[2]:
        calendar_link(f"{full} full", ":material/event_busy:", **span, status="full")
    with links[3]:
        calendar_link(f"{almost} almost full", ":material/hourglass_bottom:", **span, status="almost_full")

    if not sessions:
        st.info("No sessions are scheduled today or in the next 7 days.", icon=":material/event_note:")
        return
    if is_phone():
        clicked = day_list(sessions, "home")
        if clicked:
            open_session(clicked)
        return
    st.dataframe(week_table(sessions), hide_index=True, width="stretch", key=K.HOME_TABLE,
                 height=min(38 + 35 * len(sessions), 640))


def week_table(sessions):
    rows = pd.DataFrame([
        {
            "Day": f"{s.session_date:%a %-d %b}",
            "Time": times_text(s),
            # third, not last: seen without scrolling sideways in a narrow window
            "Places left": places_text(s, long=True) if s.status == "scheduled" else s.status.upper(),
            "Course": f"{isolated(s.course_type)} ({isolated(s.short_code)})",
            "Location": s.location,
            "Booked": f"{s.current_bookings} / {s.max_capacity}",
        }
        for s in sessions
    ])
    colour = {"full": f"color: {FULL_RED}; font-weight: 700", "almost_full": f"color: {ALMOST_AMBER}; font-weight: 600"}
    states = [s.state for s in sessions]
    return rows.style.apply(lambda column: [colour.get(state, "") for state in states], subset=["Places left"])


week_at_a_glance()
