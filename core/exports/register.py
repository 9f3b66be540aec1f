"""Attendance registers: one row per seat booked on a session, as a printable page (from
the template register.html) or a workbook (core.exports.xlsx.register_xlsx)."""

from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.models import Session
from core.wording import full_date, hours, places

REGISTER_HEADERS = ("No.", "Attendee", "Company", "Booking ref", "Booked by", "Contact phone", "Attendance",
                    "Signature")


@dataclass(frozen=True)
class RegisterRow:
    no: int
    name: str
    email: str
    company: str
    reference: str
    contact_name: str
    contact_phone: str
    named: bool = True
    attendance: str = ""  # as marked on the register (core.attendance), else empty


@dataclass(frozen=True)
class Register:
    """The attendance register of one session: one row per seat booked."""

    session: Session
    rows: tuple[RegisterRow, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        """'First Aid at Work: Tuesday 3 December 2024, 09:00-16:30, Location A'."""
        s = self.session
        return f"{s.course_type}: {full_date(s.session_date)}, {hours(s.start_time, s.end_time)}, {s.location}"


def load_registers(
    engine: Engine, *, session_id: object | None = None, day: dt.date | None = None,
    locations: Iterable[str] | None = None, course_types: Iterable[str] | None = None,
) -> list[Register]:
    """Registers for one session, or for every session on `day` (not cancelled).

    A seat booked without a name gets a row "Name to be given (booked by ...)" so the
    register has a line for everyone expected. Raises SessionNotFound / InvalidInput.
    """
    from core.availability import find_sessions, get_session
    from core.db import reading
    from core.schema import booking_attendees as ba
    from core.schema import bookings as b

    if (session_id is None) == (day is None):
        from core.errors import InvalidInput

        raise InvalidInput("session_id", "Choose one session or one day for the register.")
    if session_id is not None:
        sessions = [get_session(engine, session_id)]
    else:
        sessions = find_sessions(engine, day, day, course_types=list(course_types or []) or None,
                                 locations=list(locations or []) or None)
    if not sessions:
        return []
    ids = [s.id for s in sessions]
    stmt = (sa.select(b.c.session_id, b.c.id, b.c.reference, b.c.seats, b.c.contact_name, b.c.contact_phone,
                      b.c.company, ba.c.seat_no, ba.c.name, ba.c.email)
            .select_from(b.outerjoin(ba, ba.c.booking_id == b.c.id))
            .where(b.c.session_id.in_(ids), b.c.status == "confirmed")
            .order_by(b.c.created_at, b.c.reference, ba.c.seat_no))
    with reading(engine) as conn:
        rows = conn.execute(stmt).all()
    by_booking: dict[uuid.UUID, dict] = {}
    for r in rows:
        entry = by_booking.setdefault(r.id, dict(row=r, people=[]))
        if r.name is not None:
            entry["people"].append((r.name, r.email or ""))
    per_session: dict[uuid.UUID, list[tuple]] = {sid: [] for sid in ids}
    for entry in by_booking.values():
        r = entry["row"]
        common = (r.company or "", r.reference, r.contact_name, r.contact_phone or "")
        for name, mail in entry["people"]:
            per_session[r.session_id].append((True, name, mail, *common))
        for _ in range(max(r.seats - len(entry["people"]), 0)):
            per_session[r.session_id].append(
                (False, f"Name to be given (booked by {r.contact_name})", "", *common)
            )
    registers = []
    from core.attendance import register_outcomes

    marks = register_outcomes(engine, ids)
    for s in sessions:
        entries = sorted(per_session[s.id], key=lambda e: (not e[0], e[1].casefold()))
        registers.append(Register(s, tuple(
            RegisterRow(i, name, mail, company, ref, contact, phone, named, marks.take(ref, name if named else None))
            for i, (named, name, mail, company, ref, contact, phone) in enumerate(entries, start=1)
        )))
    return registers


@cache
def _template():
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from markupsafe import Markup

    def as_html(value: object) -> object:  # html.escape's entities (&#x27;), as the page always wrote
        return value if isinstance(value, Markup) else Markup(html.escape(str(value)))

    env = Environment(loader=PackageLoader("core.exports"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, finalize=as_html)
    return env.get_template("register.html")


def register_html(registers: Sequence[Register], *, title: str = "Attendance register") -> str:
    """A printable page (A4 landscape, one session per page); every value HTML-escaped
    (the template is rendered with autoescape on)."""
    return _template().render(registers=registers, title=title, headers=REGISTER_HEADERS, places=places)
