"""Exports: sessions with availability (CSV, Excel, iCalendar) and attendance registers
(Excel, printable HTML), for the Exports page, the feed routes and `python -m core export`.

One module a format, over one set of queries:
- queries.py: the scope (ExportScope) and what it reads (sessions, bookings);
- rows.py: headers and typed rows shared by the formats, and the formula-safety rule;
- csv.py, xlsx.py (with xlsx_stream.py, the streaming sheet writer), ics.py;
- register.py: attendance registers (the page from templates/register.html);
- files.py: one call per format (export_sessions -> ExportFile);
- command.py: the `export` subcommand of `python -m core`.

The names below are the package's public face: import them from `core.exports`.
"""

from core.exports.csv import sessions_csv
from core.exports.files import FORMATS, MIME, ExportFile, export_sessions
from core.exports.ics import UID_DOMAIN, load_modified, sessions_ics
from core.exports.queries import ExportScope, LocalTime, load_bookings, load_sessions, utc_to_local
from core.exports.register import REGISTER_HEADERS, Register, RegisterRow, load_registers, register_html
from core.exports.rows import BOOKING_HEADERS, FORMULA_TRIGGERS, SESSION_HEADERS, neutralise, session_row
from core.exports.xlsx import PROGRESS_EVERY, register_xlsx, sessions_xlsx

__all__ = [
    "BOOKING_HEADERS", "FORMATS", "FORMULA_TRIGGERS", "MIME", "PROGRESS_EVERY", "REGISTER_HEADERS",
    "SESSION_HEADERS", "UID_DOMAIN", "ExportFile", "ExportScope", "LocalTime", "Register", "RegisterRow", "export_sessions",
    "load_bookings", "load_modified", "load_registers", "load_sessions", "neutralise", "register_html",
    "register_xlsx", "session_row", "sessions_csv", "sessions_ics", "sessions_xlsx", "utc_to_local",
]
