"""Sessions as a list grouped by day: the phone view of the calendar and the Book page.

Readable at 390 px without zooming and without horizontal scrolling: day heading, course,
times, location, places left or FULLY BOOKED, and a button that opens the session.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence

import streamlit as st

from core.config import now_local
from core.models import Session
from ui import keys as K
from ui.auth import can
from ui.events import ALMOST_AMBER, FULL_RED, places_text, times_text
from ui.text import as_html

_TEXT_COLOUR = {"available": "#166534", "almost_full": ALMOST_AMBER, "full": FULL_RED}


def bookable(s: Session) -> bool:
    return s.state in ("available", "almost_full") and s.starts_at > now_local()


def card_html(s: Session) -> str:
    course = as_html(s.course_type)
    if s.state == "cancelled":
        course = f"<s>{course}</s>"
    colour = _TEXT_COLOUR.get(s.state, "#4B5563")
    return (
        f'<div class="session-card ses-{s.state}" style="border-left:6px solid {html.escape(s.colour)};'
        'padding:2px 0 2px 10px;line-height:1.45;overflow-wrap:anywhere">'
        f'<div style="font-weight:600;font-size:1.02rem">{course} '
        f'<span style="font-weight:400;color:#4B5563">({as_html(s.short_code)})</span></div>'
        f'<div>{times_text(s)} · {as_html(s.location)}</div>'
        f'<div class="places" style="color:{colour};font-weight:700">{places_text(s, long=True)}</div></div>'
    )


def day_list(sessions: Sequence[Session], where: str, *, empty: str = "No sessions match the filters.") -> str | None:
    """Render the list; return the id of the session whose button was clicked, if any."""
    if not sessions:
        st.info(empty, icon=":material/event_note:")
        return None
    clicked = None
    may_book = can("staff")  # viewers open a session to see it, not to book
    for day, group in itertools.groupby(sessions, key=lambda s: s.session_date):
        st.markdown(f"##### {day:%A %-d %B}")
        for s in group:
            with st.container(border=True, key=K.day_card(where, s.id)):
                text, button = st.columns([4, 1], vertical_alignment="center")
                text.html(card_html(s))
                open_it = may_book and bookable(s)
                if button.button("Book" if open_it else "Details", key=K.book_button(where, s.id),
                                 type="primary" if open_it else "secondary", width="stretch"):
                    clicked = str(s.id)
    return clicked
