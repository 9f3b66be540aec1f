"""Exports: sessions with availability (CSV, Excel), attendance registers (Excel, printable
HTML) and a calendar feed (.ics), from the page and from the command line.

Spreadsheet safety: a text value beginning with = + - @ tab or carriage return could run
as a formula when opened. In CSV such a value is written with a leading apostrophe
(`'=HYPERLINK(...)`), the usual neutralisation; in Excel it is stored as a text cell with
Excel's quote prefix, so it reads back unchanged and is shown as text, never evaluated.

Times are the sites' local wall-clock times throughout; the .ics carries them with
TZID=Europe/London and the matching VTIMEZONE, never converted through UTC.

Command line (wired into `python -m core` by `add_export_parser`):
    python -m core export --format csv|xlsx|ics --from 2025-03-01 --to 2025-03-31 \
        [--course-type EFAW ...] [--location A ...] [--include-cancelled] --output FILE
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import html
import io
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import xlsx_stream
from core.models import LOCATIONS, Session
from core.xlsx_stream import Formatted

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx", "ics")
STATE_LABELS = {
    "available": "Available",
    "almost_full": "Almost full",
    "full": "Full",
    "cancelled": "Cancelled",
    "completed": "Completed",
    "running": "Running (started)",
    "over": "Over",
}
UID_DOMAIN = "availability-calendar"


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class ExportScope:
    """Which sessions an export covers: session dates start..end (inclusive), filters.

    Empty or None filters mean all. Cancelled sessions are left out unless asked for.
    """

    start: dt.date
    end: dt.date
    course_types: tuple[str, ...] | None = None
    locations: tuple[str, ...] | None = None
    availability: tuple[str, ...] | None = None
    include_cancelled: bool = False

    def describe(self) -> str:
        """'1 Mar 2025 to 31 Mar 2025; First Aid at Work; Location A' for headers."""
        parts = [f"{_long_date(self.start)} to {_long_date(self.end)}"]
        parts.append(", ".join(self.course_types) if self.course_types else "all courses")
        parts.append(", ".join(self.locations) if self.locations else "both locations")
        if self.availability:
            parts.append(", ".join(STATE_LABELS.get(a, a) for a in self.availability))
        if self.include_cancelled:
            parts.append("cancelled sessions included")
        return "; ".join(parts)

    def file_stem(self) -> str:
        return f"sessions_{self.start:%Y-%m-%d}_to_{self.end:%Y-%m-%d}"


def _long_date(d: dt.date) -> str:
    return f"{d.day} {d:%b %Y}"


def load_sessions(engine: Engine, scope: ExportScope) -> list[Session]:
    """The sessions of the scope, as the calendar shows them (core.availability)."""
    from core.availability import find_sessions

    return find_sessions(
        engine,
        scope.start,
        scope.end,
        course_types=scope.course_types or None,
        locations=scope.locations or None,
        availability=scope.availability or None,
        include_cancelled=scope.include_cancelled,
    )


# --------------------------------------------------------------------------- cells


def neutralise(value: object) -> object:
    """For CSV: prefix a formula-looking text with an apostrophe; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def state_label(session: Session) -> str:
    return STATE_LABELS.get(session.state, session.state)


SESSION_HEADERS = (
    "Date", "Day", "Start", "End", "Course", "Code", "Location", "Capacity", "Booked", "Held",
    "Places left", "Fill rate", "Status", "Availability", "Instructor notes", "Session ID",
)


def session_row(s: Session) -> tuple:
    """One sessions-sheet row with typed values (dates, times, ints, a 0..1 fill rate).

    Places left = capacity - booked - held (places held for callers right now)."""
    fill = s.current_bookings / s.max_capacity if s.max_capacity else 0.0
    return (
        s.session_date, f"{s.session_date:%a}", s.start_time, s.end_time, s.course_type,
        s.short_code, s.location, s.max_capacity, s.current_bookings, s.held, s.remaining,
        round(fill, 4), s.status, state_label(s), s.instructor_notes or "", str(s.id),
    )


BOOKING_HEADERS = (
    "Session date", "Start", "Course", "Location", "Reference", "Status", "Seats",
    "Contact name", "Contact e-mail", "Contact phone", "Company", "Attendees",
    "Booked at", "Booked by", "Session ID",
)


def load_bookings(engine: Engine, scope: ExportScope) -> list[tuple]:
    """Every booking (any status) on the scope's sessions, one row each (BOOKING_HEADERS),
    with attendee names joined in seat order and the booking time in local time."""
    from core.config import get_settings
    from core.db import reading

    tz = get_settings().timezone
    where = ["s.session_date BETWEEN :start AND :end"]
    params: dict = {"start": scope.start, "end": scope.end}
    binds = []
    if scope.course_types:
        where.append("s.course_type IN :course_types")
        params["course_types"] = list(scope.course_types)
        binds.append(sa.bindparam("course_types", expanding=True))
    if scope.locations:
        where.append("s.location IN :locations")
        params["locations"] = list(scope.locations)
        binds.append(sa.bindparam("locations", expanding=True))
    if not scope.include_cancelled:
        where.append("s.status <> 'cancelled'")
    sql = f"""
        SELECT s.session_date, s.start_time, s.course_type, s.location, b.reference, b.status,
               b.seats, b.contact_name, b.contact_email, b.contact_phone, b.company,
               a.names, date_trunc('second', b.created_at), b.created_by, CAST(s.id AS VARCHAR)
        FROM bookings b
        JOIN course_sessions s ON s.id = b.session_id
        LEFT JOIN (SELECT booking_id, string_agg(name, '; ' ORDER BY seat_no) AS names
                   FROM booking_attendees GROUP BY booking_id) a ON a.booking_id = b.id
        WHERE {' AND '.join(where)}
        ORDER BY s.session_date, s.start_time, s.location, s.course_type, b.created_at, b.reference
    """
    stmt = sa.text(sql).bindparams(*binds) if binds else sa.text(sql)
    with reading(engine) as conn:
        rows = conn.execute(stmt, params).all()
    to_local = _LocalTime(tz)
    return [(*r[:11], r[11] or "", to_local(r[12]), r[13] or "", r[14]) for r in rows]


def _utc_to_local(value: dt.datetime | None, tz) -> dt.datetime | None:
    """Record timestamps are naive UTC; staff read them in local time (naive, for Excel)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc).astimezone(tz).replace(tzinfo=None, microsecond=0)


class _LocalTime:
    """_utc_to_local for many timestamps: the zone's offset is looked up once per UTC day, or
    once per UTC hour on a day when it changes (an hour with a change of offset inside it is
    converted value by value)."""

    def __init__(self, tz):
        self.tz = tz
        self.days: dict[dt.date, dt.timedelta | None] = {}
        self.offsets: dict[dt.datetime, dt.timedelta | None] = {}

    def _offset(self, start: dt.datetime, span: dt.timedelta) -> dt.timedelta | None:
        """The offset over [start, start + span), None if it changes within."""
        last = start + span - dt.timedelta(seconds=1)
        first = _utc_to_local(start, self.tz) - start
        return first if _utc_to_local(last, self.tz) - last == first else None

    def __call__(self, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        day = value.date()
        offset = self.days.get(day, False)
        if offset is False:
            offset = self.days[day] = self._offset(dt.datetime.combine(day, dt.time()), dt.timedelta(days=1))
        if offset is None:
            hour = value.replace(minute=0, second=0, microsecond=0)
            offset = self.offsets.get(hour, False)
            if offset is False:
                offset = self.offsets[hour] = self._offset(hour, dt.timedelta(hours=1))
            if offset is None:
                return _utc_to_local(value, self.tz)
        value = value + offset
        return value.replace(microsecond=0) if value.microsecond else value


# --------------------------------------------------------------------------- CSV


def _csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads accents right), CRLF, neutralised."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(value)


def sessions_csv(sessions: Sequence[Session]) -> bytes:
    """Sessions with availability as CSV: SESSION_HEADERS, dates ISO, times HH:MM."""
    return _csv_bytes(SESSION_HEADERS, (session_row(s) for s in sessions))


# --------------------------------------------------------------------------- Excel


def _workbook():
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    return wb


def _xlsx_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_NUMBER_FORMATS = {
    dt.datetime: "dd/mm/yyyy hh:mm",
    dt.date: "dd/mm/yyyy",
    dt.time: "hh:mm",
}


def _put(ws, row: int, col: int, value: object, number_format: str | None = None):
    """Write one typed cell; text is always a text cell (never a formula)."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would take '=...' for a formula
        if value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    else:
        cell.value = value
        for kind, fmt in _NUMBER_FORMATS.items():
            if isinstance(value, kind):
                cell.number_format = fmt
                break
    if number_format:
        cell.number_format = number_format
    return cell


# Rows written between two calls of an export's progress(done, total) callback.
PROGRESS_EVERY = xlsx_stream.BLOCK

Progress = Callable[[int, int], None]


def _summary_rows(scope: ExportScope, sessions: Sequence[Session], booking_rows: Sequence[tuple], generated_at: dt.datetime):
    running = [s for s in sessions if s.status != "cancelled"]
    sold = sum(s.current_bookings for s in running)
    capacity = sum(s.max_capacity for s in running)
    return [
        ("Report", "Sessions with availability"),
        ("Generated", generated_at),
        ("Sessions from", scope.start),
        ("Sessions to", scope.end),
        ("Courses", ", ".join(scope.course_types) if scope.course_types else "All"),
        ("Locations", ", ".join(scope.locations) if scope.locations else "Both"),
        ("Cancelled sessions", "Included" if scope.include_cancelled else "Left out"),
        ("Sessions (not cancelled)", len(running)),
        ("Places sold", sold),
        ("Capacity", capacity),
        ("Fill rate", Formatted(round(sold / capacity, 4) if capacity else 0.0, "0%")),
        ("Places left", sum(s.remaining for s in running if s.status == "scheduled")),
        ("Full sessions", sum(1 for s in running if s.current_bookings >= s.max_capacity)),
        ("Cancelled sessions in range", sum(1 for s in sessions if s.status == "cancelled")),
        ("Bookings listed", len(booking_rows)),
    ]


def sessions_xlsx(
    engine: Engine, scope: ExportScope, *, sessions: Sequence[Session] | None = None,
    generated_at: dt.datetime | None = None, progress: Progress | None = None,
) -> bytes:
    """Workbook with a Summary sheet, a Sessions sheet and a Bookings sheet.

    `progress(done, total)`, if given, is called as rows are written (every
    PROGRESS_EVERY rows of a sheet and at each sheet's end; total = rows of all sheets),
    once more with (total, total) when the file is complete.
    """
    from core.config import now_local

    sessions = load_sessions(engine, scope) if sessions is None else sessions
    booking_rows = load_bookings(engine, scope)
    generated_at = generated_at or now_local().replace(microsecond=0)
    summary_rows = _summary_rows(scope, sessions, booking_rows, generated_at)
    total = len(summary_rows) + len(sessions) + len(booking_rows)
    done = 0

    def tick(rows: int) -> None:
        nonlocal done
        done += rows
        if progress:
            progress(min(done, total), total)

    if progress:
        progress(0, total)
    buf = io.BytesIO()
    with xlsx_stream.Workbook(buf) as wb:
        wb.table_sheet("Summary", ("Item", "Value"), summary_rows, progress=tick)
        wb.table_sheet("Sessions", SESSION_HEADERS, (session_row(s) for s in sessions), {"Fill rate": "0%"}, progress=tick)
        wb.table_sheet("Bookings", BOOKING_HEADERS, booking_rows, progress=tick)
    if progress:
        progress(total, total)
    return buf.getvalue()


# --------------------------------------------------------------------------- register


@dataclass(frozen=True)
class RegisterRow:
    no: int
    name: str
    email: str
    company: str
    reference: str
    contact_name: str
    contact_phone: str
    named: bool = True


@dataclass(frozen=True)
class Register:
    """The attendance register of one session: one row per seat booked."""

    session: Session
    rows: tuple[RegisterRow, ...] = field(default_factory=tuple)


REGISTER_HEADERS = ("No.", "Attendee", "Company", "Booking ref", "Booked by", "Contact phone", "Signature")


def load_registers(
    engine: Engine, *, session_id: object | None = None, day: dt.date | None = None,
    locations: Iterable[str] | None = None, course_types: Iterable[str] | None = None,
) -> list[Register]:
    """Registers for one session, or for every session on `day` (not cancelled).

    A seat booked without a name gets a row "Name to be given (booked by ...)" so the
    register has a line for everyone expected. Raises SessionNotFound / InvalidInput.
    """
    from core.availability import find_sessions, get_session
    from core.db import reading

    if (session_id is None) == (day is None):
        from core.errors import InvalidInput

        raise InvalidInput("session_id", "Choose one session or one day for the register.")
    if session_id is not None:
        sessions = [get_session(engine, session_id)]
    else:
        sessions = find_sessions(engine, day, day, course_types=list(course_types or []) or None,
                                 locations=list(locations or []) or None)
    if not sessions:
        return []
    ids = [s.id for s in sessions]
    stmt = sa.text(
        """
        SELECT b.session_id, b.id, b.reference, b.seats, b.contact_name, b.contact_phone,
               b.company, ba.seat_no, ba.name, ba.email
        FROM bookings b
        LEFT JOIN booking_attendees ba ON ba.booking_id = b.id
        WHERE b.session_id IN :ids AND b.status = 'confirmed'
        ORDER BY b.created_at, b.reference, ba.seat_no
        """
    ).bindparams(sa.bindparam("ids", expanding=True))
    with reading(engine) as conn:
        rows = conn.execute(stmt, {"ids": ids}).all()
    by_booking: dict[uuid.UUID, dict] = {}
    for r in rows:
        b = by_booking.setdefault(r.id, dict(row=r, people=[]))
        if r.name is not None:
            b["people"].append((r.name, r.email or ""))
    per_session: dict[uuid.UUID, list[tuple]] = {sid: [] for sid in ids}
    for b in by_booking.values():
        r = b["row"]
        common = (r.company or "", r.reference, r.contact_name, r.contact_phone or "")
        for name, mail in b["people"]:
            per_session[r.session_id].append((True, name, mail, *common))
        for _ in range(max(r.seats - len(b["people"]), 0)):
            per_session[r.session_id].append(
                (False, f"Name to be given (booked by {r.contact_name})", "", *common)
            )
    registers = []
    for s in sessions:
        entries = sorted(per_session[s.id], key=lambda e: (not e[0], e[1].casefold()))
        registers.append(Register(s, tuple(
            RegisterRow(i, name, mail, company, ref, contact, phone, named)
            for i, (named, name, mail, company, ref, contact, phone) in enumerate(entries, start=1)
        )))
    return registers


def _register_title(s: Session) -> str:
    return (f"{s.course_type}: {s.session_date:%A} {s.session_date.day} {s.session_date:%B %Y}, "
            f"{s.start_time:%H:%M}-{s.end_time:%H:%M}, {s.location}")


def _sheet_name(s: Session, used: set[str]) -> str:
    base = f"{s.short_code} {s.start_time:%H%M} {s.location.replace('Location ', '')}"
    name = base[:28]
    n = 2
    while name in used:
        name = f"{base[:25]} ({n})"
        n += 1
    used.add(name)
    return name


def register_xlsx(registers: Sequence[Register]) -> bytes:
    """One sheet per session: a title, the header row (frozen, repeated on each printed
    page) and one bordered row per attendee with a wide signature column; landscape A4."""
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = _workbook()
    used: set[str] = set()
    thin = Side(style="thin", color="9CA3AF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    widths = (5, 34, 24, 13, 22, 16, 34)
    if not registers:
        ws = wb.create_sheet("Register")
        _put(ws, 1, 1, "No sessions to register.")
    for reg in registers:
        s = reg.session
        ws = wb.create_sheet(_sheet_name(s, used))
        _put(ws, 1, 1, "Attendance register").font = Font(bold=True, size=14)
        _put(ws, 2, 1, _register_title(s)).font = Font(bold=True)
        _put(ws, 3, 1, f"{len(reg.rows)} expected of {s.max_capacity} places. "
                       "Instructor: ______________________")
        header_row = 5
        for c, h in enumerate(REGISTER_HEADERS, start=1):
            cell = _put(ws, header_row, c, h)
            cell.font, cell.border = Font(bold=True), border
        for i, row in enumerate(reg.rows, start=header_row + 1):
            values = (row.no, row.name, row.company, row.reference, row.contact_name, row.contact_phone, "")
            for c, v in enumerate(values, start=1):
                cell = _put(ws, i, c, v)
                cell.border = border
                cell.alignment = Alignment(vertical="center", wrap_text=c == 2)
                if not row.named and c == 2:
                    cell.font = Font(italic=True, color="6B7280")
            ws.row_dimensions[i].height = 30
        for c, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = w
        ws.freeze_panes = f"A{header_row + 1}"
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    return _xlsx_bytes(wb)


_REGISTER_CSS = """
body { font-family: Arial, Helvetica, sans-serif; color: #111827; margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 4px; }
p.meta { margin: 0 0 12px; color: #374151; }
table { border-collapse: collapse; width: 100%; margin-bottom: 8px; }
th, td { border: 1px solid #9CA3AF; padding: 6px 8px; text-align: left; vertical-align: middle; }
th { background: #E5E7EB; }
td { height: 30px; }
td.no { width: 32px; text-align: right; }
td.sign { width: 30%; }
td.unnamed { color: #6B7280; font-style: italic; }
td.nowrap { white-space: nowrap; }
section { page-break-after: always; break-after: page; }
section:last-of-type { page-break-after: auto; break-after: auto; }
.noprint { margin-bottom: 16px; }
@media print { .noprint { display: none; } body { margin: 0; } }
@page { size: A4 landscape; margin: 12mm; }
"""


def register_html(registers: Sequence[Register], *, title: str = "Attendance register") -> str:
    """A printable page (A4 landscape, one session per page); every value HTML-escaped."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_REGISTER_CSS}</style></head><body>",
        '<div class="noprint"><button onclick="window.print()">Print</button></div>',
    ]
    if not registers:
        parts.append("<p>No sessions to register.</p>")
    for reg in registers:
        s = reg.session
        parts.append("<section>")
        parts.append(f"<h1>{e(title)}</h1><h2>{e(_register_title(s))}</h2>")
        notes = f" Notes: {e(s.instructor_notes)}" if s.instructor_notes else ""
        parts.append(f'<p class="meta">{len(reg.rows)} expected of {s.max_capacity} places. '
                     f"Instructor: ______________________{notes}</p>")
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in REGISTER_HEADERS)
                     + "</tr></thead><tbody>")
        for row in reg.rows:
            name_class = "" if row.named else ' class="unnamed"'
            parts.append(
                f'<tr><td class="no">{row.no}</td><td{name_class}>{e(row.name)}</td>'
                f'<td>{e(row.company)}</td><td class="nowrap">{e(row.reference)}</td><td>{e(row.contact_name)}</td>'
                f'<td class="nowrap">{e(row.contact_phone)}</td><td class="sign"></td></tr>'
            )
        if not reg.rows:
            parts.append(f'<tr><td colspan="{len(REGISTER_HEADERS)}">No bookings yet.</td></tr>')
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- iCalendar


def _event_summary(s: Session) -> str:
    if s.state == "cancelled":
        return f"CANCELLED: {s.course_type}"
    if s.state in ("running", "over", "completed"):  # started: never places left
        return f"{s.course_type} ({'running' if s.state == 'running' else 'over'})"
    if s.remaining == 0:
        return f"{s.course_type} - FULL"
    places = "place" if s.remaining == 1 else "places"
    return f"{s.course_type} - {s.remaining} {places} left"


# SEQUENCE counts seconds from here to the event's LAST-MODIFIED: it grows with every change
# a client can see, also one made by no write (a hold running out, the session starting).
_SEQUENCE_EPOCH = dt.datetime(2024, 1, 1)


def load_modified(engine: Engine, sessions: Sequence[Session]) -> dict[uuid.UUID, dt.datetime]:
    """When each session's event last changed (naive UTC, whole seconds): the last write to
    the session, the last of its holds to run out, its start and its end, whichever is latest
    and has happened."""
    from core.config import get_settings, utc_now
    from core.db import reading
    from core.schema import course_sessions as cs
    from core.schema import holds as hd

    if not sessions:
        return {}
    now, tz = utc_now(), get_settings().timezone
    expired = (sa.select(sa.func.max(hd.c.expires_at))
               .where(hd.c.session_id == cs.c.id, hd.c.expires_at <= sa.bindparam("now")).scalar_subquery())
    first, last = min(s.session_date for s in sessions), max(s.session_date for s in sessions)
    stmt = sa.select(cs.c.id, cs.c.updated_at, expired).where(cs.c.session_date.between(first, last))
    with reading(engine) as conn:
        written = {r[0]: max(r[1], r[2] or r[1]) for r in conn.execute(stmt, {"now": now})}
    out = {}
    for s in sessions:
        moments = [written.get(s.id, _SEQUENCE_EPOCH)]
        for local in (s.starts_at, s.ends_at):
            at = local.replace(tzinfo=tz).astimezone(dt.timezone.utc).replace(tzinfo=None)
            if at <= now:
                moments.append(at)
        out[s.id] = max(moments).replace(microsecond=0)
    return out


def sessions_ics(
    sessions: Sequence[Session], *, tz=None, stamp: dt.datetime | None = None,
    calendar_name: str = "Course availability", modified: dict[uuid.UUID, dt.datetime] | None = None,
    span: tuple[dt.date, dt.date] | None = None,
) -> bytes:
    """An RFC 5545 calendar: VTIMEZONE for the sites' zone, one VEVENT per session.

    DTSTART/DTEND are the local wall-clock times with TZID (no UTC round trip); the
    VTIMEZONE is written by core.vtimezone as every client reads it (a yearly RRULE, else
    one RDATE per line), right for `span` (default: the sessions' dates). UIDs are stable per
    session, so importing a newer file updates events instead of doubling them; with
    `modified` (load_modified) each event says when it last changed (LAST-MODIFIED) and a
    SEQUENCE that grows with it, so clients replace an old title.
    """
    from icalendar import Calendar, Event

    from core.config import get_settings, today, utc_now
    from core.vtimezone import vtimezone

    tz = tz or get_settings().timezone
    stamp = stamp or utc_now().replace(microsecond=0, tzinfo=dt.timezone.utc)
    cal = Calendar()
    cal.add("prodid", "-//First aid training//Course availability//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    cal.add("x-wr-timezone", tz.key)
    if span is None:
        days = [s.session_date for s in sessions] or [today()]
        span = (min(days), max(days))
    cal.add_component(vtimezone(tz, *span))
    for s in sessions:
        ev = Event()
        ev.add("uid", f"{s.id}@{UID_DOMAIN}")
        ev.add("dtstamp", stamp)
        if modified and s.id in modified:
            changed = modified[s.id]
            ev.add("last-modified", changed.replace(tzinfo=dt.timezone.utc))
            ev.add("sequence", max(int((changed - _SEQUENCE_EPOCH).total_seconds()), 0))
        ev.add("dtstart", dt.datetime.combine(s.session_date, s.start_time, tzinfo=tz))
        ev.add("dtend", dt.datetime.combine(s.session_date, s.end_time, tzinfo=tz))
        ev.add("summary", _event_summary(s))
        ev.add("location", s.location)
        ev.add("description", (
            f"{s.course_type} at {s.location}, {s.start_time:%H:%M}-{s.end_time:%H:%M}.\n"
            f"Places left: {s.remaining} of {s.max_capacity} ({s.current_bookings} booked).\n"
            f"Status: {state_label(s)}."
        ))
        ev.add("categories", [s.course_type])
        ev.add("status", "CANCELLED" if s.status == "cancelled" else "CONFIRMED")
        ev.add("transp", "TRANSPARENT")
        ev.add("x-places-left", str(s.remaining))
        cal.add_component(ev)
    return cal.to_ical()


# --------------------------------------------------------------------------- one call per format


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    file_name: str
    mime: str
    sessions: int


MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ics": "text/calendar",
}


def export_sessions(engine: Engine, scope: ExportScope, fmt: str, *, progress: Progress | None = None) -> ExportFile:
    """The sessions of `scope` in `fmt` (csv, xlsx or ics), ready to download or save.

    `progress(done, total)` follows the writing of a workbook (see sessions_xlsx); the
    other formats take well under a second and do not call it."""
    from core.errors import InvalidInput

    if fmt not in FORMATS:
        raise InvalidInput("format", f"Export format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    sessions = load_sessions(engine, scope)
    if fmt == "csv":
        data = sessions_csv(sessions)
    elif fmt == "xlsx":
        data = sessions_xlsx(engine, scope, sessions=sessions, progress=progress)
    else:
        data = sessions_ics(sessions, modified=load_modified(engine, sessions), span=(scope.start, scope.end))
    return ExportFile(data, f"{scope.file_stem()}.{fmt}", MIME[fmt], len(sessions))


# --------------------------------------------------------------------------- command line


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2025-03-31") from None


def _one_line_error(parser: argparse.ArgumentParser):
    def error(message: str):  # argparse's default prints the whole usage block first
        parser.exit(2, f"{parser.prog}: error: {message} (see --help)\n")

    return error


def add_export_parser(subparsers) -> argparse.ArgumentParser:
    """Add `export` to the `python -m core` subcommands.

    Sets `run` (args -> message, raising BookingError with a one-line message, the
    convention of core/__main__.py) and `func` (args -> exit status, printing errors).
    """
    p = subparsers.add_parser(
        "export",
        help="export sessions with availability as CSV, Excel or iCalendar",
        description="Export the sessions of a date range (with availability) for scheduled jobs.",
    )
    p.add_argument("--format", required=True, choices=FORMATS, help="file format")
    p.add_argument("--from", dest="date_from", required=True, type=_parse_date, metavar="DATE",
                   help="first session date, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, type=_parse_date, metavar="DATE",
                   help="last session date (included), YYYY-MM-DD")
    p.add_argument("--course-type", dest="course_types", action="extend", nargs="+", default=[],
                   metavar="COURSE", help="course name or short code (EFAW, FAW, ...); repeatable")
    p.add_argument("--location", dest="locations", action="extend", nargs="+", default=[],
                   metavar="LOCATION", help="'Location A' or 'A', 'Location B' or 'B'; repeatable")
    p.add_argument("--include-cancelled", action="store_true", help="also list cancelled sessions")
    p.add_argument("--output", required=True, metavar="FILE", help="file to write ('-' for standard output)")
    p.add_argument("--database-url", dest="export_database_url", default=None, metavar="URL",
                   help="database to read (default: the DATABASE_URL setting)")
    p.error = _one_line_error(p)  # type: ignore[method-assign]
    p.set_defaults(run=export_command, func=run_export)
    return p


def _resolve_locations(values: Sequence[str]) -> tuple[str, ...] | None:
    from core.errors import InvalidInput

    found = []
    for v in values:
        key = v.strip().lower().removeprefix("location").strip()
        match = [loc for loc in LOCATIONS if loc.lower().removeprefix("location").strip() == key]
        if not match:
            raise InvalidInput("location", f"--location {v!r} is not a location; use {' or '.join(LOCATIONS)} (or A / B).")
        found.append(match[0])
    return tuple(dict.fromkeys(found)) or None


def _resolve_course_types(engine: Engine, values: Sequence[str]) -> tuple[str, ...] | None:
    from core.catalog import list_course_types
    from core.errors import InvalidInput

    if not values:
        return None
    types = list_course_types(engine)
    found = []
    for v in values:
        key = v.strip().casefold()
        match = [t.name for t in types if key in (t.name.casefold(), t.short_code.casefold())]
        if not match:
            known = ", ".join(f"{t.short_code} ({t.name})" for t in types)
            raise InvalidInput("course_type", f"--course-type {v!r} is not a course; use one of: {known}.")
        found.append(match[0])
    return tuple(dict.fromkeys(found))


def _write_atomically(path: str, data: bytes) -> None:
    """Write beside the target then rename, so a scheduled reader never sees half a file."""
    from core.errors import InvalidInput

    target = Path(path)
    if target.is_dir():
        raise InvalidInput("output", f"--output {path!r} is a folder; give a file name.")
    if not target.parent.is_dir():
        raise InvalidInput("output", f"--output: the folder {str(target.parent)!r} does not exist.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        Path(locals().get("tmp", target.parent / ".none")).unlink(missing_ok=True)
        raise InvalidInput("output", f"Cannot write {path!r}: {exc.strerror or exc}.") from None


def export_command(args: argparse.Namespace, engine: Engine | None = None) -> str:
    """Do the export the arguments ask for; return the line to print ('' for stdout output).

    Raises InvalidInput (bad arguments, unwritable file) or another BookingError
    (e.g. DatabaseUnavailable), each with a one-line message.
    """
    from core.errors import InvalidInput

    if args.date_to < args.date_from:
        raise InvalidInput("to", f"--to {args.date_to} is before --from {args.date_from}.")
    locations = _resolve_locations(args.locations)
    if engine is None:
        from core.db import get_engine

        engine = get_engine(getattr(args, "export_database_url", None) or getattr(args, "database_url", None))
    scope = ExportScope(args.date_from, args.date_to, _resolve_course_types(engine, args.course_types),
                        locations, include_cancelled=args.include_cancelled)
    result = export_sessions(engine, scope, args.format)
    if args.output == "-":
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
        print(f"Exported {result.sessions} sessions ({scope.describe()}).", file=sys.stderr)
        return ""
    _write_atomically(args.output, result.data)
    return f"Exported {result.sessions} sessions ({scope.describe()}) to {args.output}."


def run_export(args: argparse.Namespace, engine: Engine | None = None) -> int:
    """`export_command` as an exit status: 0 done, 2 bad arguments, 1 could not export."""
    from core.errors import BookingError, InvalidInput

    try:
        message = export_command(args, engine)
    except InvalidInput as exc:
        print(f"python -m core export: error: {exc}", file=sys.stderr)
        return 2
    except BookingError as exc:
        print(f"python -m core export: error: {exc}", file=sys.stderr)
        return 1
    if message:
        print(message)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m core.exports export ...`: the export command on its own."""
    parser = argparse.ArgumentParser(prog="python -m core")
    sub = parser.add_subparsers(dest="command", required=True)
    add_export_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
