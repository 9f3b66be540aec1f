"""The filter sidebar and its two-way sync with the URL query string.

A filtered view can be bookmarked or sent to a colleague: the URL carries the filters
(`?course=EFAW,FAW&location=A&status=full&from=2025-12-01&to=2025-12-31&view=list`).
Values that make no sense fall back to the default with a notice, never an exception.
The parsing half (`parse_query`, `to_query`) is plain Python and tested on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from core.lookup import course_named, location_named
from core.models import ALMOST_FULL_AT, AVAILABILITY_STATES, LOCATIONS, CourseType
from core.wording import state_label
from ui import keys as K
from ui.text import as_text, isolated
from ui.viewport import is_narrow

STATE_LABELS = {s: state_label(s) for s in AVAILABILITY_STATES} | {
    "almost_full": f"{state_label('almost_full')} ({ALMOST_FULL_AT} or fewer left)"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_VIEWS = {"list": True, "calendar": False}


@dataclass(frozen=True)
class Filters:
    """What the staff member asked to see. Empty tuples mean "all"."""

    course_types: tuple[str, ...] = ()      # course names, in catalogue order
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    states: tuple[str, ...] = ()            # subset of AVAILABILITY_STATES, in that order
    locations: tuple[str, ...] = ()         # subset of LOCATIONS, in that order
    show_cancelled: bool = False
    compact: bool | None = None             # list instead of calendar; None = decide by device

    def clip(self, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
        """`start`..`end` narrowed to the date filter (may come back empty: end < start)."""
        if self.date_from and self.date_from > start:
            start = self.date_from
        if self.date_to and self.date_to < end:
            end = self.date_to
        return start, end

    def keeps(self, state: str) -> bool:
        return not self.states or state in self.states


def location_letter(location: str) -> str:
    return location.removeprefix("Location ").strip()


def _values(params: Mapping[str, object], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)  # type: ignore[arg-type]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _date(params: Mapping[str, object], name: str, label: str, notices: list[str]) -> dt.date | None:
    values = _values(params, name)
    if not values:
        return None
    try:
        return dt.date.fromisoformat(values[0])
    except ValueError:
        notices.append(f"The link's {label} date {_quoted(values[0][:20])} is not a date (YYYY-MM-DD): ignored.")
        return None


def _quoted(value: str) -> str:
    """A value from the link, quoted and kept apart from the notice's own words."""
    return f"'{isolated(value)}'"


def _known(params: Mapping[str, object], name: str, what: str, find, notices: list[str]) -> list[str]:
    """The values of parameter `name` that `find` knows (as it names them); a notice for the others."""
    found, bad = [], []
    for value in _values(params, name):
        hit = find(value)
        (found.append(hit) if hit else bad.append(value[:30]))
    if bad:
        notices.append(f"Unknown {what} {', '.join(map(_quoted, bad))} in the link: ignored.")
    return found


def _state_named(value: str) -> str | None:
    state = value.lower().replace("-", "_").replace(" ", "_")
    return state if state in AVAILABILITY_STATES else None


def parse_query(params: Mapping[str, object], types: Sequence[CourseType]) -> tuple[Filters, list[str]]:
    """Filters from URL query parameters, and a notice for each value that was dropped."""
    notices: list[str] = []
    order = {t.name: i for i, t in enumerate(types)}
    courses = _known(params, K.Q_COURSE, "course", lambda v: course_named(types, v), notices)
    states = _known(params, K.Q_STATUS, "availability", _state_named, notices)
    locations = _known(params, K.Q_LOCATION, "location", location_named, notices)

    date_from = _date(params, K.Q_FROM, "'from'", notices)
    date_to = _date(params, K.Q_TO, "'to'", notices)
    if date_from and date_to and date_to < date_from:
        notices.append("The link's 'to' date is before its 'from' date: both ignored.")
        date_from = date_to = None

    show_cancelled = False
    for value in _values(params, K.Q_CANCELLED)[:1]:
        if value.lower() in _TRUE | _FALSE:
            show_cancelled = value.lower() in _TRUE
        else:
            notices.append(f"'cancelled={isolated(value[:20])}' in the link is not yes or no: ignored.")

    compact = None
    for value in _values(params, K.Q_VIEW)[:1]:
        if value.lower() in _VIEWS:
            compact = _VIEWS[value.lower()]
        else:
            notices.append(f"'view={isolated(value[:20])}' in the link is not list or calendar: ignored.")

    filters = Filters(
        course_types=tuple(sorted(set(courses), key=order.__getitem__)),
        date_from=date_from,
        date_to=date_to,
        states=tuple(s for s in AVAILABILITY_STATES if s in states),
        locations=tuple(loc for loc in LOCATIONS if loc in locations),
        show_cancelled=show_cancelled,
        compact=compact,
    )
    return filters, notices


def to_query(filters: Filters, types: Sequence[CourseType]) -> dict[str, str]:
    """The query parameters that describe `filters` (defaults are left out)."""
    codes = {t.name: t.short_code for t in types}
    query: dict[str, str] = {}
    if filters.course_types:
        query[K.Q_COURSE] = ",".join(codes.get(n, n) for n in filters.course_types)
    if filters.date_from:
        query[K.Q_FROM] = filters.date_from.isoformat()
    if filters.date_to:
        query[K.Q_TO] = filters.date_to.isoformat()
    if filters.states:
        query[K.Q_STATUS] = ",".join(filters.states)
    if filters.locations:
        query[K.Q_LOCATION] = ",".join(location_letter(loc) for loc in filters.locations)
    if filters.show_cancelled:
        query[K.Q_CANCELLED] = "1"
    if filters.compact is not None:
        query[K.Q_VIEW] = "list" if filters.compact else "calendar"
    return query


def query_string(query: Mapping[str, object]) -> str:
    return urlencode(sorted((k, ",".join(_values(query, k))) for k in query if k in K.QUERY_KEYS))


# --- Streamlit half ---------------------------------------------------------------------


def is_phone() -> bool:
    """The page is phone-wide, as the browser measured it (ui/viewport.py); the sidebar
    toggle overrides it on the calendar."""
    return is_narrow()


def _current_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in K.QUERY_KEYS if st.query_params.get_all(k)}


def _widget_values(filters: Filters) -> dict[str, object]:
    return {
        K.F_COURSES: list(filters.course_types),
        K.F_FROM: filters.date_from,
        K.F_TO: filters.date_to,
        K.F_STATES: list(filters.states),
        K.F_LOCATIONS: list(filters.locations),
        K.F_CANCELLED: filters.show_cancelled,
        K.F_COMPACT: is_phone() if filters.compact is None else filters.compact,
    }


def _reset() -> None:
    for key, value in _widget_values(Filters()).items():
        st.session_state[key] = value


def sidebar_filters(types: Sequence[CourseType], *, with_states: bool = True, with_view: bool = False) -> Filters:
    """Render the filter sidebar, keep it in step with the URL, and return the filters."""
    params = _current_params()
    known = st.session_state.get(K.FILTERS)
    if st.session_state.get(K.FILTERS_QS) != query_string(params):
        # The URL changed under us: first load, a bookmark, or a link from another page.
        if not params and known is not None:
            wanted, notices = known, []          # page switch from the sidebar: keep filters
        else:
            wanted, notices = parse_query(params, types)
        st.session_state.update(_widget_values(wanted))
        for notice in notices:
            st.warning(as_text(notice + " Showing the default instead."), icon=":material/link_off:")
    else:
        wanted = known or Filters()
        for key, value in _widget_values(wanted).items():
            st.session_state.setdefault(key, value)   # widgets forgotten on another page
        if wanted.compact is None and st.session_state.get(K.F_COMPACT_DEVICE) != is_phone():
            st.session_state[K.F_COMPACT] = is_phone()  # the window crossed the phone width
    st.session_state[K.F_COMPACT_DEVICE] = is_phone()

    names = [t.name for t in types]
    codes = {t.name: t.short_code for t in types}
    st.session_state[K.F_COURSES] = [n for n in st.session_state[K.F_COURSES] if n in names]
    side = st.sidebar
    side.header("Filters")
    side.multiselect("Course type", names, key=K.F_COURSES, placeholder="All courses",
                     format_func=lambda n: f"{n} ({codes.get(n, n)})")
    side.date_input("From", key=K.F_FROM, format="DD/MM/YYYY", help="Empty: no limit.")
    side.date_input("To", key=K.F_TO, format="DD/MM/YYYY", help="Empty: no limit.")
    if with_states:
        side.multiselect("Availability", list(AVAILABILITY_STATES), key=K.F_STATES,
                         format_func=STATE_LABELS.__getitem__, placeholder="Any availability")
    side.multiselect("Location", list(LOCATIONS), key=K.F_LOCATIONS, placeholder="Both locations")
    side.toggle("Show cancelled sessions", key=K.F_CANCELLED)
    if with_view:
        side.toggle("Compact list (phone)", key=K.F_COMPACT,
                    help="A list grouped by day instead of the calendar grid; on by default on phones.")
    side.button("Clear filters", key=K.F_RESET, on_click=_reset, icon=":material/filter_alt_off:")

    date_from, date_to = st.session_state[K.F_FROM], st.session_state[K.F_TO]
    if date_from and date_to and date_to < date_from:
        side.warning("'To' is before 'From': the dates were swapped.")
        date_from, date_to = date_to, date_from
    compact = bool(st.session_state[K.F_COMPACT])
    filters = Filters(
        course_types=tuple(n for n in names if n in st.session_state[K.F_COURSES]),
        date_from=date_from,
        date_to=date_to,
        states=tuple(s for s in AVAILABILITY_STATES if s in st.session_state[K.F_STATES]) if with_states else
        (known.states if known else ()),
        locations=tuple(loc for loc in LOCATIONS if loc in st.session_state[K.F_LOCATIONS]),
        show_cancelled=bool(st.session_state[K.F_CANCELLED]),
        compact=None if compact == is_phone() else compact,
    )
    query = to_query(filters, types)
    if query_string(query) != query_string(params):
        st.query_params.from_dict(query)
    st.session_state[K.FILTERS_QS] = query_string(query)
    st.session_state[K.FILTERS] = filters
    return filters


def compact_view(filters: Filters) -> bool:
    """The list view: as asked in the sidebar or the link, else on phones."""
    return is_phone() if filters.compact is None else filters.compact
