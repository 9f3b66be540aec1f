"""Booking the same contact again on a session: instead of a refusal and no way forward,
the form offers to add the places asked for to the booking they already have (the same
reference), which is what an office booking for colleagues wants (core.additions).

The offer is kept per form (K.form_more) from the refusal until it is taken, the form is
sent again, or the session is opened anew; a double click on it adds the places once (the
offer's own idempotency key).
"""

from __future__ import annotations

import time

import streamlit as st

from core.additions import add_places
from core.errors import CoreError, DuplicateAttendee, SessionFull
from ui import booking_state as form
from ui import data
from ui import keys as K
from ui.auth import current_actor
from ui.format import places
from ui.text import as_text


def remember(form_id: str, request: dict, exc: DuplicateAttendee) -> None:
    """After the refusal: keep the request and the booking it can be added to."""
    if exc.reference:
        st.session_state[K.form_more(form_id)] = {"request": request, "reference": exc.reference,
                                                  "attempt": form.new_key()}


def forget(form_id: str) -> None:
    st.session_state.pop(K.form_more(form_id), None)


def _add(form_id: str) -> None:
    """Callback of the offer: add the refused request's places to the contact's booking."""
    offer = st.session_state.get(K.form_more(form_id))
    if not offer:
        return  # taken already: a late second click
    request = offer["request"]
    try:
        grown = add_places(data.engine(), offer["reference"], request["seats"],
                           attendees=form.attendee_list(request["attendees"]),
                           idempotency_key=offer["attempt"], actor=current_actor())
    except SessionFull as exc:
        forget(form_id)
        form.refused_full(form_id, request, exc)
        return
    except CoreError as exc:
        st.session_state[K.form_errors(form_id)] = {form.FORM_LEVEL: form.error_text(exc)}
        return
    forget(form_id)
    st.session_state[K.form_errors(form_id)] = {}
    st.session_state[K.form_full(form_id)] = None
    st.session_state[K.form_result(form_id)] = {
        "added": request["seats"], "reference": grown.reference, "seats": grown.seats,
        "contact": grown.contact_name, "email": grown.contact_email.lower(), "at": time.monotonic(),
        "session_id": str(grown.session_id), "elsewhere": False,
    }
    form.clear_fields(form_id)


def offer(form_id: str) -> None:
    """Inside the form, under the refusal: 'Add 2 places to Sam Again's booking BK-...'."""
    kept = st.session_state.get(K.form_more(form_id))
    if not kept:
        return
    request = kept["request"]
    whose = f"{as_text(request['contact_name'])}'s booking" if request["contact_name"] else "their booking"
    st.form_submit_button(f"Add {places(request['seats'])} to {whose} {kept['reference']} instead",
                          type="primary", on_click=_add, args=(form_id,), key=K.form_more_button(form_id),
                          icon=":material/group_add:", width="stretch")


def added_text(result: dict) -> str:
    """The form's result after places were added (markdown; the name shown as typed)."""
    return (f"Added {places(result['added'])} to the booking of {as_text(result['contact'])}: "
            f"{places(result['seats'])} now. Reference: **{result['reference']}**")
