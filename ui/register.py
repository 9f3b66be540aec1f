"""The register of a session, marked from its detail on the session's day (at the training
room door, on a phone): each seat attended and passed, not passed, or absent; a name for a
seat booked without one. Marking every seat completes the session.
"""

from __future__ import annotations

import streamlit as st

from core import attendance
from core.attendance import Register, Seat
from core.config import today
from core.errors import CoreError
from core.models import Session
from ui import data
from ui import requal_keys as RK
from ui.auth import current_actor
from ui.text import as_text, html_line

CHOICES = {"Passed": "attended_passed", "Not passed": "attended_not_passed", "Absent": "absent"}
SHOWN = {v: k for k, v in CHOICES.items()} | {"attended": None}


def register_open(s: Session) -> bool:
    """The register can be marked from the session's day on, unless it was cancelled."""
    return s.status != "cancelled" and s.session_date <= today()


@st.cache_data(max_entries=48, show_spinner=False)
def _register(url: str, session_id: str, version: int) -> Register:
    return attendance.load_register(data.engine(), session_id)


def _mark(session_id: str, seat: Seat, key: str) -> None:
    choice = st.session_state.get(key)
    if choice not in CHOICES:
        return
    name = (st.session_state.get(RK.register_name(seat.booking_id, seat.seat_no)) or "").strip() or None
    try:
        marked = attendance.mark(data.engine(), seat.booking_id, seat.seat_no, CHOICES[choice],
                                 name=name if seat.name is None else None, actor=current_actor())
    except CoreError as exc:
        st.session_state[RK.register_said(session_id)] = ("error", str(exc))
        return
    who = name or seat.name
    done = " The register is complete: the session is marked completed." if marked.complete else ""
    st.session_state[RK.register_said(session_id)] = ("success", f"{as_text(who)}: {choice.lower()}.{done}")


def register_panel(s: Session, version: int) -> None:
    """Every seat of the session's confirmed bookings with its outcome control."""
    if not register_open(s):
        st.info(f"The register opens on the session's day, {s.session_date:%A %-d %B}.", icon=":material/event:")
        return
    register = _register(data.database_url(), str(s.id), version)
    said = st.session_state.get(RK.register_said(str(s.id)))  # kept until the next mark (the part reruns)
    if said:
        (st.success if said[0] == "success" else st.error)(said[1])
    if not register.seats:
        st.info("Nobody is booked on this session.", icon=":material/group_off:")
        return
    state = "complete" if register.complete else f"{len(register.seats) - register.marked} to mark"
    st.markdown(f"**Register** · {register.marked} of {len(register.seats)} marked · {state}")
    for n, seat in enumerate(register.seats, start=1):
        _seat_row(str(s.id), n, seat)


def _seat_row(session_id: str, n: int, seat: Seat) -> None:
    with st.container(border=True, key=f"reg_row_{seat.booking_id}_{seat.seat_no}"):
        name = seat.name if seat.name is not None else "Name to be given"
        st.html(html_line(f"{n}. {name}", seat.company, seat.reference))
        if seat.name is None:
            st.text_input("Attendee name (booked without one)", key=RK.register_name(seat.booking_id, seat.seat_no),
                          max_chars=200, placeholder=f"booked by {seat.contact_name}")
        key = RK.register_outcome(seat.booking_id, seat.seat_no, seat.outcome)
        st.segmented_control(f"Outcome for {as_text(name)}", list(CHOICES), key=key,
                             default=SHOWN.get(seat.outcome), label_visibility="collapsed",
                             on_change=_mark, args=(session_id, seat, key), width="stretch")
        if seat.certificate:
            st.caption(f"Certificate {as_text(seat.certificate)}")
