"""Holds in the booking form: places kept for the caller while their details are taken
('Hold places', 'Book the held places', 'Release the hold'), and the session with its live
holds as the detail shows them."""

from __future__ import annotations

import streamlit as st

from core import availability
from core import holds as core_holds
from core.config import utc_now
from core.errors import CoreError, HoldNotActive, SessionFull
from core.models import Hold, Session
from ui import booking_state as form
from ui import data
from ui import keys as K
from ui.auth import current_actor
from ui.format import local_time, places


def hold_state(session_id: object) -> str:
    """This form's live hold: {"id", "seats", "expires_at" (naive UTC)}."""
    return f"{K.form(session_id)}__hold"


def hold_notice(session_id: object) -> str:
    return f"{K.form(session_id)}__hold_notice"


def my_hold(session_id: object, *, drop_ended: bool = True) -> dict | None:
    """The hold this form placed, if it is still running (an ended one is forgotten, with a notice)."""
    hold = st.session_state.get(hold_state(session_id))
    if hold and drop_ended and hold["expires_at"] <= utc_now():
        st.session_state.pop(hold_state(session_id), None)
        st.session_state[hold_notice(session_id)] = (
            f"Your hold of {places(hold['seats'])} ran out at {local_time(hold['expires_at'])}: the places were "
            "given back. Book below if they are still free.")
        return None
    return hold


def place_hold(session_id: str) -> None:
    """Callback of 'Hold places': keep the places in the form for this caller."""
    if st.session_state.get(hold_state(session_id)):
        return  # a late second click: this form already holds places
    request = form.request(session_id)
    st.session_state[K.form_full(session_id)] = None
    try:
        hold = core_holds.place_hold(data.engine(), session_id, request["seats"], actor=current_actor(),
                                     note=request["contact_name"] or None)
    except SessionFull as exc:
        form.refused_full(session_id, request, exc)
        return
    except CoreError as exc:
        form.refused(session_id, exc)
        return
    st.session_state[K.form_errors(session_id)] = {}
    st.session_state.pop(K.form_result(session_id), None)
    st.session_state.pop(hold_notice(session_id), None)
    st.session_state[hold_state(session_id)] = {"id": str(hold.id), "seats": hold.seats,
                                                "expires_at": hold.expires_at}


def book_from_hold(hold: dict, request: dict):
    return core_holds.book_held(
        data.engine(), hold["id"],
        contact_name=request["contact_name"], contact_email=request["contact_email"],
        contact_phone=request["contact_phone"] or None, company=request["company"] or None,
        seats=request["seats"], attendees=form.attendee_list(request["attendees"]), actor=current_actor(),
        emails=form.emails(request),
    )


def release(session_id: str) -> None:
    """Callback of 'Release the hold': give the places back now."""
    hold = st.session_state.pop(hold_state(session_id), None)
    if not hold:
        return
    try:
        core_holds.release_hold(data.engine(), hold["id"], actor=current_actor())
    except HoldNotActive:
        pass  # it had ended anyway: the places are free already
    except CoreError as exc:
        st.session_state[hold_state(session_id)] = hold
        form.refused(session_id, exc)
        return
    st.session_state[K.form_errors(session_id)] = {}
    st.session_state[hold_notice(session_id)] = f"Released the {places(hold['seats'])} you held."


def session_now(session_id: object, version: int) -> tuple[Session, list[Hold]]:
    """The session and its live holds at `version`, read afresh when a hold ran out since:
    expiry writes nothing, so the change version does not move when it happens."""
    s = data.session(session_id, version)
    if not s.held:
        return s, []
    kept = data.holds_of(session_id, version)
    now = utc_now()
    if sum(h.seats for h in kept) == s.held and all(h.expires_at > now for h in kept):
        return s, kept
    engine = data.engine()
    return availability.get_session(engine, session_id), core_holds.list_holds(engine, session_id)
