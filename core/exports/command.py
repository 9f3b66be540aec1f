"""`python -m core export ...`: the export subcommand, wired in by core/__main__.py (the one
command line, which prints the error and sets the exit status).

    python -m core export --format csv|xlsx|ics --from 2025-03-01 --to 2025-03-31 \
        [--course-type EFAW ...] [--location A ...] [--include-cancelled] --output FILE
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Engine

from core.errors import InvalidInput
from core.exports.files import FORMATS, export_sessions
from core.exports.queries import ExportScope
from core.lookup import LOCATION_HINT, course_named, known_courses, location_named


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
    """Add `export` to the `python -m core` subcommands; sets `run` (args -> message, raising
    CoreError with a one-line message, the convention of core/__main__.py)."""
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
    p.set_defaults(run=export_command)
    return p


def _locations(values: Sequence[str]) -> tuple[str, ...] | None:
    found = []
    for v in values:
        if (loc := location_named(v)) is None:
            raise InvalidInput("location", f"--location {v!r} is not a location; {LOCATION_HINT}.")
        found.append(loc)
    return tuple(dict.fromkeys(found)) or None


def _course_types(engine: Engine, values: Sequence[str]) -> tuple[str, ...] | None:
    from core.catalog import list_course_types

    if not values:
        return None
    types = list_course_types(engine)
    found = []
    for v in values:
        if (name := course_named(types, v)) is None:
            raise InvalidInput("course_type", f"--course-type {v!r} is not a course; use one of: {known_courses(types)}.")
        found.append(name)
    return tuple(dict.fromkeys(found))


def _write_atomically(path: str, data: bytes) -> None:
    """Write beside the target then rename, so a scheduled reader never sees half a file."""
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

    Raises InvalidInput (bad arguments, unwritable file) or another CoreError, each with a
    one-line message; DatabaseUnavailable when the database cannot be read.
    """
    if args.date_to < args.date_from:
        raise InvalidInput("to", f"--to {args.date_to} is before --from {args.date_from}.")
    locations = _locations(args.locations)
    if engine is None:
        from core.db import get_engine

        engine = get_engine(getattr(args, "export_database_url", None) or getattr(args, "database_url", None))
    scope = ExportScope(args.date_from, args.date_to, _course_types(engine, args.course_types),
                        locations, include_cancelled=args.include_cancelled)
    result = export_sessions(engine, scope, args.format)
    if args.output == "-":
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
        print(f"Exported {result.sessions} sessions ({scope.describe()}).", file=sys.stderr)
        return ""
    _write_atomically(args.output, result.data)
    return f"Exported {result.sessions} sessions ({scope.describe()}) to {args.output}."
