"""Certificates: issued when an attendee passes a course that gives one; how long each
course's certificate lasts (admins edit it); the certificates a company's people hold.

Expiry is the issue date plus the course's months, on a date that exists: a certificate
issued on 29 February 2028 for 36 months expires on 28 February 2031 (dateutil's
relativedelta clamps to the month's last day).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.engine import Connection, Engine

from core import validation
from core.access import Actor, require
from core.changes import record
from core.config import utc_now
from core.db import reading, write
from core.errors import InvalidInput
from core.schema import certificates as ce
from core.schema import course_types as ct
from core.schema import people as pp
from core.schema import requalification_reminders as rr

MAX_MONTHS = 120
_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Certificate:
    id: uuid.UUID
    number: str
    person_id: uuid.UUID
    name: str
    email: str | None
    company: str | None
    course_type: str
    issued_on: dt.date
    expires_on: dt.date
    session_id: uuid.UUID
    booking_id: uuid.UUID


def expiry_date(issued_on: dt.date, months: int) -> dt.date:
    """`months` after `issued_on`, on a date that exists (29 Feb + 36 months -> 28 Feb)."""
    return issued_on + relativedelta(months=months)


def validity_months(engine: Engine) -> dict[str, int | None]:
    """Each course type's certificate validity in months (None: no certificate)."""
    with reading(engine) as conn:
        return dict(conn.execute(sa.select(ct.c.name, ct.c.certificate_months).order_by(ct.c.sort_order, ct.c.name)).all())


def set_validity(engine: Engine, course_type: str, months: object, *, actor: Actor | None = None) -> int | None:
    """Set how many months a course's certificate lasts (None or 0: it gives none). Admins.

    Certificates already issued keep their dates. Raises InvalidInput naming the field.
    """
    who = require(actor, "admin", "change the course catalogue")
    value = None if months in (None, "", 0) else validation.whole_number(
        months, "certificate_months", "Certificate validity (months)", 1, MAX_MONTHS)

    def work(conn: Connection) -> int | None:
        before = conn.execute(sa.select(ct.c.certificate_months).where(ct.c.name == course_type)).first()
        if before is None:
            raise InvalidInput("course_type", f"{str(course_type)[:100]!r} is not a course type.")
        if before.certificate_months != value:
            conn.execute(sa.update(ct).where(ct.c.name == course_type).values(certificate_months=value))
            record(conn, "course_type.certificate_validity", actor=who, details={
                "name": course_type, "before": before.certificate_months, "after": value})
        return value

    return write(engine, work)


def _new_number(short_code: str, issued_on: dt.date) -> str:
    """'FAW-2027-7K3Q9X': course, year, six characters easy to read out."""
    tail = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))
    return f"{short_code}-{issued_on:%Y}-{tail}"


def issue_in(conn: Connection, *, person_id: uuid.UUID, course_type: str, issued_on: dt.date,
             session_id: uuid.UUID, booking_id: uuid.UUID, seat_no: int, actor: str) -> uuid.UUID | None:
    """Issue the certificate of a passed seat in the caller's transaction (once per seat);
    None when the course gives none. Returns the certificate's id."""
    course = conn.execute(sa.select(ct.c.short_code, ct.c.certificate_months).where(ct.c.name == course_type)).first()
    if course is None or not course.certificate_months:
        return None
    held = conn.execute(sa.select(ce.c.id, ce.c.person_id).where(ce.c.booking_id == booking_id, ce.c.seat_no == seat_no)).first()
    if held is not None:
        if held.person_id != person_id:  # the seat's name was corrected at the door
            conn.execute(sa.update(ce).where(ce.c.id == held.id).values(person_id=person_id))
        return held.id
    made = dict(id=uuid.uuid4(), number=_new_number(course.short_code, issued_on), person_id=person_id,
                course_type=course_type, issued_on=issued_on,
                expires_on=expiry_date(issued_on, course.certificate_months),
                session_id=session_id, booking_id=booking_id, seat_no=seat_no, created_at=utc_now())
    conn.execute(ce.insert().values(**made))
    record(conn, "certificate.issued", actor=actor, session_id=session_id, booking_id=booking_id, details={
        "number": made["number"], "person_id": str(person_id), "course": course_type,
        "issued_on": issued_on.isoformat(), "expires_on": made["expires_on"].isoformat()})
    return made["id"]


def withdraw_in(conn: Connection, *, booking_id: uuid.UUID, seat_no: int, actor: str) -> None:
    """Take back a seat's certificate (the result was corrected to not passed or absent)."""
    held = conn.execute(sa.select(ce).where(ce.c.booking_id == booking_id, ce.c.seat_no == seat_no)).first()
    if held is None:
        return
    conn.execute(sa.delete(rr).where(rr.c.certificate_id == held.id))
    conn.execute(sa.delete(ce).where(ce.c.id == held.id))
    record(conn, "certificate.withdrawn", actor=actor, session_id=held.session_id, booking_id=booking_id,
           details={"number": held.number, "person_id": str(held.person_id), "course": held.course_type})


def select_certificates():
    """The columns of a Certificate with its person's name, e-mail and company."""
    return (sa.select(ce.c.id, ce.c.number, ce.c.person_id, pp.c.name, pp.c.email, pp.c.company, ce.c.course_type,
                      ce.c.issued_on, ce.c.expires_on, ce.c.session_id, ce.c.booking_id)
            .select_from(ce.join(pp, pp.c.id == ce.c.person_id)))


def list_certificates(engine: Engine, *, company: str | None = None, course_types=None,
                      person_id: object | None = None) -> list[Certificate]:
    """Certificates by expiry date, soonest first; `company` matches the person's company
    whatever its case ("acme" finds ACME Ltd's people only when it equals it: use the exact
    company as listed, any case)."""
    stmt = select_certificates().order_by(ce.c.expires_on, pp.c.name, ce.c.number)
    if company and company.strip():
        stmt = stmt.where(sa.func.lower(pp.c.company) == company.strip().lower())
    if course_types:
        stmt = stmt.where(ce.c.course_type.in_(list(course_types)))
    if person_id is not None:
        stmt = stmt.where(ce.c.person_id == validation.uuid_of(person_id, "person_id", "person"))
    with reading(engine) as conn:
        return [Certificate(*r) for r in conn.execute(stmt)]


def companies(engine: Engine) -> list[str]:
    """The companies of people who hold a certificate, by name."""
    with reading(engine) as conn:
        return list(conn.execute(
            sa.select(pp.c.company).distinct().select_from(ce.join(pp, pp.c.id == ce.c.person_id))
            .where(pp.c.company.is_not(None)).order_by(pp.c.company)).scalars())
