"""A session's detail, opened as a dialog from the calendar, the day list or the Book page:
course, date, times, location, instructor notes, booked / capacity / remaining (live),
the booking form, and the bookings on it with cancel and move.
"""

from __future__ import annotations

import streamlit as st

from core.models import Session
from ui import data, live
from ui.booking import booking_form, bookings_list, fresh_form
from ui.events import ALMOST_AMBER, FULL_RED, STATE_TEXT, places_text, times_text
from ui.tiles import tiles


def _facts(s: Session) -> None:
    st.markdown(
        f"#### {s.course_type} ({s.short_code})\n"
        f"**{s.session_date:%A %-d %B %Y}** · {times_text(s)} · **{s.location}**"
    )
    if s.instructor_notes:
        st.markdown(f"Instructor notes: _{s.instructor_notes}_")


def _counts(s: Session) -> None:
    left_colour = {"full": FULL_RED, "almost_full": ALMOST_AMBER}.get(s.state, "#166534")
    items = [("Booked", s.current_bookings, "#111827"), ("Capacity", s.max_capacity, "#111827")]
    if getattr(s, "held", 0):
        items.append(("Held (not yet booked)", s.held, ALMOST_AMBER))
    items.append(("Remaining", s.remaining, left_colour))
    if getattr(s, "waiting", 0):
        items.append(("Waiting list", s.waiting, "#111827"))
    tiles(items)
    text = places_text(s, long=True)
    if s.state == "full":
        st.error(f"**{text}**", icon=":material/event_busy:")
    elif s.state == "almost_full":
        st.warning(f"**{text}**", icon=":material/hourglass_bottom:")
    elif s.state in ("cancelled", "completed"):
        st.info(f"**{STATE_TEXT[s.state]}**")
    else:
        st.success(f"**{text}**", icon=":material/event_available:")


def _live_counts(session_id: str) -> None:
    """Remaining places that move by themselves while the dialog is open."""

    @st.fragment(run_every=data.poll_seconds())
    def counts() -> None:
        status = live.poll()
        if status.version is None:
            live.show_status(status)
            return
        try:
            s = data.session(session_id, status.version)
        except Exception as exc:
            st.error(str(exc))
            return
        _counts(s)
        live.show_status(status)

    counts()


@st.dialog("Session", width="large")
def session_dialog(session_id: str) -> None:
    status = live.poll()
    if status.version is None:
        st.error("The database cannot be reached right now; try again in a moment.")
        return
    try:
        s = data.session(session_id, status.version)
    except Exception as exc:
        st.error(str(exc))
        return
    _facts(s)
    _live_counts(session_id)
    book_tab, list_tab = st.tabs(["Book places", f"Bookings ({s.current_bookings} places)"])
    with book_tab:
        booking_form(s, status.version)
    with list_tab:
        bookings_list(s, status.version)


def open_session(session_id: str) -> None:
    """Open a session's detail from a click: a fresh form, then the dialog."""
    fresh_form(session_id)
    session_dialog(session_id)
