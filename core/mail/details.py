"""What the e-mails say about the sites and the courses; admins edit it.

A site has an address and directions; a course type has joining instructions (what to
bring) and how many days before a session its reminder goes (default 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import validation
from core.access import Actor, require
from core.changes import record
from core.db import reading, write
from core.errors import InvalidInput
from core.models import LOCATIONS
from core.schema import course_sessions as cs
from core.schema import course_types as ct
from core.schema import sites

DEFAULT_REMINDER_DAYS = 3
LONG_TEXT = 2000


@dataclass(frozen=True)
class Site:
    name: str
    address: str
    directions: str


@dataclass(frozen=True)
class CourseMail:
    name: str
    joining_instructions: str
    reminder_days: int


def _lines(value: object, field: str, label: str) -> str:
    """Text of several lines (an address): each line checked like any text field."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, f"{label} must be text.")
    if len(value) > LONG_TEXT:
        raise InvalidInput(field, f"{label} is too long ({len(value)} characters; at most {LONG_TEXT}).")
    lines = [validation.text(line, field, label, required=False, max_len=LONG_TEXT) or "" for line in value.splitlines()]
    return "\n".join(lines).strip()


def list_sites(engine: Engine) -> list[Site]:
    with reading(engine) as conn:
        found = {r.name: Site(r.name, r.address, r.directions) for r in conn.execute(sa.select(sites))}
    return [found.get(name, Site(name, "", "")) for name in LOCATIONS]


def save_site(engine: Engine, name: str, *, address: str, directions: str, actor: Actor | None = None) -> Site:
    """Set a site's address and directions (admins). Raises InvalidInput naming the field."""
    who = require(actor, "admin", "change the sites' details")
    site = validation.location(name)
    values = dict(address=_lines(address, "address", "Address"),
                  directions=_lines(directions, "directions", "Directions"))

    def work(conn: Connection) -> Site:
        if conn.execute(sa.update(sites).where(sites.c.name == site).values(**values)).rowcount == 0:
            conn.execute(sites.insert().values(name=site, **values))
        record(conn, "site.saved", actor=who, details={"name": site, **values})
        return Site(site, **values)

    return write(engine, work)


def list_course_mail(engine: Engine) -> list[CourseMail]:
    with reading(engine) as conn:
        rows = conn.execute(sa.select(ct.c.name, ct.c.joining_instructions, ct.c.reminder_days)
                            .order_by(ct.c.sort_order, ct.c.name)).all()
    return [CourseMail(r.name, r.joining_instructions or "", _days(r.reminder_days)) for r in rows]


def save_course_mail(engine: Engine, name: str, *, joining_instructions: str, reminder_days: int,
                     actor: Actor | None = None) -> CourseMail:
    """Set a course type's joining instructions and reminder days (admins)."""
    who = require(actor, "admin", "change the course catalogue")
    text = _lines(joining_instructions, "joining_instructions", "Joining instructions")
    days = validation.whole_number(reminder_days, "reminder_days", "Reminder days before", 0, 60)

    def work(conn: Connection) -> CourseMail:
        changed = conn.execute(sa.update(ct).where(ct.c.name == name)
                               .values(joining_instructions=text, reminder_days=days)).rowcount
        if changed == 0:
            raise InvalidInput("name", f"There is no course type called {str(name)[:100]!r}.")
        record(conn, "course_type.mail_saved", actor=who,
               details={"name": name, "joining_instructions": text, "reminder_days": days})
        return CourseMail(name, text, days)

    return write(engine, work)


def _days(value: int | None) -> int:
    return DEFAULT_REMINDER_DAYS if value is None else int(value)


def session_facts(conn: Connection, session_id) -> dict | None:
    """What a template says about a session: course, date, times, site, address, directions,
    joining instructions, reminder days (None when the session does not exist)."""
    row = conn.execute(
        sa.select(cs.c.id, cs.c.course_type, cs.c.session_date, cs.c.start_time, cs.c.end_time, cs.c.location,
                  cs.c.status, sites.c.address, sites.c.directions, ct.c.joining_instructions, ct.c.reminder_days)
        .select_from(cs.outerjoin(sites, sites.c.name == cs.c.location).outerjoin(ct, ct.c.name == cs.c.course_type))
        .where(cs.c.id == session_id)
    ).first()
    if row is None:
        return None
    return dict(id=row.id, course=row.course_type, date=row.session_date, start=row.start_time, end=row.end_time,
                location=row.location, status=row.status, address=row.address or "",
                directions=row.directions or "", joining=row.joining_instructions or "",
                reminder_days=_days(row.reminder_days))
