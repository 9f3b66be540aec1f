"""Schedule: edit, resize or cancel a scheduled session (a cut or a cancellation that
affects people goes through ui/schedule_preview.py first), and mark past sessions completed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from core import previews, reports
from core import sessions as core_sessions
from core import wording
from core.config import get_settings, today
from core.models import LOCATIONS, CourseType, Session
from core.errors import CoreError
from ui import data
from ui import ops_keys as OK
from ui.auth import current_actor
from ui.filters import Filters
from ui.format import course_label, day_text, session_label, shown_label
from ui.schedule_feedback import failed, rebook_rows, say, show_feedback
from ui.schedule_preview import PREVIEW, preview_panel
from ui.text import isolated


def _edit_values(session_id: str) -> dict:
    ss = st.session_state
    return dict(
        course_type=ss[OK.edit_field(session_id, "course")], session_date=ss[OK.edit_field(session_id, "date")],
        start_time=ss[OK.edit_field(session_id, "start")], end_time=ss[OK.edit_field(session_id, "end")],
        location=ss[OK.edit_field(session_id, "location")],
        instructor_notes=ss[OK.edit_field(session_id, "notes")] or None,
    )


def _save_edit(session_id: str) -> None:
    try:
        made = core_sessions.update_session(data.engine(), session_id, actor=current_actor(), **_edit_values(session_id))
    except CoreError as exc:  # shown to the user; nothing was saved
        failed("edit", exc)
        return
    say("edit", "success", f"Saved: {shown_label(made, shown=isolated)}, {made.start_time:%H:%M}-{made.end_time:%H:%M}.")


def _save_capacity(session_id: str) -> None:
    """'Change capacity': at once when everyone still fits; else the preview first."""
    wanted = st.session_state[OK.edit_field(session_id, "capacity")]
    st.session_state.pop(PREVIEW, None)
    try:
        seen = previews.preview_capacity(data.engine(), session_id, wanted)
        if seen.affected or seen.blocked_by_holds:
            st.session_state[PREVIEW] = dict(kind="capacity", session_id=session_id, capacity=wanted)
            st.session_state.pop(OK.FEEDBACK, None)
            return
        made = core_sessions.set_capacity(data.engine(), session_id, wanted, actor=current_actor())
    except CoreError as exc:  # CapacityBelowBooked names who would not fit
        failed("edit", exc)
        return
    say("edit", "success", f"{shown_label(made, shown=isolated)} now has {made.max_capacity} places ({made.remaining} left).")


def _ask_cancel(session_id: str, label: str) -> None:
    """'Cancel session': show who is affected first; cancel at once only an empty session."""
    st.session_state.pop(PREVIEW, None)
    try:
        seen = previews.preview_cancel(data.engine(), session_id)
    except CoreError as exc:
        failed("edit", exc)
        return
    if seen.affected or seen.holds or seen.waiting:
        st.session_state[PREVIEW] = dict(kind="cancel", session_id=session_id,
                                         reason=st.session_state.get(OK.CANCEL_REASON) or None)
        st.session_state.pop(OK.FEEDBACK, None)
        return
    st.session_state[OK.CANCEL_CONFIRM] = True
    _cancel(session_id, label)



def _cancel(session_id: str, label: str) -> None:
    if not st.session_state.get(OK.CANCEL_CONFIRM):
        say("edit", "warning", "Tick the box to confirm the cancellation first: nothing was changed.")
        return
    try:
        to_rebook = core_sessions.cancel_session(data.engine(), session_id, actor=current_actor(),
                                                 reason=st.session_state.get(OK.CANCEL_REASON) or None)
    except CoreError as exc:  # shown to the user; nothing was saved
        failed("edit", exc)
        return
    st.session_state[OK.CANCEL_CONFIRM] = False
    if to_rebook:
        places = sum(b.seats for b in to_rebook)
        which = ("This booking" if len(to_rebook) == 1 else f"These {len(to_rebook)} bookings")
        say("edit", "warning", f"Cancelled {label}. {which} ({wording.places(places)}) "
                               f"{'is' if len(to_rebook) == 1 else 'are'} marked for rebooking; nothing was deleted. "
                               "Contact each one to offer another date:",
            rebook_rows(to_rebook))
    else:
        say("edit", "success", f"Cancelled {label}. It had no bookings.")


def _complete_past() -> None:
    try:
        done = core_sessions.complete_past_sessions(data.engine(), actor=current_actor())
    except CoreError as exc:  # shown to the user; nothing was saved
        failed("complete", exc)
        return
    say("complete", "success", f"Marked {wording.count(done, 'past session')} completed.")


def edit_panel(types: Sequence[CourseType], filters: Filters, version: int) -> None:
    show_feedback("edit")
    start = filters.date_from or today()
    end = filters.date_to or start + dt.timedelta(weeks=8)
    found = [s for s in data.sessions(start, end, filters, version) if s.status == "scheduled"]
    st.caption(f"Scheduled sessions from {day_text(start)} to {day_text(end)} matching the sidebar filters "
               f"({len(found)}). Change From and To in the sidebar to reach other dates.")
    if not found:
        st.info("No scheduled sessions match. Widen the dates or filters in the sidebar.", icon=":material/event_busy:")
    else:
        by_id = {str(s.id): s for s in found}
        picked = st.selectbox("Session", list(by_id), key=OK.EDIT_PICK, format_func=lambda i: session_label(by_id[i]))
        _session_forms(by_id[picked or next(iter(by_id))], types)
    st.divider()
    complete_panel()


def _session_forms(s: Session, types: Sequence[CourseType]) -> None:
    sid, names, limit = str(s.id), [t.name for t in types], get_settings().capacity_limit
    details, capacity, cancel = st.columns([3, 2, 2], gap="large")
    with details, st.form(OK.EDIT_FORM):
        st.markdown("**Details**")
        st.selectbox("Course", names, index=names.index(s.course_type) if s.course_type in names else 0,
                     key=OK.edit_field(sid, "course"), format_func=course_label(types))
        a, b = st.columns(2)
        a.date_input("Date", value=s.session_date, key=OK.edit_field(sid, "date"), format="DD/MM/YYYY")
        b.selectbox("Location", LOCATIONS, index=LOCATIONS.index(s.location), key=OK.edit_field(sid, "location"))
        a, b = st.columns(2)
        a.time_input("Starts", value=s.start_time, step=dt.timedelta(minutes=15), key=OK.edit_field(sid, "start"))
        b.time_input("Ends", value=s.end_time, step=dt.timedelta(minutes=15), key=OK.edit_field(sid, "end"))
        st.text_area("Instructor notes", value=s.instructor_notes or "", key=OK.edit_field(sid, "notes"), height=80)
        st.form_submit_button("Save changes", type="primary", key=OK.edit_field(sid, "save"),
                              on_click=_save_edit, args=(sid,), icon=":material/save:")
    with capacity, st.form(OK.CAP_FORM):
        st.markdown("**Places**")
        st.number_input("Capacity", min_value=1, max_value=limit, value=s.max_capacity, step=1,
                        key=OK.edit_field(sid, "capacity"),
                        help=f"{s.current_bookings} places are booked: it cannot go below that.")
        st.caption(f"{s.current_bookings} booked, {s.remaining} left.")
        st.form_submit_button("Change capacity", key=OK.edit_field(sid, "cap_save"), on_click=_save_capacity,
                              args=(sid,), icon=":material/group:")
    with cancel, st.form(OK.CANCEL_FORM):
        st.markdown("**Cancel this session**")
        st.text_input("Reason (optional)", key=OK.CANCEL_REASON, max_chars=500)
        places = f"{s.current_bookings} booked {wording.plural(s.current_bookings, 'place')}"
        st.caption(f"Its {places} will be marked for rebooking, or moved to another date: you choose, "
                   "and confirm, on the next step.")
        st.form_submit_button("Cancel session…", key=OK.CANCEL_SUBMIT, on_click=_ask_cancel, args=(sid, shown_label(s, shown=isolated)),
                              icon=":material/event_busy:", help="Shows who is affected first; nothing is "
                                                                 "cancelled until you confirm.")
    preview_panel(s)


def complete_panel() -> None:
    show_feedback("complete")
    waiting = reports.count_past_scheduled(data.engine())
    st.markdown("**Past sessions**")
    if waiting:
        st.caption(f"{wording.count(waiting, 'session')} before today "
                   f"{'are' if waiting != 1 else 'is'} still marked scheduled.")
    else:
        st.caption("Every session before today is marked completed or cancelled.")
    st.button(f"Mark {wording.count(waiting, 'past session')} completed", key=OK.COMPLETE_BUTTON,
              on_click=_complete_past, disabled=waiting == 0, icon=":material/task_alt:")
