"""The FullCalendar component, kept still across live refreshes.

Measured on Streamlit 1.67 + streamlit-calendar 1.4.0: with a constant `key` and
byte-identical arguments the calendar is left alone and keeps its view; a changed key,
or a run that skips the calendar, remounts it (back to the initial date). Its value is
sticky (every poll returns the last callback again), so each value is acted on once.
`eventsSet` fires on mount (twice) and on every navigation with the visible range:
that range decides which dates are loaded, with a margin so that moving within a month
or switching month / week / day view changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st
from streamlit_calendar import calendar

from core.config import today as local_today
from core.models import Session
from ui import data, live
from ui import keys as K
from ui.events import CALENDAR_CSS, calendar_events, calendar_options
from ui.filters import Filters

CALLBACKS = ["eventClick", "eventsSet"]  # no eventMouseEnter: each hover over an event was a rerun request
MARGIN = dt.timedelta(days=7)


def initial_date(filters: Filters, today: dt.date) -> dt.date:
    """Today, unless the date filter excludes today: then the first day it shows."""
    if filters.date_from and today < filters.date_from:
        return filters.date_from
    if filters.date_to and today > filters.date_to:
        return filters.date_from or filters.date_to.replace(day=1)
    return today


def _month_span(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    start = first.replace(day=1) - MARGIN
    nxt = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return start, nxt - dt.timedelta(days=1) + MARGIN


def _view_range(view: dict) -> tuple[dt.date, dt.date] | None:
    """The visible dates [first, last] from a view payload (ISO strings, exclusive end)."""
    try:
        first = dt.date.fromisoformat(view["activeStart"][:10])
        end = dt.date.fromisoformat(view["activeEnd"][:10])
    except (KeyError, TypeError, ValueError):
        return None
    return first, max(first, end - dt.timedelta(days=1))


def _fingerprint(value: dict) -> str:
    name = value.get("callback", "")
    payload = value.get(name) or {}
    event = (payload.get("event") or {}).get("id")
    view = payload.get("view") or {}
    return json.dumps([name, event, view.get("type"), view.get("activeStart"), view.get("activeEnd")])


def handle_value(value: object, cal_key: str) -> str | None:
    """Act once on a new component value: remember the view; return a clicked session id."""
    if not isinstance(value, dict) or not value.get("callback"):
        return None
    mark = _fingerprint(value)
    if st.session_state.get(K.CAL_HANDLED) == (cal_key, mark):
        return None
    st.session_state[K.CAL_HANDLED] = (cal_key, mark)
    name = value["callback"]
    payload = value.get(name) or {}
    seen = _view_range(payload.get("view") or {})
    if seen:
        st.session_state[K.CAL_VIEW] = (cal_key, *seen)
    if name == "eventClick":
        return (payload.get("event") or {}).get("id")
    return None


def loaded_range(cal_key: str, initial: dt.date) -> tuple[dt.date, dt.date]:
    """Dates to load: kept while the visible range stays inside, else re-centred on it."""
    loaded = st.session_state.get(K.CAL_LOADED)
    view = st.session_state.get(K.CAL_VIEW)
    first, last = (view[1], view[2]) if view and view[0] == cal_key else (initial, initial)
    if loaded and loaded[0] == cal_key and loaded[1] <= first and last <= loaded[2]:
        return loaded[1], loaded[2]
    start, end = _month_span(first, last)
    st.session_state[K.CAL_LOADED] = (cal_key, start, end)
    return start, end


def visible(sessions: list[Session], cal_key: str, initial: dt.date) -> list[Session]:
    """The sessions in the calendar's visible range (before it reports one: the month)."""
    view = st.session_state.get(K.CAL_VIEW)
    if view and view[0] == cal_key:
        first, last = view[1], view[2]
    else:
        first, last = _month_span(initial, initial)
        first, last = first + MARGIN, last - MARGIN
    return [s for s in sessions if first <= s.session_date <= last]


def render_calendar(filters: Filters, status: live.LiveStatus) -> tuple[list[Session], str | None]:
    """Draw the calendar; return the sessions in view and the id of a newly clicked one."""
    today = local_today()
    initial = initial_date(filters, today)
    # A new date filter re-opens the calendar on its first day: that remount is wanted.
    cal_key = f"{K.CALENDAR}_{initial.isoformat()}"
    clicked = handle_value(st.session_state.get(cal_key), cal_key)
    start, end = filters.clip(*loaded_range(cal_key, initial))
    sessions = live.keep_last(
        "calendar", (start, end, filters, status.version),
        lambda: data.sessions(start, end, filters, status.version),
    )
    calendar(
        events=calendar_events(sessions),
        options=calendar_options(initial, today),
        custom_css=CALENDAR_CSS,
        callbacks=CALLBACKS,
        key=cal_key,
    )
    return visible(sessions, cal_key, initial), clicked
