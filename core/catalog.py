"""Course types: name, short code, colour. A new course type is a row, not a code change."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import validation
from core.access import Actor, require
from core.changes import record
from core.db import reading, write
from core.errors import InvalidInput
from core.models import CourseType
from core.schema import course_types

UNKNOWN_COLOUR = "#6B7280"
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def list_course_types(engine: Engine) -> list[CourseType]:
    with reading(engine) as conn:
        rows = conn.execute(sa.select(course_types).order_by(course_types.c.sort_order, course_types.c.name))
        return [CourseType(r.name, r.short_code, r.colour, r.sort_order) for r in rows]


def save_course_type(
    engine: Engine, *, name: str, short_code: str, colour: str, sort_order: int = 99, actor: Actor | None = None
) -> CourseType:
    """Add a course type, or change the code and colour of an existing one."""
    who = require(actor, "admin", "change the course catalogue")
    name = validation.text(name, "name", "Course name", required=True, max_len=100)
    code = validation.text(short_code, "short_code", "Short code", required=True, max_len=12)
    if not isinstance(colour, str) or not _COLOUR.match(colour):
        raise InvalidInput("colour", f"{str(colour)[:20]!r} is not a colour like #0EA5E9.")

    def work(conn):
        clash = conn.execute(
            sa.select(course_types.c.name).where(course_types.c.short_code == code, course_types.c.name != name)
        ).first()
        if clash:
            raise InvalidInput("short_code", f"{code} is already the code of {clash.name}.")
        values = dict(short_code=code, colour=colour.upper(), sort_order=sort_order)
        if conn.execute(sa.update(course_types).where(course_types.c.name == name).values(**values)).rowcount == 0:
            conn.execute(course_types.insert().values(name=name, **values))
        record(conn, "course_type.saved", actor=who, details={"name": name, **values})
        return CourseType(name, code, colour.upper(), sort_order)

    return write(engine, work)


def known_names(conn) -> set[str]:
    return set(conn.execute(sa.select(course_types.c.name)).scalars())
