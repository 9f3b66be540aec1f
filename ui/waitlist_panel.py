"""The waiting list from the booking form: 'Join the waiting list' with the form's details,
or with the request a full session refused."""

from __future__ import annotations

import streamlit as st

from core import waitlist as core_waitlist
from core.errors import CoreError
from ui import booking_state as form
from ui import data
from ui import keys as K
from ui.auth import current_actor

WAITLIST_FIELDS = {"name": "contact_name", "email": "contact_email"}


def join_waitlist(form_id: str, from_refusal: bool = False) -> None:
    """Callback of 'Join the waiting list': the form's details (or the refused request)."""
    full = st.session_state.get(K.form_full(form_id)) or {}
    request = full.get("request") if from_refusal else form.request(form_id)
    if not request or (request == form.EMPTY and st.session_state.get(K.form_result(form_id))):
        return  # a late second click, after the form was cleared
    try:
        entry = core_waitlist.join_waitlist(
            data.engine(), form_id, name=request["contact_name"], email=request["contact_email"],
            phone=request["contact_phone"] or None, company=request["company"] or None,
            seats=request["seats"], actor=current_actor())
    except CoreError as exc:
        form.refused(form_id, exc, WAITLIST_FIELDS)
        return
    st.session_state[K.form_errors(form_id)] = {}
    st.session_state[K.form_full(form_id)] = None
    st.session_state[K.form_result(form_id)] = {"waiting": entry.position, "seats": entry.seats,
                                                "contact": entry.name}
    form.clear_fields(form_id)
