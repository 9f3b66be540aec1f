"""A session's detail, opened as a dialog from the calendar, the day list or the Book page:
course, date, times, location, instructor notes, booked / capacity / remaining, the holds
(who, minutes left) and the waiting list (positions, withdraw); the booking form, and the
bookings on it with cancel and move. Everything below the facts is one live part, drawn from
one read and redrawn on every pushed change (ui.push.live_part): one count, the form's
limit included.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core import waitlist as core_waitlist
from core.config import get_settings, today, utc_now
from core.errors import CoreError
from core.models import Hold, Session, WaitlistEntry
from core.wording import places
from ui import data, live
from ui import keys as K
from ui.auth import current_actor
from ui.booking_form import booking_form
from ui.booking_state import fresh_form
from ui.bookings_list import bookings_list
from ui.register import register_open, register_panel
from ui.events import ALMOST_AMBER, FULL_RED, STATE_TEXT, places_text, times_text
from ui.format import local_time, time_left
from ui.holds_panel import hold_notice, hold_state, session_now
from ui.push import live_part
from ui.text import as_html, as_text, html_line
from ui.tiles import tiles


def _facts(s: Session) -> None:
    st.markdown(
        f"#### {as_text(s.course_type)} ({as_text(s.short_code)})\n"
        f"**{s.session_date:%A %-d %B %Y}** · {times_text(s)} · **{as_text(s.location)}**"
    )
    if s.instructor_notes:
        st.markdown(f"Instructor notes: _{as_text(s.instructor_notes)}_")


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
    elif s.state in ("cancelled", "completed", "running", "over"):
        st.info(f"**{STATE_TEXT[s.state]}**")
    else:
        st.success(f"**{text}**", icon=":material/event_available:")


def _holds(session_id: str, held: list[Hold]) -> None:
    """'2 places held by Sam · 7 min left (until 14:05)', one line a hold."""
    if not held:
        return
    mine = (st.session_state.get(hold_state(session_id)) or {}).get("id")
    now = utc_now()
    lines = []
    for h in held:
        who = "you, for this caller" if str(h.id) == mine else as_html(h.held_by)
        note = f" ({as_html(h.note)})" if h.note and str(h.id) != mine else ""
        lines.append(f"<li><b>{places(h.seats)} held by {who}</b>{note} · "
                     f"{time_left(h, now)} (until {local_time(h.expires_at)})</li>")
    st.html(f'<div class="holds" style="margin:0 0 4px 0"><span style="font-weight:600">Held, not yet booked'
            "</span> <span style=\"color:#4B5563\">(the places come back by themselves when the time is up)"
            f'</span><ul style="margin:2px 0 0 0">{"".join(lines)}</ul></div>')


def _withdraw(session_id: str, entry_id: str, name: str) -> None:
    st.session_state.pop(K.waitlist_asking(session_id), None)
    try:
        core_waitlist.withdraw(data.engine(), entry_id, actor=current_actor())
    except CoreError as exc:
        st.session_state[K.waitlist_feedback(session_id)] = ("error", f"{as_text(name)}: {as_text(exc)}")
    else:
        st.session_state[K.waitlist_feedback(session_id)] = ("success", f"{as_text(name)} is off the waiting list.")


def _ask(session_id: str, entry_id: str) -> None:
    st.session_state[K.waitlist_asking(session_id)] = entry_id


def _joined(e: WaitlistEntry) -> str:
    at = local_time(e.created_at)
    local_day = e.created_at.replace(tzinfo=dt.timezone.utc).astimezone(get_settings().timezone).date()
    return at if local_day == today() else f"{local_day:%-d %b} {at}"


def _waiting_list(s: Session, version: int) -> None:
    """Positions, who, how many places, and withdraw (asked twice: a place in the queue is not
    given back)."""
    session_id = str(s.id)
    said = st.session_state.pop(K.waitlist_feedback(session_id), None)
    if said:
        (st.success if said[0] == "success" else st.error)(said[1])
    entries = data.waiting_list(session_id, version) if s.waiting else []
    if not entries:
        return
    who = current_actor()
    may_change = who is not None and who.can("staff")
    st.markdown(f"**Waiting list** ({len(entries)}) · first come, first served: each is booked automatically "
                "when enough places free up")
    asking = st.session_state.get(K.waitlist_asking(session_id))
    for e in entries:
        text, button = st.columns([4, 1], vertical_alignment="center")
        text.markdown(f"**{e.position}. {as_text(e.name)}** · {places(e.seats)}")
        # HTML, not markdown: the e-mail is copied exactly as shown (no marks added to escape it)
        text.html(html_line(e.email, e.phone, e.company, f"since {_joined(e)}", muted=True))
        if not may_change:
            continue
        if asking == str(e.id):
            button.button("Yes, withdraw", key=K.waitlist_entry(e.id, "yes"), type="primary", width="stretch",
                          on_click=_withdraw, args=(session_id, str(e.id), e.name))
        else:
            button.button("Withdraw", key=K.waitlist_entry(e.id, "withdraw"), width="stretch",
                          on_click=_ask, args=(session_id, str(e.id)),
                          help=f"Take {as_text(e.name)} off the waiting list (you will be asked to confirm)")


def _session_or_say(session_id: str, status: live.LiveStatus, away) -> tuple[Session, list[Hold]] | None:
    """The session and its live holds at `status`; None after saying why not (`away(status)`
    while the database has never been reached, else the core's error)."""
    if status.version is None:
        away(status)
        return None
    try:
        return session_now(session_id, status.version)
    except CoreError as exc:
        st.error(as_text(exc))
        return None


def _tabs(s: Session):
    """(book, bookings, register or None) tabs: the register first once the session has
    started (at the training room door), after the booking form while places can be sold."""
    if register_open(s) and s.phase != "upcoming":
        register_tab, list_tab, book_tab = st.tabs(["Register", "Bookings", "Book places"])
        return book_tab, list_tab, register_tab
    book_tab, list_tab, *later = st.tabs(["Book places", "Bookings"] + (["Register"] if register_open(s) else []))
    return book_tab, list_tab, (later[0] if later else None)


def _session_now(session_id: str) -> None:
    """Everything in the window that changes (counts, holds, waiting list, the booking form
    with its limit, the bookings, the register), drawn from one read: one live count. It
    runs again on every pushed change (ui.push.live_part), the polls only backing that up; a
    colleague's booking, hold or cancellation shows here as soon as on the calendar behind."""
    status = live.poll()
    found = _session_or_say(session_id, status, live.show_status)
    if not found:
        return
    s, held = found
    # A fixed slot for each part that comes and goes (holds, the waiting list), so that
    # every element keeps its place from one redraw to the next: an element that moved was
    # drawn anew beside the old one (seen: two status lines, two sets of tabs, after a
    # hold was booked and its line went away).
    counts, holds, waiting, state = st.container(), st.container(), st.container(), st.container()
    with counts:
        _counts(s)
    with holds:
        _holds(session_id, held)
    with waiting:
        _waiting_list(s, status.version)
    with state:
        live.show_status(status)
    book_tab, list_tab, register_tab = _tabs(s)
    if register_tab is not None:
        with register_tab:
            register_panel(s, status.version)
    with book_tab:
        booking_form(s, status.version)
    with list_tab:
        bookings_list(s, status.version)


@st.dialog("Session", width="large")
def session_dialog(session_id: str) -> None:
    found = _session_or_say(session_id, live.poll(), lambda _: st.error(
        "The database cannot be reached right now; try again in a moment."))
    if not found:
        return
    _facts(found[0])

    def now_part() -> None:
        _session_now(session_id)

    live_part(K.SESSION_LIVE, now_part)


def open_session(session_id: str) -> None:
    """Open a session's detail from a click: a fresh form, then the dialog."""
    fresh_form(session_id)
    st.session_state.pop(hold_notice(session_id), None)
    session_dialog(session_id)
