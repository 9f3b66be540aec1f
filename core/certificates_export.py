"""Certificates as CSV and Excel: who holds which certificate and when it expires, for all
companies or one ("all of ACME's first aiders and when they expire").

Kept apart from core/exports/ (the sessions and registers). The Excel file is written by
core/exports/xlsx_stream.py (text cells never formulas, dates typed); the CSV neutralises text
that a spreadsheet would read as a formula, as the sessions CSV does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core.exports import xlsx_stream
from core.certificates import Certificate, list_certificates
from core.config import today
from core.errors import InvalidInput

HEADERS = ("Name", "E-mail", "Company", "Course", "Certificate number", "Issued on", "Expires on", "Days left",
           "Status")


@dataclass(frozen=True)
class CertificatesFile:
    filename: str
    mime: str
    content: bytes
    rows: int


def _status(days_left: int) -> str:
    if days_left < 0:
        return "expired"
    return "expires within 90 days" if days_left <= 90 else "valid"


def rows(certs: Sequence[Certificate], on: dt.date) -> list[tuple]:
    """One row per certificate, soonest expiry first (as listed)."""
    return [(c.name, c.email or "", c.company or "", c.course_type, c.number, c.issued_on, c.expires_on,
             (c.expires_on - on).days, _status((c.expires_on - on).days)) for c in certs]


def _csv_text(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(xlsx_stream.FORMULA_TRIGGERS):
        return "'" + value  # a spreadsheet opening the CSV must not run it
    return value


def certificates_csv(table: Sequence[tuple]) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads accents right), CRLF, ISO dates."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows([_csv_text(v) for v in row] for row in table)
    return out.getvalue().encode("utf-8-sig")


def certificates_xlsx(table: Sequence[tuple]) -> bytes:
    """One sheet "Certificates" (header frozen, autofilter, dates as dates)."""
    buf = io.BytesIO()
    with xlsx_stream.Workbook(buf) as wb:
        wb.table_sheet("Certificates", HEADERS, table)
    return buf.getvalue()


def export_certificates(engine: Engine, fmt: str, *, company: str | None = None) -> CertificatesFile:
    """The certificates (of `company`'s people, any case, or everyone's) as `fmt` csv or xlsx."""
    on = today()
    table = rows(list_certificates(engine, company=company), on)
    stem = "certificates" + (f"_{_slug(company)}" if company else "") + f"_{on:%Y%m%d}"
    if fmt == "csv":
        return CertificatesFile(f"{stem}.csv", "text/csv", certificates_csv(table), len(table))
    if fmt == "xlsx":
        return CertificatesFile(f"{stem}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                certificates_xlsx(table), len(table))
    raise InvalidInput("format", f"Certificates export as csv or xlsx, not {str(fmt)[:10]!r}.")


def _slug(text: str) -> str:
    kept = "".join(ch if ch.isalnum() else "_" for ch in text.strip().lower())
    return "_".join(part for part in kept.split("_") if part)[:40] or "company"
