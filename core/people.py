"""People: one record per person who attends, with their history; merge two records.

A person is recognised by a key: their e-mail (lower case), or where an attendee has no
e-mail their name and company. The keys live in `person_keys`, so merging two records moves
the keys of one to the other and every booking either was recognised by now finds the one
person. Records are made when a register is marked (`person_in`, in that transaction).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from core import validation
from core.access import Actor, require
from core.changes import record
from core.config import utc_now
from core.db import reading, write
from core.errors import InvalidInput
from core.schema import attendance as at
from core.schema import booking_attendees as ba
from core.schema import bookings as bk
from core.schema import certificates as ce
from core.schema import course_sessions as cs
from core.schema import people as pp
from core.schema import person_keys as pk
from core.schema import requalification_reminders as rr


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str
    email: str | None
    company: str | None


@dataclass(frozen=True)
class BookingLine:
    """A booking of the person: which session, which reference, its status."""

    reference: str
    status: str
    course_type: str
    session_date: dt.date
    location: str
    session_id: uuid.UUID


@dataclass(frozen=True)
class AttendanceLine:
    course_type: str
    session_date: dt.date
    location: str
    attended: bool
    passed: bool | None


@dataclass(frozen=True)
class CertificateLine:
    id: uuid.UUID
    number: str
    course_type: str
    issued_on: dt.date
    expires_on: dt.date


@dataclass(frozen=True)
class History:
    person: Person
    bookings: tuple[BookingLine, ...]
    attendance: tuple[AttendanceLine, ...]
    certificates: tuple[CertificateLine, ...]


def match_key(name: str, email: str | None, company: str | None) -> str:
    """How a person is recognised: "e:<e-mail>", else "n:<name>|<company>" (lower case)."""
    if email and email.strip():
        return "e:" + email.strip().lower()
    return f"n:{' '.join(name.split()).lower()}|{' '.join((company or '').split()).lower()}"


def attendee_key_sql():
    """SQL: the `match_key` of a booking_attendees row joined to its booking."""
    by_name = ("n:" + sa.func.lower(ba.c.name) + "|" + sa.func.lower(sa.func.coalesce(bk.c.company, "")))
    return sa.case((ba.c.email.is_not(None), "e:" + sa.func.lower(ba.c.email)), else_=by_name)


def person_in(conn: Connection, name: str, email: str | None, company: str | None) -> uuid.UUID:
    """The person with this key, made now if there is none, in the caller's transaction.

    Two transactions making the same person at once: the key's primary key lets one in;
    the other waits for it, inserts nothing and reads the winner (PostgreSQL).
    """
    key = match_key(name, email, company)
    fresh = uuid.uuid4()
    made = conn.execute(insert(pk).values(match_key=key, person_id=fresh)
                        .on_conflict_do_nothing().returning(pk.c.person_id)).first()
    if made is None:
        return conn.execute(sa.select(pk.c.person_id).where(pk.c.match_key == key)).scalar_one()
    conn.execute(pp.insert().values(id=fresh, name=name, email=email or None, company=company or None,
                                    created_at=utc_now()))
    return fresh


def _person(row) -> Person:
    return Person(row.id, row.name, row.email, row.company)


def find_people(engine: Engine, search: str = "", *, limit: int = 200) -> list[Person]:
    """People whose name, e-mail or company contains `search` (any case), by name."""
    stmt = sa.select(pp).order_by(sa.func.lower(pp.c.name), pp.c.id).limit(limit)
    if search and search.strip():
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(pp.c.name).like(like), sa.func.lower(pp.c.email).like(like),
                                 sa.func.lower(pp.c.company).like(like)))
    with reading(engine) as conn:
        return [_person(r) for r in conn.execute(stmt)]


def load_person(conn: Connection, person_id: object) -> Person:
    pid = validation.uuid_of(person_id, "person_id", "person")
    row = conn.execute(sa.select(pp).where(pp.c.id == pid)).first()
    if row is None:
        raise InvalidInput("person_id", "No such person: they may have been merged into another record. "
                                        "Search for them again.")
    return _person(row)


def get_person(engine: Engine, person_id: object) -> Person:
    with reading(engine) as conn:
        return load_person(conn, person_id)


def bookings_of(person_id: uuid.UUID):
    """SQL: the booking ids of the person (recognised by a key, or marked on a register)."""
    keys = sa.select(pk.c.match_key).where(pk.c.person_id == person_id)
    by_key = (sa.select(ba.c.booking_id).select_from(ba.join(bk, bk.c.id == ba.c.booking_id))
              .where(attendee_key_sql().in_(keys)))
    marked = sa.select(at.c.booking_id).where(at.c.person_id == person_id)
    return sa.union(by_key, marked)


def history(engine: Engine, person_id: object) -> History:
    """The person, their bookings, attendance and certificates (newest first)."""
    with reading(engine) as conn:
        person = load_person(conn, person_id)
        ids = bookings_of(person.id).subquery()
        booked = conn.execute(
            sa.select(bk.c.reference, bk.c.status, cs.c.course_type, cs.c.session_date, cs.c.location, cs.c.id)
            .select_from(bk.join(cs, cs.c.id == bk.c.session_id))
            .where(bk.c.id.in_(sa.select(ids.c.booking_id)))
            .order_by(cs.c.session_date.desc(), bk.c.reference)
        ).all()
        marks = conn.execute(
            sa.select(cs.c.course_type, cs.c.session_date, cs.c.location, at.c.attended, at.c.passed)
            .select_from(at.join(cs, cs.c.id == at.c.session_id))
            .where(at.c.person_id == person.id).order_by(cs.c.session_date.desc())
        ).all()
        certs = conn.execute(
            sa.select(ce.c.id, ce.c.number, ce.c.course_type, ce.c.issued_on, ce.c.expires_on)
            .where(ce.c.person_id == person.id).order_by(ce.c.issued_on.desc(), ce.c.number)
        ).all()
    return History(person, tuple(BookingLine(*r) for r in booked), tuple(AttendanceLine(*r) for r in marks),
                   tuple(CertificateLine(*r) for r in certs))


def merge_people(engine: Engine, keep_id: object, other_id: object, *, actor: Actor | None = None) -> Person:
    """Merge `other` into `keep` in one transaction: its keys, attendance, certificates and
    reminders become `keep`'s (every certificate is kept), `keep` takes its e-mail and company
    where it has none, and `other` is gone. Raises InvalidInput (the same record twice, or a
    record that no longer exists)."""
    who = require(actor, "staff", "merge people")
    keep_uuid = validation.uuid_of(keep_id, "keep_id", "person")
    other_uuid = validation.uuid_of(other_id, "other_id", "person")
    if keep_uuid == other_uuid:
        raise InvalidInput("other_id", "Choose two different records to merge.")

    def work(conn: Connection) -> Person:
        keep, other = load_person(conn, keep_uuid), load_person(conn, other_uuid)
        for table in (pk, at, ce, rr):
            conn.execute(sa.update(table).where(table.c.person_id == other.id).values(person_id=keep.id))
        fill = {k: getattr(other, k) for k in ("email", "company") if not getattr(keep, k) and getattr(other, k)}
        conn.execute(sa.delete(pp).where(pp.c.id == other.id))
        if fill:
            conn.execute(sa.update(pp).where(pp.c.id == keep.id).values(**fill))
        record(conn, "person.merged", actor=who, details={
            "kept": str(keep.id), "kept_name": keep.name, "merged": str(other.id), "merged_name": other.name,
            "merged_email": other.email, "merged_company": other.company})
        return load_person(conn, keep.id)

    return write(engine, work)
