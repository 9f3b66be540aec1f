"""Import sessions from a CSV file: check every row first, import all of them or none.

    report = check_sessions_csv(engine, data)        # every bad row: line, column, why
    result = import_sessions_csv(engine, data, actor=Actor("Office", "admin"))
    if result.problems: show them (nothing was imported) else: result.created

The file may come from Excel: UTF-8 with or without a byte-order mark, or Windows-1252;
dates as 2025-03-31 or 31/03/2025 (day first, as in the UK); times as 09:00 or 9:00;
location as "Location A" or "A"; course by name or short code (EFAW).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from core.access import COMMAND_LINE, Actor, require
from core import validation
from core.lookup import LOCATION_HINT, course_named, location_named, uk_date
from core.models import LOCATIONS, CourseType, Session

COLUMNS = ("course_type", "session_date", "start_time", "end_time", "location", "max_capacity", "instructor_notes")
REQUIRED = ("course_type", "session_date", "start_time", "end_time", "location")
MAX_ROWS = 2000
MAX_BYTES = 2_000_000



def template_csv(*, today: dt.date | None = None) -> bytes:
    """A CSV to fill in: the header and two example rows dated next week (replace them)."""
    from core.config import today as local_today

    monday = (today or local_today()) + dt.timedelta(days=7)
    monday -= dt.timedelta(days=monday.weekday())
    rows = (
        ("First Aid at Work", (monday + dt.timedelta(days=1)).isoformat(), "09:00", "16:30", "Location A", "12",
         "Room 2, ground floor"),
        ("EFAW", f"{monday + dt.timedelta(days=3):%d/%m/%Y}", "09:00", "16:00", "B", "10", ""),
    )
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class RowProblem:
    """Why one cell (or a whole row, column '') cannot be imported. `line` is the file's
    line number as a spreadsheet or text editor shows it (the header is line 1)."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportReport:
    rows: tuple[dict, ...] = ()                      # cleaned specs, in file order
    lines: tuple[int, ...] = ()                      # the line of each spec
    problems: tuple[RowProblem, ...] = ()          # any of these: nothing is imported
    warnings: tuple[RowProblem, ...] = ()          # worth a look, but do not block
    created: tuple[Session, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows


_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::00)?$")


def _time(text: str) -> dt.time:
    m = _TIME.match(text)
    if not m:
        raise ValueError(text)
    return dt.time(int(m.group(1)), int(m.group(2)))


def _clean_row(values: dict[str, str], line: int, types: Sequence[CourseType], limit: int) -> tuple[dict | None, list[RowProblem]]:
    """Read one row's cells as people type them (a course's code, a UK date, 'A' for a site),
    then check the fields by the one rule for a session (core.validation.session_fields);
    every problem of the row is listed, one per column."""
    problems: list[RowProblem] = []

    def bad(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    for col in REQUIRED:
        if not values.get(col, "").strip():
            bad(col, "is empty; it is required.")
    spec: dict = {}
    if course := values.get("course_type", "").strip():
        spec["course_type"] = course_named(types, course)
        if spec["course_type"] is None:
            bad("course_type", f"{course[:60]!r} is not a course type; use one of: {', '.join(sorted(t.name for t in types))}.")
    if raw := values.get("session_date", "").strip():
        try:
            spec["session_date"] = uk_date(raw)
        except ValueError:
            bad("session_date", f"{raw[:30]!r} is not a date; use YYYY-MM-DD or DD/MM/YYYY.")
    for col in ("start_time", "end_time"):
        if raw := values.get(col, "").strip():
            try:
                spec[col] = _time(raw)
            except ValueError:
                bad(col, f"{raw[:20]!r} is not a time of day; use HH:MM (24-hour).")
    if raw := values.get("location", "").strip():
        spec["location"] = location_named(raw)
        if spec["location"] is None:
            bad("location", f"{raw[:40]!r} is not a location; {LOCATION_HINT}.")
    if raw := values.get("max_capacity", "").strip():
        if raw.isdigit():
            spec["max_capacity"] = int(raw)
        else:
            bad("max_capacity", f"{raw[:20]!r} is not a capacity; use a whole number from 1 to {limit} (or leave empty for {limit}).")
    spec["instructor_notes"] = values.get("instructor_notes", "").strip() or None
    read = {p.column for p in problems}
    cleaned, rule_problems = validation.session_fields(spec, limit=limit)
    for exc in rule_problems:
        if exc.field not in read:
            bad(exc.field, exc.reason)
    if problems:
        return None, problems
    return cleaned, []


def check_sessions_csv(engine: Engine, data: bytes | str, *, today: dt.date | None = None) -> ImportReport:
    """Check every row; return the cleaned rows and every problem found (none imported).

    Problems: the header; each cell; dates in the past; the same session (course, date,
    start, site) twice in the file or already on the schedule. Warnings: a different
    session at the same site at an overlapping time (in the file or on the schedule).
    """
    from core.catalog import list_course_types
    from core.config import get_settings
    from core.config import today as local_today
    from core.recurrence import find_clashes, overlaps

    today = today or local_today()
    if isinstance(data, bytes) and len(data) > MAX_BYTES:
        return ImportReport(problems=(RowProblem(1, "", f"The file is larger than {MAX_BYTES // 1_000_000} MB; split it."),))
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return ImportReport(problems=(RowProblem(1, "", "The file is empty; start from the template."),))
    except csv.Error as exc:
        return ImportReport(problems=(RowProblem(1, "", f"Not a readable CSV file ({exc})."),))
    names = [h.strip().lower().replace(" ", "_") for h in header]
    missing = [c for c in REQUIRED if c not in names]
    unknown = [h for h, n in zip(header, names) if n not in COLUMNS and n]
    header_problems = []
    if missing:
        header_problems.append(RowProblem(1, "", f"The header lacks the column(s) {', '.join(missing)}; "
                                                 f"the columns are {', '.join(COLUMNS)} (see the template)."))
    if unknown:
        header_problems.append(RowProblem(1, "", f"Unknown column(s) {', '.join(map(repr, unknown))}; "
                                                 f"the columns are {', '.join(COLUMNS)}."))
    if header_problems:
        return ImportReport(problems=tuple(header_problems))

    types = list_course_types(engine)
    limit = get_settings().capacity_limit
    rows, lines, problems = [], [], []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines (Excel often adds some at the end)
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append(RowProblem(line, "", f"More than {MAX_ROWS} rows; import at most {MAX_ROWS} at a time."))
                break
            if len(record) > len(names):
                problems.append(RowProblem(line, "", f"has {len(record)} cells but the header has {len(names)}; "
                                                     "check for an unquoted comma."))
                continue
            values = dict(zip(names, record))
            spec, found = _clean_row(values, line, types, limit)
            if found:
                problems.extend(found)
                continue
            if spec["session_date"] < today:
                problems.append(RowProblem(line, "session_date", f"{spec['session_date']:%d/%m/%Y} is in the past."))
                continue
            rows.append(spec)
            lines.append(line)
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, "", f"Not readable as CSV here ({exc})."))

    # The same session twice is an error (a double import); a different session at the
    # same site and overlapping time is only a warning: a site may have two rooms.
    warnings: list[RowProblem] = []
    for i, a in enumerate(rows):
        for j in range(i):
            b = rows[j]
            if (a["session_date"], a["location"]) != (b["session_date"], b["location"]):
                continue
            if (a["course_type"], a["start_time"]) == (b["course_type"], b["start_time"]):
                problems.append(RowProblem(lines[i], "start_time", f"is the same session as line {lines[j]}."))
                break
            if overlaps(a["start_time"], a["end_time"], b["start_time"], b["end_time"]):
                warnings.append(RowProblem(lines[i], "start_time", f"overlaps line {lines[j]} at {a['location']}."))
    for location in LOCATIONS:
        slots = {(r["session_date"], r["start_time"], r["end_time"]): n for n, r in enumerate(rows) if r["location"] == location}
        for slot, found in find_clashes(engine, location, slots).items():
            n = slots[slot]
            same = [s for s in found if (s.course_type, s.start_time) == (rows[n]["course_type"], slot[1])]
            if same:
                problems.append(RowProblem(lines[n], "start_time", f"{same[0].label} at {slot[1]:%H:%M} "
                                                                  "is already on the schedule."))
            else:
                listed = "; ".join(f"{s.course_type} {s.start_time:%H:%M}-{s.end_time:%H:%M}" for s in found)
                warnings.append(RowProblem(lines[n], "start_time", f"overlaps {listed} already at {location}."))
    if not rows and not problems:
        problems.append(RowProblem(2, "", "The file has a header but no sessions."))
    problems.sort(key=lambda p: (p.line, COLUMNS.index(p.column) if p.column in COLUMNS else -1))
    warnings.sort(key=lambda p: p.line)
    return ImportReport(rows=tuple(rows), lines=tuple(lines), problems=tuple(problems), warnings=tuple(warnings))


def import_sessions_csv(engine: Engine, data: bytes | str, *, actor: Actor | None = None,
                        today: dt.date | None = None) -> ImportReport:
    """Check the file; if every row is good, create all its sessions in one transaction.

    With any problem nothing is created and the report lists each one.
    """
    from core.sessions import create_sessions

    require(actor, "admin", "change the schedule")
    report = check_sessions_csv(engine, data, today=today)
    if report.problems:
        return report
    created = create_sessions(engine, list(report.rows), actor=actor)
    return ImportReport(rows=report.rows, lines=report.lines, warnings=report.warnings, created=tuple(created))


# --------------------------------------------------------------------------- command line


def add_import_parser(subparsers) -> argparse.ArgumentParser:
    """`python -m core import-sessions FILE [--check]` (same conventions as export)."""
    p = subparsers.add_parser("import-sessions", help="import sessions from a CSV file (all rows or none)")
    p.add_argument("file", help="CSV file with the template's columns")
    p.add_argument("--check", action="store_true", help="only check the file; import nothing")
    p.add_argument("--database-url", dest="import_database_url", default=None, metavar="URL",
                   help="database (default: the DATABASE_URL setting)")
    p.set_defaults(run=import_command)
    return p


def import_command(args: argparse.Namespace, engine: Engine | None = None) -> str:
    """Raises InvalidInput listing the problems (one per line) when the file is not good."""
    from core.errors import InvalidInput

    if engine is None:
        from core.db import get_engine

        engine = get_engine(getattr(args, "import_database_url", None) or getattr(args, "database_url", None))
    try:
        with open(args.file, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidInput("file", f"Cannot read {args.file!r}: {exc.strerror or exc}.") from None
    report = (check_sessions_csv(engine, data) if args.check
              else import_sessions_csv(engine, data, actor=COMMAND_LINE))
    if report.problems:
        for p in report.problems:
            print(p, file=sys.stderr)
        raise InvalidInput("file", f"{len(report.problems)} problem(s) in {args.file}; nothing was imported.")
    if args.check:
        return f"{len(report.rows)} sessions are ready to import; nothing was imported (--check)."
    return f"Imported {len(report.created)} sessions from {args.file}."
