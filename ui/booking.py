"""Staff booking form, the "it filled up meanwhile" path, and cancel / move of bookings.

Writes happen in button callbacks (they run before the script, so each error can be
shown next to the field it concerns on the very run that follows). Double clicks and
resubmits cannot book twice: every form instance has an idempotency key kept in
session_state; after a success a new key is made, and a resubmit of the very same
details still carries the old key, so the core returns the first booking.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
import uuid

import streamlit as st

from core import availability
from core import booking as core_booking
from core import holds as core_holds
from core import waitlist as core_waitlist
from core.access import Actor
from core.config import get_settings, now_local, utc_now
from core.errors import BookingError, HoldNotActive, SessionFull
from core.models import Hold, Session
from ui import data
from ui import keys as K
from ui.events import places_text, times_text
from ui.text import as_html, as_text, html_line, isolated

FIELDS = ("contact_name", "contact_email", "contact_phone", "company", "seats", "attendees")
EMPTY = {"contact_name": "", "contact_email": "", "contact_phone": "", "company": "", "seats": 1, "attendees": ""}
FORM_LEVEL = "_form"
LABELS = {"contact_name": "Contact name *", "contact_email": "E-mail *", "contact_phone": "Phone", "company": "Company"}
MAX_CHARS = {"contact_name": 200, "contact_email": 254, "contact_phone": 40, "company": 200}


def actor() -> Actor | None:
    """Who is at the desk (ui.auth): the signed-in person and their role; in local demo
    mode the name typed in the sidebar, as an admin. None: nobody; the core refuses."""
    from ui.auth import current_actor

    return current_actor()


def can_change() -> bool:
    """Book, cancel and move are for staff and admins (the core checks again)."""
    from ui.auth import can

    return can("staff")


def _new_key() -> str:
    return uuid.uuid4().hex


def _fingerprint(session_id: object, request: dict) -> str:
    raw = json.dumps([str(session_id), request], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _request(session_id: object) -> dict:
    values = {f: st.session_state.get(K.form_field(session_id, f), EMPTY[f]) for f in FIELDS}
    values["seats"] = int(values["seats"] or 0)
    return values


def _attendee_list(text: str) -> list[str] | None:
    names = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return names or None


def _idempotency_key(session_id: object, request: dict) -> str:
    """This form instance's key; the previous one for an exact resubmit of a success."""
    state = st.session_state.setdefault(K.form_idempotency(session_id), {"key": _new_key(), "last": None})
    last = state["last"]
    if last and last[0] == _fingerprint(session_id, request):
        return last[1]
    return state["key"]


def _book(session_id: object, request: dict, key: str):
    return core_booking.book(
        data.engine(), session_id,
        contact_name=request["contact_name"], contact_email=request["contact_email"],
        contact_phone=request["contact_phone"] or None, company=request["company"] or None,
        seats=request["seats"], attendees=_attendee_list(request["attendees"]),
        idempotency_key=key, actor=actor(),
    )


def _error_text(exc: Exception) -> str:
    if isinstance(exc, BookingError):
        return str(exc)
    return f"Nothing was saved: the database could not be reached ({type(exc).__name__}). Try again in a moment."


def _submit(session_id: str) -> None:
    """Callback of the Confirm button: book, or record why not (by field)."""
    request = _request(session_id)
    if _second_click(request, st.session_state.get(K.form_result(session_id))):
        return
    key = _idempotency_key(session_id, request)
    st.session_state[K.form_full(session_id)] = None
    note = None
    hold = my_hold(session_id, drop_ended=False)
    try:
        if hold:  # the core books the hold, or the places if the hold ended and they are free
            held = _book_from_hold(hold, request)
            st.session_state.pop(hold_state(session_id), None)
            made, note = held.booking, held.note
        else:
            made = _book(session_id, request, key)
    except SessionFull as exc:
        if hold:  # it had ended, and its places went meanwhile
            st.session_state.pop(hold_state(session_id), None)
        st.session_state[K.form_errors(session_id)] = {"seats": str(exc)}
        st.session_state[K.form_full(session_id)] = {"request": request, "remaining": exc.remaining,
                                                     "message": str(exc), "attempt": _new_key()}
        return
    except Exception as exc:  # every core error is shown as its message, by its field
        _refused(session_id, exc)
        return
    _succeeded(session_id, request, key, made, session_id)
    if note:
        st.session_state[K.form_result(session_id)]["note"] = note


DOUBLE_CLICK_SECONDS = 3.0


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


def _refused(form_id: str, exc: Exception, fields: dict | None = None) -> None:
    """Record a core error next to its field (`fields` renames the core's field names)."""
    field = (fields or {}).get(getattr(exc, "field", None), getattr(exc, "field", None))
    st.session_state[K.form_errors(form_id)] = {field if field in FIELDS else FORM_LEVEL: _error_text(exc)}


# --- holds: places kept for the caller while their details are taken -----------------------


def hold_state(session_id: object) -> str:
    """This form's live hold: {"id", "seats", "expires_at" (naive UTC)}."""
    return f"{K.form(session_id)}__hold"


def _hold_notice(session_id: object) -> str:
    return f"{K.form(session_id)}__hold_notice"


def my_hold(session_id: object, *, drop_ended: bool = True) -> dict | None:
    """The hold this form placed, if it is still running (an ended one is forgotten, with a notice)."""
    hold = st.session_state.get(hold_state(session_id))
    if hold and drop_ended and hold["expires_at"] <= utc_now():
        st.session_state.pop(hold_state(session_id), None)
        st.session_state[_hold_notice(session_id)] = (
            f"Your hold of {_places(hold['seats'])} ran out at {local_time(hold['expires_at'])}: the places were "
            "given back. Book below if they are still free.")
        return None
    return hold


def local_time(naive_utc: dt.datetime) -> str:
    """'14:05' at the sites, for a naive UTC time from the core."""
    return f"{naive_utc.replace(tzinfo=dt.timezone.utc).astimezone(get_settings().timezone):%H:%M}"


def time_left(hold: Hold, now_utc: dt.datetime) -> str:
    """'7 min left' (rounded up), '40 s left' in the last minute."""
    seconds = hold.seconds_left(now_utc)
    return f"{seconds} s left" if seconds < 60 else f"{math.ceil(seconds / 60)} min left"


def hold_length_text() -> str:
    minutes = get_settings().hold_minutes
    return f"{round(minutes * 60)} s" if minutes < 1 else f"{minutes:g} min"


def _places(n: int) -> str:
    return f"{n} place{'s' if n != 1 else ''}"


def _hold(session_id: str) -> None:
    """Callback of 'Hold places': keep the places in the form for this caller."""
    if st.session_state.get(hold_state(session_id)):
        return  # a late second click: this form already holds places
    request = _request(session_id)
    st.session_state[K.form_full(session_id)] = None
    try:
        hold = core_holds.place_hold(data.engine(), session_id, request["seats"], actor=actor(),
                                     note=request["contact_name"] or None)
    except SessionFull as exc:
        st.session_state[K.form_errors(session_id)] = {"seats": str(exc)}
        st.session_state[K.form_full(session_id)] = {"request": request, "remaining": exc.remaining,
                                                     "message": str(exc), "attempt": _new_key()}
        return
    except Exception as exc:
        _refused(session_id, exc)
        return
    st.session_state[K.form_errors(session_id)] = {}
    st.session_state.pop(K.form_result(session_id), None)
    st.session_state[hold_state(session_id)] = {"id": str(hold.id), "seats": hold.seats,
                                                "expires_at": hold.expires_at}


def _book_from_hold(hold: dict, request: dict):
    return core_holds.book_held(
        data.engine(), hold["id"],
        contact_name=request["contact_name"], contact_email=request["contact_email"],
        contact_phone=request["contact_phone"] or None, company=request["company"] or None,
        seats=request["seats"], attendees=_attendee_list(request["attendees"]), actor=actor(),
    )


def _release(session_id: str) -> None:
    """Callback of 'Release the hold': give the places back now."""
    hold = st.session_state.pop(hold_state(session_id), None)
    if not hold:
        return
    try:
        core_holds.release_hold(data.engine(), hold["id"], actor=actor())
    except HoldNotActive:
        pass  # it had ended anyway: the places are free already
    except Exception as exc:
        st.session_state[hold_state(session_id)] = hold
        _refused(session_id, exc)
        return
    st.session_state[K.form_errors(session_id)] = {}
    st.session_state[_hold_notice(session_id)] = f"Released the {_places(hold['seats'])} you held."


# --- the waiting list --------------------------------------------------------------------


WAITLIST_FIELDS = {"name": "contact_name", "email": "contact_email"}


def _join_waitlist(form_id: str, from_refusal: bool = False) -> None:
    """Callback of 'Join the waiting list': the form's details (or the refused request)."""
    full = st.session_state.get(K.form_full(form_id)) or {}
    request = full.get("request") if from_refusal else _request(form_id)
    if not request or (request == EMPTY and st.session_state.get(K.form_result(form_id))):
        return  # a late second click, after the form was cleared
    try:
        entry = core_waitlist.join_waitlist(
            data.engine(), form_id, name=request["contact_name"], email=request["contact_email"],
            phone=request["contact_phone"] or None, company=request["company"] or None,
            seats=request["seats"], actor=actor())
    except Exception as exc:
        _refused(form_id, exc, WAITLIST_FIELDS)
        return
    st.session_state[K.form_errors(form_id)] = {}
    st.session_state[K.form_full(form_id)] = None
    st.session_state[K.form_result(form_id)] = {"waiting": entry.position, "seats": entry.seats,
                                                "contact": entry.name}
    for field in FIELDS:
        st.session_state[K.form_field(form_id, field)] = EMPTY[field]


def _book_elsewhere(form_id: str, other_id: str) -> None:
    """One click on a full session's form: the caller's details, booked on another session."""
    request = _request(form_id)
    if request == EMPTY and st.session_state.get(K.form_result(form_id)):
        return
    key = f"{_idempotency_key(form_id, request)}-{other_id}"
    try:
        made = _book(other_id, request, key)
    except Exception as exc:
        _refused(form_id, exc)
        return
    _succeeded(form_id, request, key, made, form_id)


@st.cache_data(max_entries=48, show_spinner=False)
def _cached_holds(url: str, session_id: str, version: int) -> list[Hold]:
    return core_holds.list_holds(data.engine(), session_id)


def session_now(session_id: object, version: int) -> tuple[Session, list[Hold]]:
    """The session and its live holds at `version`, read afresh when a hold ran out since:
    expiry writes nothing, so the change version does not move when it happens."""
    s = data.session(session_id, version)
    if not s.held:
        return s, []
    kept = _cached_holds(data.database_url(), str(session_id), version)
    now = utc_now()
    if sum(h.seats for h in kept) == s.held and all(h.expires_at > now for h in kept):
        return s, kept
    engine = data.engine()
    return availability.get_session(engine, session_id), core_holds.list_holds(engine, session_id)


def _succeeded(form_id: str, request: dict, key: str, made, where: object) -> None:
    state = st.session_state.setdefault(K.form_idempotency(form_id), {"key": key, "last": None})
    state["last"] = (_fingerprint(form_id, request), key)
    state["key"] = _new_key()
    st.session_state[K.form_errors(form_id)] = {}
    st.session_state[K.form_full(form_id)] = None
    st.session_state[K.form_result(form_id)] = {
        "reference": made.reference, "seats": made.seats, "contact": made.contact_name,
        "email": made.contact_email.lower(), "at": time.monotonic(),
        "session_id": str(made.session_id), "elsewhere": str(made.session_id) != str(where),
    }
    for field in FIELDS:
        st.session_state[K.form_field(form_id, field)] = EMPTY[field]


def _book_alternative(form_id: str, other_id: str) -> None:
    """One click: the refused request, booked on another session instead."""
    full = st.session_state.get(K.form_full(form_id)) or {}
    request = full.get("request")
    if not request:
        return
    key = f"{full['attempt']}-{other_id}"  # a double click on the same button books once
    try:
        made = _book(other_id, request, key)
    except Exception as exc:
        st.session_state[K.form_errors(form_id)] = {FORM_LEVEL: _error_text(exc)}
        return
    _succeeded(form_id, request, key, made, form_id)


def fresh_form(session_id: object) -> None:
    """Forget the last result, errors and refusal of a session's form (it is opened anew).

    The idempotency key stays: it belongs to the form instance until a booking succeeds.
    """
    for key in (K.form_result(session_id), K.form_errors(session_id), K.form_full(session_id),
                K.booking_feedback(session_id)):
        st.session_state.pop(key, None)


def _field_error(errors: dict, field: str) -> None:
    if errors.get(field):
        st.error(as_text(errors[field]), icon=":material/error:")


def session_line(s: Session, *, shown=as_text) -> str:
    """'First Aid at Work, Tue 3 Dec, Location A, 09:00–16:30 (5 left)', the course name shown
    by `shown` (as_text for markdown labels, isolated for plain-text options)."""
    return f"{shown_label(s, shown=shown)}, {times_text(s)} ({places_text(s)})"


def shown_label(s: Session, *, shown=as_text) -> str:
    """Session.label ('First Aid at Work, Tue 3 Dec, Location A') with its course name shown by `shown`."""
    return shown(s.course_type) + s.label.removeprefix(s.course_type)


def _show_result(session_id: object, version: int) -> None:
    result = st.session_state.get(K.form_result(session_id))
    if not result:
        return
    places = f"{result['seats']} place{'s' if result['seats'] != 1 else ''}"
    if "waiting" in result:
        st.success(f"{as_text(result['contact'])} is number {result['waiting']} on the waiting list, for {places}. They are "
                   "booked automatically, in turn, as soon as places free up.", icon=":material/hourglass_top:")
        return
    where = ""
    if result["elsewhere"]:
        try:
            where = f" on {shown_label(data.session(result['session_id'], version))}"
        except Exception:
            where = " on the other session"
    st.success(f"Booked {places}{where} for {as_text(result['contact'])}. Reference: **{result['reference']}**"
               + (f"  \n{as_text(result['note'])}" if result.get("note") else ""), icon=":material/check_circle:")


def _show_alternatives(session: Session, version: int) -> None:
    full = st.session_state.get(K.form_full(session.id))
    if not full:
        return
    seats = full["request"]["seats"]
    st.error(as_text(full["message"]), icon=":material/event_busy:")
    if session.status == "scheduled" and session.starts_at > now_local():
        st.button(f"Put {as_text(full['request']['contact_name']) if full['request']['contact_name'] else 'them'} on the waiting list for {_places(seats)}",
                  key=f"{K.form(session.id)}__wait_refused", on_click=_join_waitlist, args=(str(session.id), True),
                  icon=":material/hourglass_top:")
    try:
        others = data.alternatives(session.id, seats, version)
    except Exception as exc:
        st.warning(f"Could not look for other sessions: {as_text(exc)}")
        return
    if not others:
        st.info(f"No other {as_text(session.course_type)} session has {seats} place{'s' if seats != 1 else ''} free "
                "in the next three months.")
        return
    st.markdown(f"**Book {seats} place{'s' if seats != 1 else ''} on another {as_text(session.course_type)} session instead:**")
    for other in others:
        st.button(f"Book here: {session_line(other)}", key=K.alternative_button(session.id, other.id),
                  on_click=_book_alternative, args=(str(session.id), str(other.id)),
                  icon=":material/event_available:", width="stretch")


def booking_form(session: Session, version: int) -> None:
    """The booking form for `session`, with its result or its errors."""
    sid = str(session.id)
    if not can_change():
        st.info("Booking needs a staff account: you can see this session but not book it.", icon=":material/visibility:")
        return
    _show_result(sid, version)
    _show_alternatives(session, version)
    notice = st.session_state.pop(_hold_notice(sid), None)
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
    asked = int(st.session_state[K.form_field(sid, "seats")] or 1)
    if mode == "hold":
        top, label = hold["seats"], f"Places * (1 to the {hold['seats']} held)"
    elif session.remaining:
        top, label = max(session.remaining, 1, asked), f"Places * (1 to {session.remaining})"
    else:
        top, label = max(session.max_capacity, asked), "Places * (how many the caller wants)"
    with st.form(K.form(sid), border=True, enter_to_submit=False):
        if mode == "hold":
            st.markdown(f"**Holding {_places(hold['seats'])} for this caller** until {local_time(hold['expires_at'])}"
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
                    st.text_input(LABELS[field], key=K.form_field(sid, field), max_chars=MAX_CHARS[field])
                    _field_error(errors, field)
        st.number_input(label, min_value=1, max_value=top, step=1, key=K.form_field(sid, "seats"))
        _field_error(errors, "seats")
        if mode != "wait":
            st.text_area("Attendee names (optional, one a line)", key=K.form_field(sid, "attendees"), height=90)
            _field_error(errors, "attendees")
        first, second = st.columns(2)
        if mode == "hold":
            first.form_submit_button("Book the held places", type="primary", on_click=_submit, args=(sid,),
                                     icon=":material/how_to_reg:", key=K.form_submit(sid), width="stretch")
            second.form_submit_button("Release the hold", on_click=_release, args=(sid,),
                                      icon=":material/lock_open:", key=f"{K.form(sid)}__release", width="stretch")
        elif mode == "book":
            first.form_submit_button("Confirm booking", type="primary", on_click=_submit, args=(sid,),
                                     icon=":material/how_to_reg:", key=K.form_submit(sid), width="stretch")
            if session.remaining:
                second.form_submit_button(f"Hold places ({hold_length_text()})", on_click=_hold, args=(sid,),
                                          icon=":material/timer:", key=f"{K.form(sid)}__hold_btn", width="stretch",
                                          help="Keep the places for this caller while you take their details; "
                                               "colleagues see them as held. They come back by themselves when "
                                               "the time is up.")
            else:
                second.form_submit_button("Join the waiting list", on_click=_join_waitlist, args=(sid,),
                                          icon=":material/hourglass_top:", key=f"{K.form(sid)}__wait",
                                          width="stretch")
        else:
            first.form_submit_button("Join the waiting list", type="primary", on_click=_join_waitlist, args=(sid,),
                                     icon=":material/hourglass_top:", key=f"{K.form(sid)}__wait", width="stretch")
            if not st.session_state.get(K.form_full(sid)):
                _elsewhere_buttons(session, asked, version)


def _elsewhere_buttons(session: Session, seats: int, version: int) -> None:
    """Inside a full session's form: the nearest sessions of the course with room, one click each."""
    try:
        others = data.alternatives(session.id, seats, version)
    except Exception as exc:
        st.warning(f"Could not look for other sessions: {as_text(exc)}")
        return
    if not others:
        st.caption(f"No other {as_text(session.course_type)} session has {_places(seats)} free in the next three months.")
        return
    st.markdown(f"**Or book {_places(seats)} on another {as_text(session.course_type)} session:**")
    for other in others:
        st.form_submit_button(f"Book here: {session_line(other)}", on_click=_book_elsewhere,
                              args=(str(session.id), str(other.id)), icon=":material/event_available:",
                              key=K.alternative_button(session.id, other.id), width="stretch")


def _not_bookable_text(session: Session) -> str:
    if session.state == "full":
        return "This session is FULL: no places left. Use another session of the same course."
    if session.state == "cancelled":
        return "This session has been cancelled and cannot be booked."
    return "This session has started or is over, so it cannot be booked any more."


# --- existing bookings: cancel and move ------------------------------------------------


def _cancel(session_id: str, booking_id: str, reference: str) -> None:
    try:
        core_booking.cancel(data.engine(), booking_id, actor=actor())
    except Exception as exc:
        st.session_state[K.booking_feedback(session_id)] = ("error", f"{reference}: {_error_text(exc)}")
    else:
        st.session_state[K.booking_feedback(session_id)] = ("success", f"Booking {reference} cancelled; its places are free again.")


def _move(session_id: str, booking_id: str, reference: str) -> None:
    target = st.session_state.get(K.booking_action(booking_id, "move_to"))
    if not target:
        st.session_state[K.booking_feedback(session_id)] = ("error", f"{reference}: choose a session to move to.")
        return
    try:
        moved = core_booking.move(data.engine(), booking_id, target, actor=actor())
    except Exception as exc:
        st.session_state[K.booking_feedback(session_id)] = ("error", f"{reference}: {_error_text(exc)}")
    else:
        try:
            label = shown_label(availability.get_session(data.engine(), moved.session_id), shown=isolated)
        except Exception:
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
    st.caption(f"{len(live)} booking{'s' if len(live) != 1 else ''} · {seats} place{'s' if seats != 1 else ''}"
               f" of {session.max_capacity}")
    for b in live:
        people = ", ".join(as_html(a.name) for a in b.attendees) or "names not given yet"
        status = "" if b.status == "confirmed" else f" · **{b.status.upper()}**"
        title = f"{b.reference} · {as_text(b.contact_name)} · {b.seats} place{'s' if b.seats != 1 else ''}{status}"
        with st.expander(title):
            # HTML, not markdown: the e-mail and phone are copied exactly as shown
            st.html(html_line(b.company or "No company", b.contact_email, b.contact_phone or "no phone")
                    + f'<div class="people-line">Attendees: {people}</div>')
            if not can_change():
                continue  # viewers see who is booked, without cancel and move
            cancel_col, move_col = st.columns(2)
            with cancel_col:
                sure = st.checkbox("Yes, cancel this booking", key=K.booking_action(b.id, "sure"))
                st.button("Cancel booking", key=K.booking_action(b.id, "cancel"), disabled=not sure,
                          on_click=_cancel, args=(sid, str(b.id), b.reference), icon=":material/cancel:")
            with move_col:
                try:
                    targets = data.alternatives(sid, b.seats, version, limit=10)
                except Exception:
                    targets = []
                options = [str(t.id) for t in targets]
                labels = {str(t.id): session_line(t, shown=str) for t in targets}
                st.selectbox("Move to", options, key=K.booking_action(b.id, "move_to"), index=None,
                             format_func=labels.get, placeholder="Another session of this course",
                             disabled=not options)
                st.button("Move booking", key=K.booking_action(b.id, "move"), disabled=not options,
                          on_click=_move, args=(sid, str(b.id), b.reference), icon=":material/move_up:")
