"""What the session and booking exports hold, whatever the format: headers, typed rows and
the spreadsheet-safety rule.

A text value beginning with = + - @ tab or carriage return could run as a formula when a
spreadsheet opens it. CSV writes such a value with a leading apostrophe (`neutralise`);
Excel stores it as a text cell with the quote prefix (core.exports.xlsx_stream), so it
reads back unchanged and is shown as text, never evaluated.
"""

from __future__ import annotations

import datetime as dt

from core.models import Session
from core.wording import state_label

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMATS = {dt.datetime: "dd/mm/yyyy hh:mm", dt.date: "dd/mm/yyyy", dt.time: "hh:mm"}

SESSION_HEADERS = (
    "Date", "Day", "Start", "End", "Course", "Code", "Location", "Capacity", "Booked", "Held",
    "Places left", "Fill rate", "Status", "Availability", "Instructor notes", "Session ID",
)
BOOKING_HEADERS = (
    "Session date", "Start", "Course", "Location", "Reference", "Status", "Seats",
    "Contact name", "Contact e-mail", "Contact phone", "Company", "Attendees",
    "Booked at", "Booked by", "Session ID",
)


def neutralise(value: object) -> object:
    """For CSV: prefix a formula-looking text with an apostrophe; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def session_row(s: Session) -> tuple:
    """One sessions-sheet row with typed values (dates, times, ints, a 0..1 fill rate).

    Places left = capacity - booked - held (places held for callers right now)."""
    fill = s.current_bookings / s.max_capacity if s.max_capacity else 0.0
    return (
        s.session_date, f"{s.session_date:%a}", s.start_time, s.end_time, s.course_type,
        s.short_code, s.location, s.max_capacity, s.current_bookings, s.held, s.remaining,
        round(fill, 4), s.status, state_label(s.state), s.instructor_notes or "", str(s.id),
    )
