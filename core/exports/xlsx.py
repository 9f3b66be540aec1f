"""Excel workbooks: sessions with availability (Summary, Sessions and Bookings sheets,
streamed by xlsx_stream.py) and attendance registers (one styled, printable sheet
per session, written with openpyxl a cell at a time: a few hundred cells)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from core.exports.queries import ExportScope, load_bookings, load_sessions
from core.exports.register import REGISTER_HEADERS, Register
from core.exports.rows import BOOKING_HEADERS, DATE_FORMATS, FORMULA_TRIGGERS, SESSION_HEADERS, session_row
from core.exports.xlsx_stream import BLOCK, Formatted, Workbook
from core.models import Session
from core.wording import places

# Rows written between two calls of an export's progress(done, total) callback.
PROGRESS_EVERY = BLOCK

Progress = Callable[[int, int], None]


def summary_rows(scope: ExportScope, sessions: Sequence[Session], booking_rows: Sequence[tuple],
                 generated_at: dt.datetime) -> list[tuple]:
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
    summary = summary_rows(scope, sessions, booking_rows, generated_at)
    total = len(summary) + len(sessions) + len(booking_rows)
    done = 0

    def tick(rows: int) -> None:
        nonlocal done
        done += rows
        if progress:
            progress(min(done, total), total)

    if progress:
        progress(0, total)
    buf = io.BytesIO()
    with Workbook(buf) as wb:
        wb.table_sheet("Summary", ("Item", "Value"), summary, progress=tick)
        wb.table_sheet("Sessions", SESSION_HEADERS, (session_row(s) for s in sessions), {"Fill rate": "0%"}, progress=tick)
        wb.table_sheet("Bookings", BOOKING_HEADERS, booking_rows, progress=tick)
    if progress:
        progress(total, total)
    return buf.getvalue()


def put(ws, row: int, col: int, value: object, number_format: str | None = None):
    """Write one typed openpyxl cell; text is always a text cell (never a formula)."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would take '=...' for a formula
        if value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    else:
        cell.value = value
        for kind, fmt in DATE_FORMATS.items():
            if isinstance(value, kind):
                cell.number_format = fmt
                break
    if number_format:
        cell.number_format = number_format
    return cell


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
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    thin = Side(style="thin", color="9CA3AF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    widths = (5, 34, 24, 13, 22, 16, 24, 34)
    if not registers:
        ws = wb.create_sheet("Register")
        put(ws, 1, 1, "No sessions to register.")
    for reg in registers:
        s = reg.session
        ws = wb.create_sheet(_sheet_name(s, used))
        put(ws, 1, 1, "Attendance register").font = Font(bold=True, size=14)
        put(ws, 2, 1, reg.title).font = Font(bold=True)
        put(ws, 3, 1, f"{len(reg.rows)} expected of {places(s.max_capacity)}. Instructor: ______________________")
        header_row = 5
        for c, h in enumerate(REGISTER_HEADERS, start=1):
            cell = put(ws, header_row, c, h)
            cell.font, cell.border = Font(bold=True), border
        for i, row in enumerate(reg.rows, start=header_row + 1):
            values = (row.no, row.name, row.company, row.reference, row.contact_name, row.contact_phone,
                      row.attendance, "")
            for c, v in enumerate(values, start=1):
                cell = put(ws, i, c, v)
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
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
