"""Which sessions a report or an export covers, as one SQL filter for both.

`core.reports.ReportScope` and `core.exports.ExportScope` both carry `start`, `end`
(session dates, inclusive) and optional `course_types` / `locations` (None or empty: all);
`sessions_in(scope)` turns them into conditions on `course_sessions` with bound
parameters (an IN list is one expanding parameter, so the statement is cached once).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import sqlalchemy as sa

from core.schema import course_sessions as cs


class Scope(Protocol):
    start: dt.date
    end: dt.date
    course_types: tuple[str, ...] | None
    locations: tuple[str, ...] | None


def sessions_in(scope: Scope) -> sa.ColumnElement[bool]:
    """The scope's sessions: dates between start and end, then the course and site filters."""
    where = [cs.c.session_date.between(scope.start, scope.end)]
    if scope.course_types:
        where.append(cs.c.course_type.in_(list(scope.course_types)))
    if scope.locations:
        where.append(cs.c.location.in_(list(scope.locations)))
    return sa.and_(*where)


def running() -> sa.ColumnElement[bool]:
    """Sessions that run (scheduled or completed): every one not cancelled."""
    return cs.c.status != "cancelled"
