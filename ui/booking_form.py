"""The staff booking form of a session, its result, and the "it filled up meanwhile" path:
the waiting list, or one click to book another session of the course.

Writes happen in button callbacks (they run before the script, so each error can be
shown next to the field it concerns on the very run that follows). What the form keeps
between runs, and why a double click cannot book twice: ui/booking_state.py.
"""

from __future__ import annotations

import time

import streamlit as st

from core.config import now_local
from core.errors import CoreError, DuplicateAttendee, SessionFull
from core.models import Session
from ui import booking_state as form
from ui import data
from ui import keys as K
from ui import more_places
from ui.auth import can
from ui.booking_state import EMPTY, FIELDS, FORM_LEVEL
from ui.events import places_text
from ui.format import hold_length_text, local_time, places, session_line, shown_label
from ui.holds_panel import book_from_hold, hold_notice, hold_state, my_hold, place_hold, release
from ui.text import as_text
from ui.waitlist_panel import join_waitlist

LABELS = {"contact_name": "Contact name *", "contact_email": "E-mail *", "contact_phone": "Phone", "company": "Company"}
DOUBLE_CLICK_SECONDS = 3.0


def _submit(session_id: str) -> None:
    """Callback of the Confirm button: book, or record why not (by field)."""
    request = form.request(session_id)
    if _second_click(request, st.session_state.get(K.form_result(session_id))):
        return
    key = form.idempotency_key(session_id, request)
    st.session_state[K.form_full(session_id)] = None
    more_places.forget(session_id)
    st.session_state.pop(hold_notice(session_id), None)  # said, and now acted on
    note = None
    hold = my_hold(session_id, drop_ended=False)
    try:
        if hold:  # the core books the hold, or the places if the hold ended and they are free
            held = book_from_hold(hold, request)
            st.session_state.pop(hold_state(session_id), None)
            made, note = held.booking, held.note
        else:
            made = form.book(session_id, request, key)
    except SessionFull as exc:
        if hold:  # it had ended, and its places went meanwhile
            st.session_state.pop(hold_state(session_id), None)
        form.refused_full(session_id, request, exc)
        return
    except CoreError as exc:  # every core error is shown as its message, by its field
        form.refused(session_id, exc)
        if isinstance(exc, DuplicateAttendee) and not hold:  # offer to add the places to their booking
            more_places.remember(session_id, request, exc)
        return
    form.succeeded(session_id, request, key, made, session_id)
    if note:
        st.session_state[K.form_result(session_id)]["note"] = note


def _second_click(request: dict, result: dict | None) -> bool:
    """The late second click of a double click on Confirm: after the form was cleared, or
    still with the caller's details while the number of places changed under it (the form's
    limit followed the places left after the first click, so it no longer matches the
    request just booked, and would book the same caller again)."""
    if not result or "reference" not in result:
        return False
    if request == EMPTY:
        return True
    same_caller = (request["contact_name"].strip(), request["contact_email"].strip().lower()) == (
        result.get("contact"), result.get("email"))
    return same_caller and time.monotonic() - result.get("at", 0.0) < DOUBLE_CLICK_SECONDS


def _book_elsewhere(form_id: str, other_id: str) -> None:
    """One click on a full session's form: the caller's details, booked on another session."""
    request = form.request(form_id)
    if request == EMPTY and st.session_state.get(K.form_result(form_id)):
        return
    _book_on(form_id, other_id, request, f"{form.idempotency_key(form_id, request)}-{other_id}", by_field=True)


def _book_alternative(form_id: str, other_id: str) -> None:
    """One click: the refused request, booked on another session instead."""
    full = st.session_state.get(K.form_full(form_id)) or {}
    if full.get("request"):  # the key: a double click on the same button books once
        _book_on(form_id, other_id, full["request"], f"{full['attempt']}-{other_id}", by_field=False)


def _book_on(form_id: str, other_id: str, request: dict, key: str, *, by_field: bool) -> None:
    """Book `request` on session `other_id` for the form `form_id`; a refusal is shown by its
    field (`by_field`) or above the form."""
    try:
        made = form.book(other_id, request, key)
    except CoreError as exc:
        if by_field:
            form.refused(form_id, exc)
        else:
            st.session_state[K.form_errors(form_id)] = {FORM_LEVEL: form.error_text(exc)}
        return
    form.succeeded(form_id, request, key, made, form_id)


def _field_error(errors: dict, field: str) -> None:
    if errors.get(field):
        st.error(as_text(errors[field]), icon=":material/error:")


def _show_result(session_id: object, version: int) -> None:
    result = st.session_state.get(K.form_result(session_id))
    if not result:
        return
    booked = places(result["seats"])
    if "added" in result:
        st.success(more_places.added_text(result), icon=":material/group_add:")
        return
    if "waiting" in result:
        st.success(f"{as_text(result['contact'])} is number {result['waiting']} on the waiting list, for {booked}. They are "
                   "booked automatically, in turn, as soon as places free up.", icon=":material/hourglass_top:")
        return
    where = ""
    if result["elsewhere"]:
        try:
            where = f" on {shown_label(data.session(result['session_id'], version))}"
        except CoreError:
            where = " on the other session"
    st.success(f"Booked {booked}{where} for {as_text(result['contact'])}. Reference: **{result['reference']}**"
               + (f"  \n{as_text(result['note'])}" if result.get("note") else ""), icon=":material/check_circle:")


def _show_refusal(session: Session, version: int) -> None:
    """The full session's refusal, with its ways out: the waiting list, another session."""
    full = st.session_state.get(K.form_full(session.id))
    if not full:
        return
    seats = full["request"]["seats"]
    st.error(as_text(full["message"]), icon=":material/event_busy:")
    if session.status == "scheduled" and session.starts_at > now_local():
        st.button(f"Put {as_text(full['request']['contact_name']) if full['request']['contact_name'] else 'them'} on the waiting list for {places(seats)}",
                  key=K.form_button(session.id, "wait_refused"), on_click=join_waitlist, args=(str(session.id), True),
                  icon=":material/hourglass_top:")
    _other_sessions(session, seats, version, in_form=False)


def _other_sessions(session: Session, seats: int, version: int, *, in_form: bool) -> None:
    """The nearest sessions of the course with `seats` free, one 'Book here' button each:
    inside a full session's form (books the form's details), or under a refusal (books the
    refused request)."""
    try:
        others = data.alternatives(session.id, seats, version)
    except CoreError as exc:
        st.warning(f"Could not look for other sessions: {as_text(exc)}")
        return
    course = as_text(session.course_type)
    if not others:
        (st.caption if in_form else st.info)(
            f"No other {course} session has {places(seats)} free in the next three months.")
        return
    st.markdown(f"**Or book {places(seats)} on another {course} session:**" if in_form
                else f"**Book {places(seats)} on another {course} session instead:**")
    button, book = (st.form_submit_button, _book_elsewhere) if in_form else (st.button, _book_alternative)
    for other in others:
        button(f"Book here: {session_line(other)}", key=K.alternative_button(session.id, other.id),
               on_click=book, args=(str(session.id), str(other.id)), icon=":material/event_available:",
               width="stretch")


def booking_form(session: Session, version: int) -> None:
    """The booking form for `session`, with its result or its errors."""
    sid = str(session.id)
    if not can("staff"):
        st.info("Booking needs a staff account: you can see this session but not book it.", icon=":material/visibility:")
        return
    # One slot for what comes and goes above the form, so the form keeps its place in the
    # live window from one redraw to the next (a shifted element is drawn anew).
    with st.container():
        _show_result(sid, version)
        _show_refusal(session, version)
        # Kept until the form is used or the window opened again: the window redraws itself
        # on every change, and a notice shown once would be gone at the next.
        notice = st.session_state.get(hold_notice(sid))
        if notice:
            st.info(notice, icon=":material/timer_off:")
    if session.status != "scheduled" or session.starts_at <= now_local():
        if not st.session_state.get(K.form_full(sid)):
            st.info(_not_bookable_text(session), icon=":material/block:")
        return
    hold = my_hold(sid)
    # book: places are free, or held by colleagues (they come back when a hold ends);
    # hold: this form keeps places for the caller; wait: full, only the waiting list is left.
    mode = "hold" if hold else ("book" if session.remaining or session.held else "wait")
    errors = st.session_state.get(K.form_errors(sid)) or {}
    for field in FIELDS:
        st.session_state.setdefault(K.form_field(sid, field), EMPTY[field])
    asked = max(int(st.session_state[K.form_field(sid, "seats")] or 1), 1)
    if mode == "hold":
        label = f"Places * (1 to the {hold['seats']} held)"
    elif session.remaining:
        label = f"Places * (1 to {session.remaining})"
    else:
        label = "Places * (how many the caller wants)"
    with st.form(K.form(sid), border=True, enter_to_submit=False):
        if mode == "hold":
            st.markdown(f"**Holding {places(hold['seats'])} for this caller** until {local_time(hold['expires_at'])}"
                        " · take their details, then book them")
        elif mode == "book" and not session.remaining:
            st.markdown("**Every place left is held for a caller** · booking is refused while the holds last; "
                        "their places come back by themselves when a hold ends")
        elif mode == "book":
            st.markdown(f"**Book places** · {places_text(session, long=True)}")
        else:
            st.markdown("**FULLY BOOKED** · put the caller on the waiting list, or book another session below")
        _field_error(errors, FORM_LEVEL)
        _field_error(errors, "session_id")
        _field_error(errors, "hold_id")
        # Two rows of two: on a phone the columns stack as name, e-mail, phone, company.
        for pair in (("contact_name", "contact_email"), ("contact_phone", "company")):
            for column, field in zip(st.columns(2), pair):
                with column:
                    # No max_chars: the browser would drop a longer paste without a word; the
                    # core refuses it, naming the field and the length.
                    st.text_input(LABELS[field], key=K.form_field(sid, field))
                    _field_error(errors, field)
        # No min or max either: out of range, the browser refuses the number with only a red
        # outline and Confirm does nothing; the core says why, next to the field, and a
        # refusal for want of places comes with its ways out (the waiting list, elsewhere).
        st.number_input(label, step=1, key=K.form_field(sid, "seats"))
        _field_error(errors, "seats")
        if mode != "wait":
            st.text_area("Attendee names (optional, one a line)", key=K.form_field(sid, "attendees"), height=90)
            _field_error(errors, "attendees")
            st.checkbox("No e-mails (a phone-only customer)", key=K.form_field(sid, "no_emails"))
            more_places.offer(sid)
        first, second = st.columns(2)
        if mode == "hold":
            first.form_submit_button("Book the held places", type="primary", on_click=_submit, args=(sid,),
                                     icon=":material/how_to_reg:", key=K.form_submit(sid), width="stretch")
            second.form_submit_button("Release the hold", on_click=release, args=(sid,),
                                      icon=":material/lock_open:", key=K.form_button(sid, "release"), width="stretch")
        elif mode == "book":
            first.form_submit_button("Confirm booking", type="primary", on_click=_submit, args=(sid,),
                                     icon=":material/how_to_reg:", key=K.form_submit(sid), width="stretch")
            if session.remaining:
                second.form_submit_button(f"Hold places ({hold_length_text()})", on_click=place_hold, args=(sid,),
                                          icon=":material/timer:", key=K.form_button(sid, "hold_btn"), width="stretch",
                                          help="Keep the places for this caller while you take their details; "
                                               "colleagues see them as held. They come back by themselves when "
                                               "the time is up.")
            else:
                second.form_submit_button("Join the waiting list", on_click=join_waitlist, args=(sid,),
                                          icon=":material/hourglass_top:", key=K.form_button(sid, "wait"),
                                          width="stretch")
        else:
            first.form_submit_button("Join the waiting list", type="primary", on_click=join_waitlist, args=(sid,),
                                     icon=":material/hourglass_top:", key=K.form_button(sid, "wait"), width="stretch")
            if not st.session_state.get(K.form_full(sid)):
                _other_sessions(session, asked, version, in_form=True)


def _not_bookable_text(session: Session) -> str:
    if session.state == "full":
        return "This session is FULL: no places left. Use another session of the same course."
    if session.state == "cancelled":
        return "This session has been cancelled and cannot be booked."
    return "This session has started or is over, so it cannot be booked any more."

