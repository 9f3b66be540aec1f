"""What the calendar shows, as plain data: event dicts, options and CSS.

FullCalendar takes no Python callables, so the text of a session is in its `title`
("EFAW 09:00-16:00 · A · 5 left") and its state in `classNames`; colours only repeat
what the words say. Everything here is a pure function of its inputs so that the
component's arguments are byte-identical across reruns when nothing changed: a changed
argument re-renders the calendar, and arguments that change on every run (now(),
unordered events) make a rerun loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from core.models import Session
from core.wording import STATE_LABELS, places
from ui.filters import location_letter

FULL_RED = "#B91C1C"
ALMOST_AMBER = "#B45309"
CANCELLED_GREY = "#6B7280"
TEXT_DARK = "#111827"

STATE_TEXT = STATE_LABELS | {"full": "FULL", "running": "Running now"}  # louder on the calendar


def places_text(session: Session, *, long: bool = False) -> str:
    """'5 left' / 'only 2 left' / 'FULL' (long: '5 places left' / 'FULLY BOOKED'), then
    held places and the waiting list if any: 'FULL · 2 held + 3 waiting'."""
    state = session.state
    if state == "cancelled":
        return "CANCELLED"
    if state in ("completed", "running", "over"):  # started: no places left to offer
        word = {"running": "running", "over": "over"}.get(state, "done")
        return f"{word}, {session.current_bookings} booked" if long is False else (
            f"{STATE_TEXT[state]}: {session.current_bookings} of {session.max_capacity} booked")
    if state == "full":
        # 'fully booked' would be untrue while some of the places are only held
        text = ("NO PLACE FREE" if getattr(session, "held", 0) else "FULLY BOOKED") if long else "FULL"
    else:
        n = session.remaining
        if long:
            words = f"{places(n)} left"
            text = f"Almost full: {words}" if state == "almost_full" else words
        else:
            text = f"only {n} left" if state == "almost_full" else f"{n} left"
    return text + _held_and_waiting(session, long=long)


def _held_and_waiting(session: Session, *, long: bool) -> str:
    """' · 2 held + 3 waiting': places kept for callers and people waiting, when there are any.

    No countdown here: this text is in the calendar's arguments, which must not change
    while nothing changed (the minutes left are in the session's detail).
    """
    held, waiting = getattr(session, "held", 0), getattr(session, "waiting", 0)
    text = ""
    if held:
        text += f" · {held} held (not yet booked)" if long else f" · {held} held"
    if waiting:
        text += f" + {waiting} on the waiting list" if long else f" + {waiting} waiting"
    return text


def times_text(session: Session) -> str:
    return f"{session.start_time:%H:%M}–{session.end_time:%H:%M}"


def event_title(session: Session) -> str:
    return (f"{session.short_code} {session.start_time:%H:%M} · {location_letter(session.location)}"
            f" · {places_text(session)}")


def tint(colour: str, amount: float = 0.82) -> str:
    """`colour` mixed with white (amount 1.0 = white): a pale background for dark text."""
    try:
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    except (ValueError, TypeError):
        return "#F3F4F6"
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#{:02X}{:02X}{:02X}".format(*mix)


def session_event(session: Session) -> dict:
    state = session.state
    event = {
        "id": str(session.id),
        "title": event_title(session),
        "start": f"{session.session_date.isoformat()}T{session.start_time:%H:%M:%S}",
        "end": f"{session.session_date.isoformat()}T{session.end_time:%H:%M:%S}",
        "classNames": ["ses", f"ses-{state.replace('_', '-')}"],
        "backgroundColor": tint(session.colour),
        "borderColor": session.colour,
        "textColor": TEXT_DARK,
    }
    if state == "full":
        event.update(backgroundColor=FULL_RED, borderColor=FULL_RED, textColor="#FFFFFF")
    elif state == "cancelled":
        event.update(backgroundColor="#F3F4F6", borderColor=CANCELLED_GREY, textColor=CANCELLED_GREY)
    return event


def calendar_events(sessions: Iterable[Session]) -> list[dict]:
    ordered = sorted(sessions, key=lambda s: (s.session_date, s.start_time, s.location, s.course_type, str(s.id)))
    return [session_event(s) for s in ordered]


def calendar_options(initial_date: dt.date, today: dt.date) -> dict:
    """Options that depend only on dates that change once a day, so they stay identical."""
    return {
        "initialView": "dayGridMonth",
        "initialDate": initial_date.isoformat(),
        # Wall-clock times are given without an offset; 'UTC' keeps FullCalendar from
        # shifting them, and the view dates it reports come back as the same wall dates.
        "timeZone": "UTC",
        "now": today.isoformat(),
        # A locale given as data (the component bundles none): British dates, Monday first.
        "locales": [{"code": "en-gb", "week": {"dow": 1, "doy": 4}}],
        "locale": "en-gb",
        "firstDay": 1,
        "headerToolbar": {"left": "prev,next today", "center": "title",
                          "right": "dayGridMonth,dayGridWeek,timeGridDay,listWeek"},
        "buttonText": {"today": "Today", "month": "Month", "week": "Week", "day": "Day", "list": "List"},
        # Every session shows on a busy day (no "+N more"): the calendar is as tall as its
        # content, and ui/calendar_frame.py keeps the frame's height in step with it.
        "height": "auto",
        "fixedWeekCount": False,
        "navLinks": True,
        "eventDisplay": "block",
        "displayEventTime": False,
        "dayMaxEvents": False,
        "eventInteractive": True,  # Tab reaches each session, Enter opens it
        "allDaySlot": False,
        "slotEventOverlap": False,  # side by side: overlapping text cannot be read
        "slotMinTime": "07:00:00",
        "slotMaxTime": "20:00:00",
        "slotLabelFormat": {"hour": "2-digit", "minute": "2-digit", "hour12": False},
        "eventTimeFormat": {"hour": "2-digit", "minute": "2-digit", "hour12": False},
        "views": {
            "listWeek": {"displayEventTime": True},
            # A week of one line per session: in a time grid, four sessions at 09:00 were
            # columns 30 px wide ("FAW 09: · A · FUL").
            "dayGridWeek": {"dayHeaderFormat": {"weekday": "short", "day": "numeric", "month": "short"}},
        },
        "noEventsContent": "No sessions match the filters in this period.",
    }


CALENDAR_CSS = f"""
.fc {{ font-family: "Source Sans Pro", "Source Sans 3", system-ui, sans-serif; }}
.fc .fc-toolbar-title {{ font-size: 1.35rem; }}
.fc .fc-button {{ text-transform: none; }}
.fc-event.ses {{ border-left-width: 5px !important; cursor: pointer; }}
.fc-daygrid-event.ses {{ white-space: normal; }}
.fc-daygrid-event.ses .fc-event-title {{ font-size: 0.78rem; line-height: 1.2; padding: 1px 2px; }}
.fc-timegrid-event.ses .fc-event-title {{ font-size: 0.8rem; line-height: 1.2; white-space: normal; }}
.fc-dayGridWeek-view .fc-daygrid-event.ses .fc-event-title {{ font-size: 0.85rem; padding: 3px 4px; }}
.fc-event.ses-full .fc-event-title {{ font-weight: 700; }}
.fc-event.ses-almost-full {{ outline: 2px solid {ALMOST_AMBER}; outline-offset: -1px; }}
.fc-event.ses-almost-full .fc-event-title {{ font-weight: 600; }}
.fc-event.ses-cancelled .fc-event-title {{ text-decoration: line-through; }}
.fc-event.ses-completed {{ opacity: 0.6; }}
.fc .fc-day-other .fc-daygrid-day-top {{ opacity: 1; color: #6B7280; }}  /* FullCalendar's 0.3: too faint to read */
.fc-list-event.ses-full td {{ background: #FEE2E2; font-weight: 700; }}
.fc-list-event.ses-almost-full td {{ background: #FEF3C7; }}
.fc-list-event.ses-cancelled td {{ text-decoration: line-through; color: {CANCELLED_GREY}; }}
@media (max-width: 640px) {{
  .fc .fc-toolbar {{ flex-wrap: wrap; gap: 6px; justify-content: center; }}
  .fc .fc-toolbar-title {{ font-size: 1.05rem; }}
  .fc .fc-button {{ padding: 0.3em 0.5em; }}
}}
"""
