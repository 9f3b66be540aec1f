"""The preview state machine of the schedule's edit screen: a capacity cut that leaves
bookings without a place, and every cancellation of a session with people on it, is shown
first (core.previews): who is affected, and where each booking could go instead.

States: nothing asked; asked (`PREVIEW` in session_state, the panel shows who is affected
and a move for each); then "Yes, ..." applies the moves and the change in one core call,
or "No, change nothing" forgets it. Nothing is applied until "Yes, ..." is clicked.
"""

from __future__ import annotations

import streamlit as st

from core import previews
from core import sessions as core_sessions
from core import wording
from core.models import Booking, Session
from core.errors import CoreError
from ui import data
from ui import ops_keys as OK
from ui.auth import current_actor
from ui.format import local_time, session_line, shown_label
from ui.schedule_feedback import failed, rebook_rows, say
from ui.text import as_text, isolated

PREVIEW = OK.PREVIEW  # kept importable from here: the edit screen sets it
LEAVE = ""                           # the move choice "leave it where it is / mark for rebooking"


def _moves(seen: previews.Preview) -> list[tuple[Booking, str]]:
    """The (booking, target session id) pairs chosen in the preview."""
    chosen = [(a.booking, st.session_state.get(OK.preview_move(a.booking.id), LEAVE)) for a in seen.affected]
    return [(b, target) for b, target in chosen if target]


def _apply_preview() -> None:
    """'Yes, ...': the moves chosen, and the capacity change or the cancellation."""
    asked = st.session_state.pop(PREVIEW, None)
    if not asked:
        return
    engine, sid = data.engine(), asked["session_id"]
    try:
        seen = (previews.preview_capacity(engine, sid, asked["capacity"]) if asked["kind"] == "capacity"
                else previews.preview_cancel(engine, sid))
    except CoreError as exc:
        failed("edit", exc)
        return
    moves, label = _moves(seen), shown_label(seen.session, shown=isolated)
    try:  # one core call, one transaction: everything asked happens, or nothing
        if asked["kind"] == "cancel":
            done = core_sessions.cancel_session_with_moves(engine, sid, [(b.id, t) for b, t in moves],
                                                           actor=current_actor(), reason=asked.get("reason"))
        else:
            done = core_sessions.set_capacity_with_moves(engine, sid, asked["capacity"],
                                                         [(b.id, t) for b, t in moves], actor=current_actor())
    except CoreError as exc:
        failed("edit", exc)
        return
    moved = f"Moved {', '.join(b.reference for b in done.moved)}. " if done.moved else ""
    if asked["kind"] == "capacity":
        made = done.session
        say("edit", "success", f"{moved}{shown_label(made, shown=isolated)} now has {made.max_capacity} places "
                               f"({made.remaining} left).")
        return
    st.session_state[OK.CANCEL_CONFIRM] = False
    left = list(done.to_rebook)
    if left:
        say("edit", "warning", f"Cancelled {label}. {moved}"
                               f"{'This booking is' if len(left) == 1 else f'These {len(left)} bookings are'} "
                               "marked for rebooking; nothing was deleted. Contact each one to offer another date:",
            rebook_rows(left))
    else:
        say("edit", "success", f"Cancelled {label}. {moved}".strip())


def _discard_preview() -> None:
    st.session_state.pop(PREVIEW, None)
    say("edit", "success", "Nothing was changed.")


def preview_panel(s: Session) -> None:
    """Who the pending capacity cut or cancellation affects, a move for each, and confirm."""
    asked = st.session_state.get(PREVIEW)
    if not asked or asked["session_id"] != str(s.id):
        return
    engine = data.engine()
    try:
        seen = (previews.preview_capacity(engine, s.id, asked["capacity"]) if asked["kind"] == "capacity"
                else previews.preview_cancel(engine, s.id))
    except CoreError as exc:
        st.session_state.pop(PREVIEW, None)
        st.error(as_text(exc), icon=":material/error:")
        return
    cancel = asked["kind"] == "cancel"
    with st.container(border=True, key=OK.PREVIEW_BOX):
        n, places = len(seen.affected), seen.places_affected
        bookings = f"{wording.count(n, 'booking')} ({wording.places(places)})"
        if cancel:
            st.markdown(f"#### Cancel {shown_label(seen.session)}?")
            st.markdown(f"**Affected:** {bookings}" + (f", {len(seen.holds)} hold(s) that end now" if seen.holds else "")
                        + (f", {len(seen.waiting)} on the waiting list, who are taken off it" if seen.waiting else "")
                        + ". Nothing changes until you confirm below.")
        else:
            st.markdown(f"#### Lower {shown_label(seen.session)} to {asked['capacity']} places?")
            if seen.affected:
                st.markdown(f"**{bookings} would no longer fit** (the newest bookings). Move each to another "
                            "session below; the capacity changes after the moves. Nothing changes until you confirm.")
        for h in seen.holds if not cancel else ():
            st.warning(f"{wording.places(h.seats)} held by {as_text(h.held_by)} until "
                       f"{local_time(h.expires_at)} are in the way: the capacity can go down once that hold ends "
                       "(or is booked or released).", icon=":material/timer:")
        if not cancel and seen.affected and seen.waiting:
            st.warning(f"{len(seen.waiting)} on the waiting list: places freed by the moves are offered to them "
                       "first, so the change may still be refused. Withdraw them first if they should not get in.",
                       icon=":material/hourglass_top:")
        unmovable = []
        for a in seen.affected:
            b = a.booking
            options = ([LEAVE] if cancel else []) + [str(o.id) for o in a.alternatives]
            names = {str(o.id): f"Move to {session_line(o, shown=str)}" for o in a.alternatives}
            names[LEAVE] = "Mark for rebooking (contact them later)"
            text, pick = st.columns([2, 3], vertical_alignment="center")
            text.markdown(f"**{b.reference} · {as_text(b.contact_name)}** · {wording.places(b.seats)}"
                          f"  \n:gray[{as_text(b.contact_email)} · "
                          f"{as_text(b.contact_phone) if b.contact_phone else 'no phone'}]")
            if not options:
                unmovable.append(b.reference)
                pick.error(f"No other {as_text(seen.session.course_type)} session has {wording.places(b.seats)}"
                           " free in the next three months.")
                continue
            pick.selectbox(f"Where {b.reference} goes", options, format_func=names.get, key=OK.preview_move(b.id),
                           label_visibility="collapsed")
        if cancel:
            moving = len(_moves(seen))
            yes = "Yes, cancel the session" + (f" and move {wording.count(moving, 'booking')}" if moving else "")
        else:
            yes = f"Yes, move {wording.count(n, 'booking')} and set {asked['capacity']} places" if n else (
                f"Yes, set {asked['capacity']} places")
        blocked = bool(unmovable) or (not cancel and seen.blocked_by_holds > 0)
        if unmovable:
            st.error(f"{', '.join(unmovable)} cannot be moved: cancel {'it' if len(unmovable) == 1 else 'them'} "
                     "from the session's detail first, or choose a higher capacity.", icon=":material/block:")
        left, right = st.columns(2)
        left.button(yes, type="primary", key=OK.PREVIEW_CONFIRM, on_click=_apply_preview, disabled=blocked,
                    icon=":material/check:", width="stretch")
        right.button("No, change nothing", key=OK.PREVIEW_DISCARD, on_click=_discard_preview,
                     icon=":material/undo:", width="stretch")
