"""What a session's booking form keeps in st.session_state, shared by the form, the hold
and the waiting list: the caller's details as typed, the errors by field, the refusal of a
full session, and the idempotency key of this form instance.

Double clicks and resubmits cannot book twice: every form instance has an idempotency key
kept in session_state; after a success a new key is made, and a resubmit of the very same
details still carries the old key, so the core returns the first booking.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import streamlit as st

from core import booking as core_booking
from core.errors import CoreError, SessionFull
from ui import data
from ui import keys as K
from ui.auth import current_actor

FIELDS = ("contact_name", "contact_email", "contact_phone", "company", "seats", "attendees", "no_emails")
EMPTY = {"contact_name": "", "contact_email": "", "contact_phone": "", "company": "", "seats": 1, "attendees": "",
         "no_emails": False}
FORM_LEVEL = "_form"


def new_key() -> str:
    return uuid.uuid4().hex


def _fingerprint(session_id: object, request: dict) -> str:
    raw = json.dumps([str(session_id), request], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def request(session_id: object) -> dict:
    """The caller's details as typed in the form of `session_id`."""
    values = {f: st.session_state.get(K.form_field(session_id, f), EMPTY[f]) for f in FIELDS}
    values["seats"] = int(values["seats"] or 0)
    return values


def attendee_list(text: str) -> list[str] | None:
    names = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return names or None


def idempotency_key(session_id: object, request: dict) -> str:
    """This form instance's key; the previous one for an exact resubmit of a success."""
    state = st.session_state.setdefault(K.form_idempotency(session_id), {"key": new_key(), "last": None})
    last = state["last"]
    if last and last[0] == _fingerprint(session_id, request):
        return last[1]
    return state["key"]


def book(session_id: object, request: dict, key: str):
    return core_booking.book(
        data.engine(), session_id,
        contact_name=request["contact_name"], contact_email=request["contact_email"],
        contact_phone=request["contact_phone"] or None, company=request["company"] or None,
        seats=request["seats"], attendees=attendee_list(request["attendees"]),
        idempotency_key=key, actor=current_actor(), emails=emails(request),
    )


def emails(request: dict) -> str:
    """Who hears about the booking (core.booking.EMAILS): nobody for a phone-only customer."""
    return "none" if request.get("no_emails") else "contact"


def error_text(exc: CoreError) -> str:
    """The core's own sentence: a refusal says why, DatabaseUnavailable says the database is away
    (a bug is not caught, so it never reads as either)."""
    return str(exc)


def refused(form_id: str, exc: CoreError, fields: dict | None = None) -> None:
    """Record a core error next to its field (`fields` renames the core's field names)."""
    field = (fields or {}).get(getattr(exc, "field", None), getattr(exc, "field", None))
    st.session_state[K.form_errors(form_id)] = {field if field in FIELDS else FORM_LEVEL: error_text(exc)}


def refused_full(session_id: str, request: dict, exc: SessionFull) -> None:
    """The session had not the places asked: said at the places field, and kept for the
    refusal's way out (the waiting list, another session)."""
    st.session_state[K.form_errors(session_id)] = {"seats": str(exc)}
    st.session_state[K.form_full(session_id)] = {"request": request, "remaining": exc.remaining,
                                                 "message": str(exc), "attempt": new_key()}


def clear_fields(form_id: str) -> None:
    for field in FIELDS:
        st.session_state[K.form_field(form_id, field)] = EMPTY[field]


def succeeded(form_id: str, request: dict, key: str, made, where: object) -> None:
    state = st.session_state.setdefault(K.form_idempotency(form_id), {"key": key, "last": None})
    state["last"] = (_fingerprint(form_id, request), key)
    state["key"] = new_key()
    st.session_state[K.form_errors(form_id)] = {}
    st.session_state[K.form_full(form_id)] = None
    st.session_state[K.form_result(form_id)] = {
        "reference": made.reference, "seats": made.seats, "contact": made.contact_name,
        "email": made.contact_email.lower(), "at": time.monotonic(),
        "session_id": str(made.session_id), "elsewhere": str(made.session_id) != str(where),
    }
    clear_fields(form_id)


def fresh_form(session_id: object) -> None:
    """Forget the last result, errors and refusal of a session's form (it is opened anew).

    The idempotency key stays: it belongs to the form instance until a booking succeeds.
    """
    for key in (K.form_result(session_id), K.form_errors(session_id), K.form_full(session_id),
                K.form_more(session_id), K.booking_feedback(session_id)):
        st.session_state.pop(key, None)
