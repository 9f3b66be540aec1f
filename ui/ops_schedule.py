"""The schedule screens: one session, a recurring series with its preview, edit / capacity /
cancel of a session, marking past sessions completed, and the CSV import.

Writes run in button callbacks (before the script reruns), so the page that follows
already shows the new schedule and the outcome, kept in session_state under
`ops_keys.FEEDBACK`. No SQL here: everything goes through core.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core import importer, previews, recurrence, reports
from core import sessions as core_sessions
from core.config import get_settings, today
from core.errors import BookingError
from core.models import LOCATIONS, Booking, CourseType, Session
from ui import data
from ui import ops_keys as OK
from ui.auth import current_actor as actor
from ui.format import local_time, session_line, shown_label
from ui.filters import Filters
from ui.text import as_text, isolated

WEEKDAYS = recurrence.WEEKDAY_NAMES
SERIES_SKIP_OUT = "Leave the clashing dates out"
SERIES_ALLOW = "Create them anyway (the site has room for both)"


# --------------------------------------------------------------------------- feedback


def _say(where: str, kind: str, text: str, rows: list[dict] | None = None) -> None:
    st.session_state[OK.FEEDBACK] = dict(where=where, kind=kind, text=text, rows=rows)


def _failed(where: str, exc: Exception) -> None:
    if isinstance(exc, BookingError):
        _say(where, "error", str(exc))
    else:
        _say(where, "error", f"Nothing was saved: the database could not be reached ({type(exc).__name__}). "
                             "Try again in a moment.")


def show_feedback(where: str) -> None:
    """The outcome of the last action taken in this part of the page, if any."""
    said = st.session_state.get(OK.FEEDBACK)
    if not said or said["where"] != where:
        return
    show = {"success": st.success, "error": st.error, "warning": st.warning}[said["kind"]]
    show(as_text(said["text"]), icon={"success": ":material/check_circle:", "error": ":material/error:",
                             "warning": ":material/warning:"}[said["kind"]])
    if said.get("rows"):
        st.dataframe(pd.DataFrame(said["rows"]), hide_index=True, width="stretch", key=OK.REBOOK_TABLE)


def _course_label(types: Sequence[CourseType]):
    codes = {t.name: t.short_code for t in types}
    return lambda name: f"{name} ({codes.get(name, name)})"


def _day(d: dt.date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def session_label(s: Session) -> str:
    return (f"{s.session_date:%a} {s.session_date.day} {s.session_date:%b %Y} · {s.start_time:%H:%M}-"
            f"{s.end_time:%H:%M} · {s.short_code} · {s.location} · {s.current_bookings} of {s.max_capacity} booked")


# --------------------------------------------------------------------------- one session


def _create_one() -> None:
    ss = st.session_state
    day, start, end, location = ss[OK.ONE_DATE], ss[OK.ONE_START], ss[OK.ONE_END], ss[OK.ONE_LOCATION]
    try:  # the overlap is checked in the transaction that creates the session
        made = core_sessions.create_session(
            data.engine(), course_type=ss[OK.ONE_COURSE], session_date=day, start_time=start, end_time=end,
            location=location, max_capacity=ss[OK.ONE_CAPACITY], instructor_notes=ss[OK.ONE_NOTES] or None,
            on_clash="allow" if ss[OK.ONE_ALLOW_CLASH] else "refuse", actor=actor(),
        )
    except Exception as exc:  # shown to the user; nothing was saved
        _failed("one", exc)
        return
    _say("one", "success", f"Created {shown_label(made, shown=isolated)}, {made.start_time:%H:%M}-{made.end_time:%H:%M}, "
                           f"{made.max_capacity} places.")


def one_session_form(types: Sequence[CourseType]) -> None:
    show_feedback("one")
    names = [t.name for t in types]
    limit = get_settings().capacity_limit
    with st.form(OK.ONE_FORM, border=True):
        left, mid, right = st.columns(3)
        left.selectbox("Course", names, key=OK.ONE_COURSE, format_func=_course_label(types))
        mid.date_input("Date", value=today() + dt.timedelta(days=7), min_value=today(), key=OK.ONE_DATE,
                       format="DD/MM/YYYY")
        right.radio("Location", LOCATIONS, key=OK.ONE_LOCATION, horizontal=True)
        left, mid, right = st.columns(3)
        left.time_input("Starts", value=dt.time(9), step=dt.timedelta(minutes=15), key=OK.ONE_START)
        mid.time_input("Ends", value=dt.time(16), step=dt.timedelta(minutes=15), key=OK.ONE_END)
        right.number_input("Places", min_value=1, max_value=limit, value=limit, step=1, key=OK.ONE_CAPACITY)
        st.text_area("Instructor notes (optional)", key=OK.ONE_NOTES, height=80, max_chars=2000)
        st.checkbox("Create even if it overlaps another session at this location", key=OK.ONE_ALLOW_CLASH)
        st.form_submit_button("Create session", type="primary", key=OK.ONE_SUBMIT, on_click=_create_one,
                              icon=":material/add:")


# --------------------------------------------------------------------------- recurring series


_DATE_TOKEN = re.compile(r"[\s,;]+")


def parse_skip_dates(text: str) -> tuple[tuple[dt.date, ...], list[str]]:
    """Dates typed as 24/12/2025 or 2025-12-24, separated by commas or spaces; and the
    pieces that are not dates."""
    dates, bad = [], []
    for token in filter(None, _DATE_TOKEN.split(text or "")):
        try:
            if "/" in token:
                d, m, y = (int(p) for p in token.split("/"))
                dates.append(dt.date(y, m, d))
            else:
                dates.append(dt.date.fromisoformat(token))
        except ValueError:
            bad.append(token)
    return tuple(sorted(set(dates))), bad


def _series_spec() -> recurrence.SeriesSpec:
    ss = st.session_state
    skip, _ = parse_skip_dates(ss.get(OK.SER_SKIP, ""))
    by_weeks = ss[OK.SER_UNTIL_MODE] == "weeks"
    return recurrence.SeriesSpec(
        course_type=ss[OK.SER_COURSE], first_date=ss[OK.SER_FIRST],
        weekdays=tuple(sorted(WEEKDAYS.index(d) for d in ss[OK.SER_DAYS] or ())),
        start_time=ss[OK.SER_START], end_time=ss[OK.SER_END], location=ss[OK.SER_LOCATION],
        weeks=int(ss[OK.SER_WEEKS]) if by_weeks else None, last_date=None if by_weeks else ss[OK.SER_LAST],
        max_capacity=int(ss[OK.SER_CAPACITY]), instructor_notes=ss.get(OK.SER_NOTES) or None, skip_dates=skip,
    )


def _create_series() -> None:
    on_clash = "allow" if st.session_state.get(OK.SER_ON_CLASH) == SERIES_ALLOW else "skip"
    try:
        made = recurrence.create_series(data.engine(), _series_spec(), on_clash=on_clash, actor=actor())
    except Exception as exc:  # shown to the user; nothing was saved
        _failed("series", exc)
        return
    first, last = made[0], made[-1]
    _say("series", "success", f"Created {len(made)} sessions of {first.course_type} at {first.location}, "
                              f"from {_day(first.session_date)} to {_day(last.session_date)}.")


def _preview_frame(preview: recurrence.SeriesPreview) -> pd.DataFrame:
    rows = [dict(Date=p.session_date, Day=p.weekday, Time=f"{p.start_time:%H:%M}-{p.end_time:%H:%M}",
                 Outcome=(f"⚠ Overlaps {p.clash_text} at {p.clashes[0].location}" if p.clashes
                          else "New session"))
            for p in preview.planned]
    rows += [dict(Date=d, Day=WEEKDAYS[d.weekday()], Time="", Outcome="Skipped (as asked)") for d in preview.skipped]
    frame = pd.DataFrame(rows).sort_values("Date")
    frame["Date"] = pd.to_datetime(frame["Date"])
    return frame


def series_builder(types: Sequence[CourseType]) -> None:
    show_feedback("series")
    names = [t.name for t in types]
    limit = get_settings().capacity_limit
    st.caption("Pick the days and how long the series runs; the preview below updates as you go and flags "
               "any date that overlaps a session already at the same location.")
    left, mid, right = st.columns(3)
    left.selectbox("Course", names, key=OK.SER_COURSE, format_func=_course_label(types))
    mid.date_input("First date", value=today() + dt.timedelta(days=7), min_value=today(), key=OK.SER_FIRST,
                   format="DD/MM/YYYY")
    right.radio("Location", LOCATIONS, key=OK.SER_LOCATION, horizontal=True)
    st.pills("On these days", WEEKDAYS, selection_mode="multi", default=["Tuesday", "Thursday"], key=OK.SER_DAYS)
    left, mid, right = st.columns(3)
    left.radio("Runs", ["weeks", "until"], key=OK.SER_UNTIL_MODE, horizontal=True,
               format_func={"weeks": "For a number of weeks", "until": "Until a date"}.__getitem__)
    if st.session_state[OK.SER_UNTIL_MODE] == "weeks":
        mid.number_input("Weeks", min_value=1, max_value=recurrence.MAX_WEEKS, value=10, step=1, key=OK.SER_WEEKS)
    else:
        mid.date_input("Last date (included)", value=today() + dt.timedelta(weeks=10), min_value=today(),
                       key=OK.SER_LAST, format="DD/MM/YYYY")
    right.number_input("Places", min_value=1, max_value=limit, value=limit, step=1, key=OK.SER_CAPACITY)
    left, mid, right = st.columns(3)
    left.time_input("Starts", value=dt.time(9), step=dt.timedelta(minutes=15), key=OK.SER_START)
    mid.time_input("Ends", value=dt.time(16), step=dt.timedelta(minutes=15), key=OK.SER_END)
    right.text_input("Skip these dates", key=OK.SER_SKIP, placeholder="e.g. 25/12/2025, 26/12/2025",
                     help="Bank holidays or leave: dates as DD/MM/YYYY, separated by commas.")
    st.text_input("Instructor notes for every session (optional)", key=OK.SER_NOTES, max_chars=2000)

    _, bad = parse_skip_dates(st.session_state.get(OK.SER_SKIP, ""))
    if bad:
        st.warning(f"Not dates, so not skipped: {', '.join(map(as_text, bad))}. Write them as DD/MM/YYYY.", icon=":material/warning:")
    try:
        preview = recurrence.preview_series(data.engine(), _series_spec())
    except BookingError as exc:
        st.info(f"No preview yet: {as_text(exc)}", icon=":material/info:")
        return
    _show_preview(preview)


def _show_preview(preview: recurrence.SeriesPreview) -> None:
    spec, planned, clashing = preview.spec, preview.planned, preview.clashing
    days = " and ".join(WEEKDAYS[d] + "s" for d in spec.weekdays)
    st.markdown(f"**Preview: {len(planned)} sessions** of {as_text(spec.course_type)} on {days}, "
                f"{spec.start_time:%H:%M}-{spec.end_time:%H:%M} at {spec.location}, from "
                f"{_day(planned[0].session_date)} to {_day(planned[-1].session_date)}"
                + (f"; {len(preview.skipped)} date(s) skipped" if preview.skipped else "") + ".")
    past = [p for p in planned if p.in_past]
    st.dataframe(_preview_frame(preview), hide_index=True, width="stretch", key=OK.SER_PREVIEW_TABLE,
                 height=min(38 + 35 * (len(planned) + len(preview.skipped)), 420),
                 column_config={"Date": st.column_config.DateColumn("Date", format="ddd D MMM YYYY")})
    count = len(planned)
    if clashing:
        st.warning(f"{len(clashing)} date(s) overlap a session already at {spec.location}: see the ⚠ rows.",
                   icon=":material/warning:")
        choice = st.radio("Clashing dates", [SERIES_SKIP_OUT, SERIES_ALLOW], key=OK.SER_ON_CLASH)
        if choice == SERIES_SKIP_OUT:
            count = len(preview.creatable)
    st.button(f"Create {count} session{'s' if count != 1 else ''}", type="primary", key=OK.SER_CREATE,
              on_click=_create_series, disabled=bool(past) or count == 0, icon=":material/event_repeat:")


# --------------------------------------------------------------------------- edit, capacity, cancel


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
        made = core_sessions.update_session(data.engine(), session_id, actor=actor(), **_edit_values(session_id))
    except Exception as exc:  # shown to the user; nothing was saved
        _failed("edit", exc)
        return
    _say("edit", "success", f"Saved: {shown_label(made, shown=isolated)}, {made.start_time:%H:%M}-{made.end_time:%H:%M}.")


# A capacity cut that leaves bookings without a place, and every cancellation of a session
# with people on it, is shown first (core.previews): who is affected, and where each booking
# could go instead. Nothing is applied until "Yes, ..." is clicked.
PREVIEW = "ops_preview"              # {"kind": "capacity" | "cancel", "session_id", "capacity", "reason"}
PREVIEW_CONFIRM = "ops_preview_confirm"
PREVIEW_DISCARD = "ops_preview_discard"
LEAVE = ""                           # the move choice "leave it where it is / mark for rebooking"


def _move_choice(booking_id: object) -> str:
    return f"ops_preview_move_{booking_id}"


def _save_capacity(session_id: str) -> None:
    wanted = st.session_state[OK.edit_field(session_id, "capacity")]
    st.session_state.pop(PREVIEW, None)
    try:
        seen = previews.preview_capacity(data.engine(), session_id, wanted)
        if seen.affected or seen.blocked_by_holds:
            st.session_state[PREVIEW] = dict(kind="capacity", session_id=session_id, capacity=wanted)
            st.session_state.pop(OK.FEEDBACK, None)
            return
        made = core_sessions.set_capacity(data.engine(), session_id, wanted, actor=actor())
    except Exception as exc:  # CapacityBelowBooked names who would not fit
        _failed("edit", exc)
        return
    _say("edit", "success", f"{shown_label(made, shown=isolated)} now has {made.max_capacity} places ({made.remaining} left).")


def _ask_cancel(session_id: str, label: str) -> None:
    """'Cancel session': show who is affected first; cancel at once only an empty session."""
    st.session_state.pop(PREVIEW, None)
    try:
        seen = previews.preview_cancel(data.engine(), session_id)
    except Exception as exc:
        _failed("edit", exc)
        return
    if seen.affected or seen.holds or seen.waiting:
        st.session_state[PREVIEW] = dict(kind="cancel", session_id=session_id,
                                         reason=st.session_state.get(OK.CANCEL_REASON) or None)
        st.session_state.pop(OK.FEEDBACK, None)
        return
    st.session_state[OK.CANCEL_CONFIRM] = True
    _cancel(session_id, label)


def _moves(seen: previews.Preview) -> list[tuple[Booking, str]]:
    """The (booking, target session id) pairs chosen in the preview."""
    chosen = [(a.booking, st.session_state.get(_move_choice(a.booking.id), LEAVE)) for a in seen.affected]
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
    except Exception as exc:
        _failed("edit", exc)
        return
    moves, label = _moves(seen), shown_label(seen.session, shown=isolated)
    try:  # one core call, one transaction: everything asked happens, or nothing
        if asked["kind"] == "cancel":
            done = core_sessions.cancel_session_with_moves(engine, sid, [(b.id, t) for b, t in moves],
                                                           actor=actor(), reason=asked.get("reason"))
        else:
            done = core_sessions.set_capacity_with_moves(engine, sid, asked["capacity"],
                                                         [(b.id, t) for b, t in moves], actor=actor())
    except Exception as exc:
        _failed("edit", exc)
        return
    moved = f"Moved {', '.join(b.reference for b in done.moved)}. " if done.moved else ""
    if asked["kind"] == "capacity":
        made = done.session
        _say("edit", "success", f"{moved}{shown_label(made, shown=isolated)} now has {made.max_capacity} places "
                                f"({made.remaining} left).")
        return
    st.session_state[OK.CANCEL_CONFIRM] = False
    left = list(done.to_rebook)
    if left:
        _say("edit", "warning", f"Cancelled {label}. {moved}"
                                f"{'This booking is' if len(left) == 1 else f'These {len(left)} bookings are'} "
                                "marked for rebooking; nothing was deleted. Contact each one to offer another date:",
             _rebook_rows(left))
    else:
        _say("edit", "success", f"Cancelled {label}. {moved}".strip())


def _discard_preview() -> None:
    st.session_state.pop(PREVIEW, None)
    _say("edit", "success", "Nothing was changed.")


def preview_panel(s: Session) -> None:
    """Who the pending capacity cut or cancellation affects, a move for each, and confirm."""
    asked = st.session_state.get(PREVIEW)
    if not asked or asked["session_id"] != str(s.id):
        return
    engine = data.engine()
    try:
        seen = (previews.preview_capacity(engine, s.id, asked["capacity"]) if asked["kind"] == "capacity"
                else previews.preview_cancel(engine, s.id))
    except Exception as exc:
        st.session_state.pop(PREVIEW, None)
        st.error(as_text(exc), icon=":material/error:")
        return
    cancel = asked["kind"] == "cancel"
    with st.container(border=True, key="ops_preview_box"):
        n, places = len(seen.affected), seen.places_affected
        bookings = f"{n} booking{'s' if n != 1 else ''} ({places} place{'s' if places != 1 else ''})"
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
            st.warning(f"{h.seats} place{'s' if h.seats != 1 else ''} held by {as_text(h.held_by)} until "
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
            text.markdown(f"**{b.reference} · {as_text(b.contact_name)}** · {b.seats} place"
                          f"{'s' if b.seats != 1 else ''}  \n:gray[{as_text(b.contact_email)} · "
                          f"{as_text(b.contact_phone) if b.contact_phone else 'no phone'}]")
            if not options:
                unmovable.append(b.reference)
                pick.error(f"No other {as_text(seen.session.course_type)} session has {b.seats} place"
                           f"{'s' if b.seats != 1 else ''} free in the next three months.")
                continue
            pick.selectbox(f"Where {b.reference} goes", options, format_func=names.get, key=_move_choice(b.id),
                           label_visibility="collapsed")
        if cancel:
            moving = len(_moves(seen))
            yes = "Yes, cancel the session" + (f" and move {moving} booking{'s' if moving != 1 else ''}" if moving else "")
        else:
            yes = f"Yes, move {n} booking{'s' if n != 1 else ''} and set {asked['capacity']} places" if n else (
                f"Yes, set {asked['capacity']} places")
        blocked = bool(unmovable) or (not cancel and seen.blocked_by_holds > 0)
        if unmovable:
            st.error(f"{', '.join(unmovable)} cannot be moved: cancel {'it' if len(unmovable) == 1 else 'them'} "
                     "from the session's detail first, or choose a higher capacity.", icon=":material/block:")
        left, right = st.columns(2)
        left.button(yes, type="primary", key=PREVIEW_CONFIRM, on_click=_apply_preview, disabled=blocked,
                    icon=":material/check:", width="stretch")
        right.button("No, change nothing", key=PREVIEW_DISCARD, on_click=_discard_preview,
                     icon=":material/undo:", width="stretch")


def _rebook_rows(bookings: Sequence[Booking]) -> list[dict]:
    return [{"Reference": b.reference, "Contact": b.contact_name, "E-mail": b.contact_email,
             "Phone": b.contact_phone or "", "Company": b.company or "", "Places": b.seats,
             "Attendees": "; ".join(a.name for a in b.attendees)} for b in bookings]


def _cancel(session_id: str, label: str) -> None:
    if not st.session_state.get(OK.CANCEL_CONFIRM):
        _say("edit", "warning", "Tick the box to confirm the cancellation first: nothing was changed.")
        return
    try:
        to_rebook = core_sessions.cancel_session(data.engine(), session_id, actor=actor(),
                                                 reason=st.session_state.get(OK.CANCEL_REASON) or None)
    except Exception as exc:  # shown to the user; nothing was saved
        _failed("edit", exc)
        return
    st.session_state[OK.CANCEL_CONFIRM] = False
    if to_rebook:
        places = sum(b.seats for b in to_rebook)
        which = ("This booking" if len(to_rebook) == 1 else f"These {len(to_rebook)} bookings")
        _say("edit", "warning", f"Cancelled {label}. {which} ({places} place{'s' if places != 1 else ''}) "
                                f"{'is' if len(to_rebook) == 1 else 'are'} marked for rebooking; nothing was deleted. "
                                "Contact each one to offer another date:",
             _rebook_rows(to_rebook))
    else:
        _say("edit", "success", f"Cancelled {label}. It had no bookings.")


def _complete_past() -> None:
    try:
        done = core_sessions.complete_past_sessions(data.engine(), actor=actor())
    except Exception as exc:  # shown to the user; nothing was saved
        _failed("complete", exc)
        return
    _say("complete", "success", f"Marked {done} past session{'s' if done != 1 else ''} completed.")


def edit_panel(types: Sequence[CourseType], filters: Filters, version: int) -> None:
    show_feedback("edit")
    start = filters.date_from or today()
    end = filters.date_to or start + dt.timedelta(weeks=8)
    found = [s for s in data.sessions(start, end, filters, version) if s.status == "scheduled"]
    st.caption(f"Scheduled sessions from {_day(start)} to {_day(end)} matching the sidebar filters "
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
                     key=OK.edit_field(sid, "course"), format_func=_course_label(types))
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
        places = f"{s.current_bookings} booked place{'s' if s.current_bookings != 1 else ''}"
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
        st.caption(f"{waiting} session{'s' if waiting != 1 else ''} before today "
                   f"{'are' if waiting != 1 else 'is'} still marked scheduled.")
    else:
        st.caption("Every session before today is marked completed or cancelled.")
    st.button(f"Mark {waiting} past session{'s' if waiting != 1 else ''} completed", key=OK.COMPLETE_BUTTON,
              on_click=_complete_past, disabled=waiting == 0, icon=":material/task_alt:")


# --------------------------------------------------------------------------- import


def _upload_key() -> str:
    return f"{OK.IMP_UPLOAD}_{st.session_state.get(OK.IMP_UPLOAD + '_n', 0)}"


def _import(data_bytes: bytes, name: str) -> None:
    try:
        report = importer.import_sessions_csv(data.engine(), data_bytes, actor=actor())
    except Exception as exc:  # shown to the user; nothing was saved
        _failed("import", exc)
        return
    if report.problems:
        _say("import", "error", f"Nothing was imported: {len(report.problems)} problem(s) appeared since the check. "
                                "See the list below.")
        return
    st.session_state[OK.IMP_UPLOAD + "_n"] = st.session_state.get(OK.IMP_UPLOAD + "_n", 0) + 1
    _say("import", "success", f"Imported {len(report.created)} sessions from {name}.")


_PROBLEM_COLUMNS = {
    "Line": st.column_config.NumberColumn("Line", width="small"),
    "Column": st.column_config.TextColumn("Column", width="small"),
    "Problem": st.column_config.TextColumn("Problem", width="large"),
}


def _problem_frame(problems) -> pd.DataFrame:
    return pd.DataFrame([{"Line": p.line, "Column": p.column or "(whole row)", "Problem": p.message}
                         for p in problems])


def import_panel() -> None:
    show_feedback("import")
    st.markdown("Fill in the template (one session per row), save it as CSV and upload it. Every row is "
                "checked first; **nothing is imported unless every row is good**.")
    st.download_button("Download the template CSV", importer.template_csv(), file_name="sessions_template.csv",
                       mime="text/csv", key=OK.IMP_TEMPLATE, icon=":material/download:")
    st.caption("Columns: course_type (name or code, e.g. EFAW), session_date (YYYY-MM-DD or DD/MM/YYYY), "
               "start_time and end_time (HH:MM), location (Location A / B, or A / B), max_capacity (empty = "
               f"{get_settings().capacity_limit}), instructor_notes (optional).")
    upload = st.file_uploader("CSV file of sessions", type=["csv"], key=_upload_key(),
                              max_upload_size=max(importer.MAX_BYTES // 1_000_000, 1))
    if upload is None:
        return
    raw = upload.getvalue()
    report = importer.check_sessions_csv(data.engine(), raw)
    if report.problems:
        rows = len({p.line for p in report.problems})
        st.error(f"{len(report.problems)} problem(s) on {rows} line(s): nothing will be imported. Fix them in the "
                 "file and upload it again.", icon=":material/error:")
        st.dataframe(_problem_frame(report.problems), hide_index=True, width="stretch", key=OK.IMP_PROBLEMS_TABLE,
                     column_config=_PROBLEM_COLUMNS)
        return
    if report.warnings:
        st.warning(f"{len(report.warnings)} row(s) overlap another session at the same location. They can be "
                   "imported if the site has room for both.", icon=":material/warning:")
        st.dataframe(_problem_frame(report.warnings), hide_index=True, width="stretch", key=OK.IMP_WARNINGS_TABLE,
                     column_config=_PROBLEM_COLUMNS)
    st.success(f"All {len(report.rows)} rows are good.", icon=":material/check_circle:")
    st.button(f"Import {len(report.rows)} sessions", type="primary", key=OK.IMP_IMPORT, on_click=_import,
              args=(raw, upload.name), icon=":material/upload:")
