"""One call per format: the sessions of a scope as a file, ready to download or save."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core.exports.csv import sessions_csv
from core.exports.ics import load_modified, sessions_ics
from core.exports.queries import ExportScope, load_sessions
from core.exports.xlsx import Progress, sessions_xlsx

FORMATS = ("csv", "xlsx", "ics")
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ics": "text/calendar",
}


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    file_name: str
    mime: str
    sessions: int


def export_sessions(engine: Engine, scope: ExportScope, fmt: str, *, progress: Progress | None = None) -> ExportFile:
    """The sessions of `scope` in `fmt` (csv, xlsx or ics). Raises InvalidInput for another format.

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
