"""Schedule: create one session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from core import sessions as core_sessions
from core.bank_holidays import bank_holiday
from core.config import get_settings, today
from core.models import LOCATIONS, CourseType
from core.errors import CoreError
from ui import data
from ui import ops_keys as OK
from ui.auth import current_actor
from ui.format import course_label, shown_label
from ui.schedule_feedback import failed, say, show_feedback
from ui.text import isolated


def _create_one() -> None:
    ss = st.session_state
    day, start, end, location = ss[OK.ONE_DATE], ss[OK.ONE_START], ss[OK.ONE_END], ss[OK.ONE_LOCATION]
    try:  # the overlap is checked in the transaction that creates the session
        made = core_sessions.create_session(
            data.engine(), course_type=ss[OK.ONE_COURSE], session_date=day, start_time=start, end_time=end,
            location=location, max_capacity=ss[OK.ONE_CAPACITY], instructor_notes=ss[OK.ONE_NOTES] or None,
            on_clash="allow" if ss[OK.ONE_ALLOW_CLASH] else "refuse", actor=current_actor(),
        )
    except CoreError as exc:  # shown to the user; nothing was saved
        failed("one", exc)
        return
    holiday = bank_holiday(made.session_date)
    say("one", "warning" if holiday else "success",
        f"Created {shown_label(made, shown=isolated)}, {made.start_time:%H:%M}-{made.end_time:%H:%M}, "
        f"{made.max_capacity} places." + (f" Note: that day is a bank holiday ({holiday}); cancel the session "
                                          "in Edit, resize or cancel if the site is closed." if holiday else ""))


def one_session_form(types: Sequence[CourseType]) -> None:
    show_feedback("one")
    names = [t.name for t in types]
    limit = get_settings().capacity_limit
    with st.form(OK.ONE_FORM, border=True):
        left, mid, right = st.columns(3)
        left.selectbox("Course", names, key=OK.ONE_COURSE, format_func=course_label(types))
        mid.date_input("Date", value=today() + dt.timedelta(days=7), min_value=today(), key=OK.ONE_DATE,
                       format="DD/MM/YYYY")
        right.radio("Location", LOCATIONS, key=OK.ONE_LOCATION, horizontal=True)
        left, mid, right = st.columns(3)
        left.time_input("Starts", value=dt.time(9), step=dt.timedelta(minutes=15), key=OK.ONE_START)
        mid.time_input("Ends", value=dt.time(16), step=dt.timedelta(minutes=15), key=OK.ONE_END)
        right.number_input("Places", min_value=1, max_value=limit, value=limit, step=1, key=OK.ONE_CAPACITY)
        st.text_area("Instructor notes (optional)", key=OK.ONE_NOTES, height=80, max_chars=2000)
        st.checkbox("Create even if it overlaps another session at this location", key=OK.ONE_ALLOW_CLASH)
        st.form_submit_button("Create session", type="primary", key=OK.ONE_SUBMIT, on_click=_create_one,
                              icon=":material/add:")
