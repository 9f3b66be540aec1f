"""The bookings on a session, in its detail: who booked, how many places, the attendees;
cancel and move for staff."""

from __future__ import annotations

import streamlit as st

from core import availability
from core import booking as core_booking
from core import wording
from core.models import Session
from core.errors import CoreError
from ui import data, outbox
from ui import keys as K
from ui.auth import can, current_actor
from ui.booking_state import error_text
from ui.format import cancelled_text, session_line, shown_label
from ui.text import as_html, as_text, html_line, isolated


def _cancel(session_id: str, booking_id: str, reference: str) -> None:
    try:
        cancelled = core_booking.cancel(data.engine(), booking_id, actor=current_actor())
    except CoreError as exc:
        st.session_state[K.booking_feedback(session_id)] = ("error", f"{reference}: {error_text(exc)}")
    else:
        st.session_state[K.booking_feedback(session_id)] = ("success", cancelled_text(cancelled))


def _move(session_id: str, booking_id: str, reference: str) -> None:
    target = st.session_state.get(K.booking_action(booking_id, "move_to"))
    if not target:
        st.session_state[K.booking_feedback(session_id)] = ("error", f"{reference}: choose a session to move to.")
        return
    try:
        moved = core_booking.move(data.engine(), booking_id, target, actor=current_actor())
    except CoreError as exc:
        st.session_state[K.booking_feedback(session_id)] = ("error", f"{reference}: {error_text(exc)}")
    else:
        try:
            label = shown_label(availability.get_session(data.engine(), moved.session_id), shown=isolated)
        except CoreError:
            label = "the new session"
        st.session_state[K.booking_feedback(session_id)] = ("success", f"Booking {reference} moved to {label}.")


def bookings_list(session: Session, version: int) -> None:
    """The bookings on a session (reference, name, seats), each with cancel and move."""
    sid = str(session.id)
    # Kept until the next cancel or move, or until the session is opened again: the list
    # redraws itself every few seconds and the message must not vanish with the next redraw.
    feedback = st.session_state.get(K.booking_feedback(sid))
    if feedback:
        (st.success if feedback[0] == "success" else st.error)(as_text(feedback[1]))
    rows = data.bookings(sid, version)
    live = [b for b in rows if b.status != "cancelled"]
    if not live:
        st.caption("No bookings on this session yet.")
        return
    seats = sum(b.seats for b in live)
    st.caption(f"{wording.count(len(live), 'booking')} · {wording.places(seats)}"
               f" of {session.max_capacity}")
    for b in live:
        people = ", ".join(as_html(a.name) for a in b.attendees) or "names not given yet"
        status = "" if b.status == "confirmed" else f" · **{b.status.upper()}**"
        title = f"{b.reference} · {as_text(b.contact_name)} · {wording.places(b.seats)}{status}"
        with st.expander(title):
            # HTML, not markdown: the e-mail and phone are copied exactly as shown
            st.html(html_line(b.company or "No company", b.contact_email, b.contact_phone or "no phone")
                    + f'<div class="people-line">Attendees: {people}</div>')
            outbox.delivery_note(b.id, version)
            if not can("staff"):
                continue  # viewers see who is booked, without cancel and move
            cancel_col, move_col = st.columns(2)
            with cancel_col:
                sure = st.checkbox("Yes, cancel this booking", key=K.booking_action(b.id, "sure"))
                st.button("Cancel booking", key=K.booking_action(b.id, "cancel"), disabled=not sure,
                          on_click=_cancel, args=(sid, str(b.id), b.reference), icon=":material/cancel:")
            with move_col:
                try:
                    targets = data.move_targets(sid, b.seats, version)  # same site first, then by date
                except CoreError:
                    targets = []
                options = [str(t.id) for t in targets]
                labels = {str(t.id): session_line(t, shown=str) for t in targets}
                st.selectbox("Move to", options, key=K.booking_action(b.id, "move_to"), index=None,
                             format_func=labels.get, placeholder="Another session of this course",
                             disabled=not options)
                st.button("Move booking", key=K.booking_action(b.id, "move"), disabled=not options,
                          on_click=_move, args=(sid, str(b.id), b.reference), icon=":material/move_up:")
