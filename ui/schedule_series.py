"""Schedule: a recurring series (days of the week, for some weeks or until a date, dates
skipped), with a live preview that flags each date overlapping a session at the location
or falling on a bank holiday."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core import recurrence
from core import wording
from core.config import get_settings, today
from core.errors import CoreError
from core.lookup import uk_date
from core.models import LOCATIONS, CourseType
from ui import data
from ui import ops_keys as OK
from ui.auth import current_actor
from ui.format import course_label, day_text
from ui.schedule_feedback import failed, say, show_feedback
from ui.text import as_text

WEEKDAYS = recurrence.WEEKDAY_NAMES
SERIES_SKIP_OUT = "Leave the clashing dates out"
SERIES_ALLOW = "Create them anyway (the site has room for both)"
_DATE_TOKEN = re.compile(r"[\s,;]+")


def parse_skip_dates(text: str) -> tuple[tuple[dt.date, ...], list[str]]:
    """Dates typed as 24/12/2025 or 2025-12-24, separated by commas or spaces; and the
    pieces that are not dates."""
    dates, bad = [], []
    for token in filter(None, _DATE_TOKEN.split(text or "")):
        try:
            dates.append(uk_date(token))
        except ValueError:
            bad.append(token)
    return tuple(sorted(set(dates))), bad


def _series_spec() -> recurrence.SeriesSpec:
    ss = st.session_state
    skip, _ = parse_skip_dates(ss.get(OK.SER_SKIP, ""))
    by_weeks = ss[OK.SER_UNTIL_MODE] == "weeks"
    return recurrence.SeriesSpec(
        course_type=ss[OK.SER_COURSE], first_date=ss[OK.SER_FIRST],
        weekdays=tuple(sorted(WEEKDAYS.index(d) for d in ss[OK.SER_DAYS] or ())),
        start_time=ss[OK.SER_START], end_time=ss[OK.SER_END], location=ss[OK.SER_LOCATION],
        weeks=int(ss[OK.SER_WEEKS]) if by_weeks else None, last_date=None if by_weeks else ss[OK.SER_LAST],
        max_capacity=int(ss[OK.SER_CAPACITY]), instructor_notes=ss.get(OK.SER_NOTES) or None, skip_dates=skip,
    )


def _create_series() -> None:
    on_clash = "allow" if st.session_state.get(OK.SER_ON_CLASH) == SERIES_ALLOW else "skip"
    try:
        made = recurrence.create_series(data.engine(), _series_spec(), on_clash=on_clash, actor=current_actor())
    except CoreError as exc:  # shown to the user; nothing was saved
        failed("series", exc)
        return
    first, last = made[0], made[-1]
    say("series", "success", f"Created {len(made)} sessions of {first.course_type} at {first.location}, "
                             f"from {day_text(first.session_date)} to {day_text(last.session_date)}.")


def _outcome(p: recurrence.PlannedSession) -> str:
    """'New session', '⚠ Overlaps FAW 09:00-16:30 at Location A', '⚠ Bank holiday: Christmas Day'."""
    warnings = ([f"Overlaps {p.clash_text} at {p.clashes[0].location}"] if p.clashes else []) + (
        [f"Bank holiday: {p.bank_holiday}"] if p.bank_holiday else [])
    return "⚠ " + "; ".join(warnings) if warnings else "New session"


def _preview_frame(preview: recurrence.SeriesPreview) -> pd.DataFrame:
    rows = [dict(Date=p.session_date, Day=p.weekday, Time=f"{p.start_time:%H:%M}-{p.end_time:%H:%M}",
                 Outcome=_outcome(p))
            for p in preview.planned]
    rows += [dict(Date=d, Day=WEEKDAYS[d.weekday()], Time="", Outcome="Skipped (as asked)") for d in preview.skipped]
    frame = pd.DataFrame(rows).sort_values("Date")
    frame["Date"] = pd.to_datetime(frame["Date"])
    return frame


def series_builder(types: Sequence[CourseType]) -> None:
    show_feedback("series")
    names = [t.name for t in types]
    limit = get_settings().capacity_limit
    st.caption("Pick the days and how long the series runs; the preview below updates as you go and flags "
               "any date that overlaps a session already at the same location.")
    left, mid, right = st.columns(3)
    left.selectbox("Course", names, key=OK.SER_COURSE, format_func=course_label(types))
    mid.date_input("First date", value=today() + dt.timedelta(days=7), min_value=today(), key=OK.SER_FIRST,
                   format="DD/MM/YYYY")
    right.radio("Location", LOCATIONS, key=OK.SER_LOCATION, horizontal=True)
    st.pills("On these days", WEEKDAYS, selection_mode="multi", default=["Tuesday", "Thursday"], key=OK.SER_DAYS)
    left, mid, right = st.columns(3)
    left.radio("Runs", ["weeks", "until"], key=OK.SER_UNTIL_MODE, horizontal=True,
               format_func={"weeks": "For a number of weeks", "until": "Until a date"}.__getitem__)
    if st.session_state[OK.SER_UNTIL_MODE] == "weeks":
        mid.number_input("Weeks", min_value=1, max_value=recurrence.MAX_WEEKS, value=10, step=1, key=OK.SER_WEEKS)
    else:
        mid.date_input("Last date (included)", value=today() + dt.timedelta(weeks=10), min_value=today(),
                       key=OK.SER_LAST, format="DD/MM/YYYY")
    right.number_input("Places", min_value=1, max_value=limit, value=limit, step=1, key=OK.SER_CAPACITY)
    left, mid, right = st.columns(3)
    left.time_input("Starts", value=dt.time(9), step=dt.timedelta(minutes=15), key=OK.SER_START)
    mid.time_input("Ends", value=dt.time(16), step=dt.timedelta(minutes=15), key=OK.SER_END)
    right.text_input("Skip these dates", key=OK.SER_SKIP, placeholder="e.g. 25/12/2025, 26/12/2025",
                     help="Bank holidays or leave: dates as DD/MM/YYYY, separated by commas.")
    st.text_input("Instructor notes for every session (optional)", key=OK.SER_NOTES, max_chars=2000)

    _, bad = parse_skip_dates(st.session_state.get(OK.SER_SKIP, ""))
    if bad:
        st.warning(f"Not dates, so not skipped: {', '.join(map(as_text, bad))}. Write them as DD/MM/YYYY.", icon=":material/warning:")
    try:
        preview = recurrence.preview_series(data.engine(), _series_spec())
    except CoreError as exc:
        st.info(f"No preview yet: {as_text(exc)}", icon=":material/info:")
        return
    _show_preview(preview)


def _show_preview(preview: recurrence.SeriesPreview) -> None:
    spec, planned, clashing = preview.spec, preview.planned, preview.clashing
    days = " and ".join(WEEKDAYS[d] + "s" for d in spec.weekdays)
    st.markdown(f"**Preview: {len(planned)} sessions** of {as_text(spec.course_type)} on {days}, "
                f"{spec.start_time:%H:%M}-{spec.end_time:%H:%M} at {spec.location}, from "
                f"{day_text(planned[0].session_date)} to {day_text(planned[-1].session_date)}"
                + (f"; {len(preview.skipped)} date(s) skipped" if preview.skipped else "") + ".")
    past = [p for p in planned if p.in_past]
    st.dataframe(_preview_frame(preview), hide_index=True, width="stretch", key=OK.SER_PREVIEW_TABLE,
                 height=min(38 + 35 * (len(planned) + len(preview.skipped)), 420),
                 column_config={"Date": st.column_config.DateColumn("Date", format="ddd D MMM YYYY")})
    count = len(planned)
    if holidays := preview.on_bank_holidays:
        listed = ", ".join(f"{day_text(p.session_date)} ({p.bank_holiday})" for p in holidays[:6])
        more = f" and {len(holidays) - 6} more" if len(holidays) > 6 else ""
        st.warning(f"{len(holidays)} date(s) fall on a bank holiday: {listed}{more}. Add them to Skip these "
                   "dates unless the site is open.", icon=":material/event_busy:")
    if clashing:
        st.warning(f"{len(clashing)} date(s) overlap a session already at {spec.location}: see the ⚠ rows.",
                   icon=":material/warning:")
        choice = st.radio("Clashing dates", [SERIES_SKIP_OUT, SERIES_ALLOW], key=OK.SER_ON_CLASH)
        if choice == SERIES_SKIP_OUT:
            count = len(preview.creatable)
    st.button(f"Create {wording.count(count, 'session')}", type="primary", key=OK.SER_CREATE,
              on_click=_create_series, disabled=bool(past) or count == 0, icon=":material/event_repeat:")
