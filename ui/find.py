"""Finding a booking: the sidebar box every page shows to staff, and the results on the
Find booking page (each booking with its session, and a button that opens the session).

No SQL here: the search is core.search.find_bookings (bound parameters, any case).
"""

from __future__ import annotations

import streamlit as st

from core import search
from core import wording
from core.errors import InvalidInput
from ui import data
from ui import keys as K
from ui.auth import can
from ui.events import places_text, times_text
from ui.text import as_html, as_text, html_line

FIND_PAGE = "pages/7_Find_booking.py"
HINT = "BK-…, name, e-mail, phone or company"
_STATUS = {"cancelled": "CANCELLED", "rebook": "TO REBOOK: its session was cancelled"}


def _go() -> None:
    """Callback of the sidebar box: remember what was typed; the page run that follows goes there."""
    st.session_state[K.FIND_GO] = (st.session_state.get(K.FIND_BOX) or "").strip()
    st.session_state[K.FIND_BOX] = ""


def sidebar_box() -> None:
    """'Find a booking' at the top of the sidebar, for staff; Enter opens the results."""
    if not can("staff"):
        return
    st.sidebar.text_input("Find a booking", key=K.FIND_BOX, placeholder="BK-…, name, phone…", on_change=_go,
                          icon=":material/search:", help="Type and press Enter: the Find booking page lists "
                          "every booking whose reference, name, attendee, e-mail, phone or company matches.")
    wanted = st.session_state.pop(K.FIND_GO, None)
    if wanted:
        st.session_state[K.FIND_ADOPTED] = None  # the page takes the new words into its own box
        st.switch_page(FIND_PAGE, query_params={K.Q_FIND: wanted})


def _typed() -> None:
    words = (st.session_state.get(K.FIND_QUERY) or "").strip()
    st.session_state[K.FIND_ADOPTED] = words
    if words:
        st.query_params[K.Q_FIND] = words
    else:
        st.query_params.pop(K.Q_FIND, None)


def query_box() -> str:
    """The page's own search box, filled from the link (?q=...); returns the words."""
    linked = (st.query_params.get(K.Q_FIND) or "").strip()
    if st.session_state.get(K.FIND_ADOPTED) != linked:
        st.session_state[K.FIND_QUERY] = linked
        st.session_state[K.FIND_ADOPTED] = linked
    st.text_input("Reference, name, e-mail, phone or company", key=K.FIND_QUERY, placeholder=HINT,
                  on_change=_typed, icon=":material/search:")
    return (st.session_state.get(K.FIND_QUERY) or "").strip()


def found_html(f: search.FoundBooking) -> str:
    b, s = f.booking, f.session
    status = _STATUS.get(b.status)
    head = (f"<b>{as_html(b.reference)}</b> · {as_html(b.contact_name)} · {wording.places(b.seats)}"
            + (f' · <b style="color:#B91C1C">{status}</b>' if status else ""))
    when = (f"{as_html(s.course_type)} ({as_html(s.short_code)}) · {s.session_date:%a %-d %b %Y} · {times_text(s)}"
            f" · {as_html(s.location)} · {places_text(s)}")
    people = ", ".join(as_html(a.name) for a in b.attendees) or "names not given yet"
    return (f'<div class="found-booking" style="line-height:1.45;overflow-wrap:anywhere">'
            f'<div style="font-size:1.02rem">{head}</div><div>{when}</div>'
            + html_line(b.company, b.contact_email, b.contact_phone, muted=True)
            + f'<div class="people-line">Attendees: {people}</div></div>')


def results(words: str, version: int) -> str | None:
    """The bookings that match, each with 'Open session'; returns the session clicked."""
    if not words:
        st.info(f"Type a booking reference or part of a name, e-mail address, phone number or company ({HINT}).",
                icon=":material/search:")
        return None
    try:
        result = data.found_bookings(words, version)
    except InvalidInput as exc:
        st.warning(as_text(exc), icon=":material/search_off:")
        return None
    if not result.found:
        st.info(f"No booking matches {as_text(words)}. Check the spelling, or search by another detail "
                "(the e-mail address or the phone number).", icon=":material/search_off:")
        return None
    count = len(result.found)
    st.caption(f"{wording.count(count, 'booking')} {wording.plural(count, 'matches', 'match')} {as_text(words)}"
               + (f" (the first {count}: type more to narrow it)" if result.more else "")
               + ". Sessions to come first, soonest first; then past ones.")
    clicked = None
    for f in result.found:
        with st.container(border=True, key=f"found_{f.booking.id}"):
            text, button = st.columns([4, 1], vertical_alignment="center")
            text.html(found_html(f))
            if button.button("Open session", key=K.find_open(f.booking.id), width="stretch",
                             icon=":material/open_in_new:"):
                clicked = str(f.session.id)
    return clicked
