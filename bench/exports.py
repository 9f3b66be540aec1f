"""7. Large exports: the Excel workbook (and CSV, iCalendar) of 20,000 sessions.

DuckDB file with the data of the page-timings benchmark (20,000 sessions, ~120,000 one-place
bookings with an attendee each). The workbook as shipped (core/exports/xlsx_stream.py: worksheet
XML written directly, a block of rows at a time) against, in the same run and on the same
data, the writer it replaced (XlsxWriter in constant-memory mode, cell by cell) and the
same three sheets written a cell at a time in a normal openpyxl workbook, as the export did
at first. Each measures the whole export, reading the database included. Target: the
20,000-session workbook in under 3 s.
"""

from __future__ import annotations

import datetime as dt
import io
import time

from bench.page_timings import _load
from bench.stats import median
from core import exports
from core.exports import xlsx
from core.exports.rows import DATE_FORMATS
from core.exports.xlsx_stream import Formatted
from core.db import forget_engine, get_engine, migrate

SESSIONS = 20_000
TARGET_SECONDS = 3.0


def _cell_at_a_time(engine, scope: exports.ExportScope, sessions) -> bytes:
    """The former writer: a normal workbook, one typed cell at a time (xlsx.put)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    bookings = exports.load_bookings(engine, scope)
    sheets = (("Summary", ("Item", "Value"), xlsx.summary_rows(scope, sessions, bookings, dt.datetime(2031, 1, 1))),
              ("Sessions", exports.SESSION_HEADERS, [exports.session_row(s) for s in sessions]),
              ("Bookings", exports.BOOKING_HEADERS, bookings))
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title)
        for c, h in enumerate(headers, start=1):
            xlsx.put(ws, 1, c, h)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                xlsx.put(ws, r, c, getattr(value, "value", value))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsxwriter_streamed(engine, scope: exports.ExportScope) -> bytes:
    """The writer replaced by core/exports/xlsx_stream.py: XlsxWriter in constant-memory mode, one
    typed cell at a time (write_string with a quote-prefix format for formula-looking text,
    write_number, write_datetime), widths measured from every cell."""
    import xlsxwriter

    sessions = exports.load_sessions(engine, scope)
    bookings = exports.load_bookings(engine, scope)
    summary = xlsx.summary_rows(scope, sessions, bookings, dt.datetime(2031, 1, 1))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True})
    header = wb.add_format({"bold": True, "bg_color": "#E5E7EB", "pattern": 1})
    quoted = wb.add_format({"quote_prefix": True})
    formats: dict = {}

    def fmt(code):
        if code not in formats:
            formats[code] = wb.add_format({"num_format": code})
        return formats[code]

    by_type = {kind: fmt(code) for kind, code in DATE_FORMATS.items()}
    date_widths = {dt.datetime: 16, dt.date: 10, dt.time: 5}
    for title, headers, rows, column_fmts in (
            ("Summary", ("Item", "Value"), summary, {}),
            ("Sessions", exports.SESSION_HEADERS, (exports.session_row(s) for s in sessions), {"Fill rate": "0%"}),
            ("Bookings", exports.BOOKING_HEADERS, bookings, {})):
        ws = wb.add_worksheet(title)
        widths = [len(h) for h in headers]
        for c, h in enumerate(headers):
            ws.write_string(0, c, h, header)
        ws.freeze_panes(1, 0)
        col_fmt = [fmt(column_fmts[h]) if h in column_fmts else None for h in headers]
        r = 0
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                own = col_fmt[c]
                if isinstance(value, Formatted):
                    value, own = value.value, fmt(value.number_format)
                kind = type(value)
                if kind is str:
                    ws.write_string(r, c, value, quoted if value.startswith(exports.FORMULA_TRIGGERS) else None)
                    w = max(map(len, value.splitlines()), default=0)
                elif value is None:
                    continue
                elif kind in date_widths:
                    ws.write_datetime(r, c, value, own or by_type[kind])
                    w = date_widths[kind]
                else:
                    ws.write_number(r, c, value, own)
                    w = len(str(value))
                widths[c] = max(widths[c], w)
        for c, w in enumerate(widths):
            ws.set_column(c, c, min(max(w, 6) + 2, 60))
        if r:
            ws.autofilter(0, 0, r, len(headers) - 1)
    wb.close()
    return buf.getvalue()


def _timed(work, runs: int) -> tuple[list[float], object]:
    times, made = [], None
    for _ in range(runs):
        started = time.perf_counter()
        made = work()
        times.append(time.perf_counter() - started)
    return times, made


def run(ctx) -> dict:
    runs = 1 if ctx.quick else 3
    engine = get_engine(f"duckdb:///{ctx.tmp / 'exports.duckdb'}")
    try:
        migrate(engine)
        data = _load(engine)
        ctx.log(f"  duckdb: {data}")
        with engine.connect() as conn:
            first, last = conn.exec_driver_sql("SELECT min(session_date), max(session_date) FROM course_sessions").one()
        scope = exports.ExportScope(first, last, include_cancelled=True)
        sessions = exports.load_sessions(engine, scope)
        out: dict = {"data": data, "sessions": len(sessions), "runs": runs, "target_s": TARGET_SECONDS}
        for fmt in ("xlsx", "csv", "ics"):
            times, made = _timed(lambda fmt=fmt: exports.export_sessions(engine, scope, fmt), runs)
            out[fmt] = {"median_s": round(median(times), 2), "all_s": [round(t, 2) for t in times], "bytes": len(made.data)}
            ctx.log(f"  {fmt} of {made.sessions} sessions: median {median(times):.2f} s")
        times, made = _timed(lambda: _xlsxwriter_streamed(engine, scope), runs)
        out["xlsx_xlsxwriter"] = {"median_s": round(median(times), 2), "all_s": [round(t, 2) for t in times], "bytes": len(made)}
        out["xlsx_vs_xlsxwriter"] = round(median(times) / out["xlsx"]["median_s"], 1)
        ctx.log(f"  xlsx by the previous writer (XlsxWriter): median {median(times):.2f} s ({out['xlsx_vs_xlsxwriter']}x slower)")
        times, made = _timed(lambda: _cell_at_a_time(engine, scope, sessions), 1)
        out["xlsx_cell_at_a_time"] = {"median_s": round(median(times), 2), "bytes": len(made)}
        out["xlsx_speedup"] = round(median(times) / out["xlsx"]["median_s"], 1)
        ctx.log(f"  xlsx a cell at a time: {median(times):.2f} s ({out['xlsx_speedup']}x slower)")
        return out
    finally:
        forget_engine(engine)
