"""Sessions with availability as CSV: UTF-8 with a byte-order mark (so Excel reads accents
right), CRLF line ends, dates ISO, times HH:MM, formula-looking text neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from core.exports.rows import SESSION_HEADERS, neutralise, session_row
from core.models import Session


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _cell(value: object) -> object:
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
    """Sessions with availability as CSV: SESSION_HEADERS, one row a session."""
    return csv_bytes(SESSION_HEADERS, (session_row(s) for s in sessions))
