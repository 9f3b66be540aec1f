"""The write side of bookings: book, cancel, move. One transaction each.

The places themselves are taken and given back by `core.places` (the one owner of a
session's places): capacity is checked by the database in the statement that takes them
(a guarded UPDATE), never read-then-write. The ledger row, its attendees and the events
are written in the same transaction.
"""

from __future__ import annotations

import dataclasses
import json
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import db, places, validation
from core.availability import load_session
from core.access import Actor, require
from core.changes import record, shard_of
from core.config import get_settings, now_local, utc_now
from core.db import Retry, reading, write
from core.errors import (
    BookingNotActive,
    Busy,
    BookingNotFound,
    DuplicateAttendee,
    InvalidInput,
    SessionFull,
    SessionNotBookable,
)
from core.models import BOOKING_ROW_FIELDS, Attendee, Booking
from core.references import new_reference
from core.schema import booking_attendees as ba
from core.schema import bookings as bk

def _check_not_booked_yet(conn: Connection, session_id: uuid.UUID, people: list[Attendee], booking_id=None) -> None:
    """Refuse attendees already booked on the session (the unique index is the backstop)."""
    emails = [p.email for p in people if p.email]
    if not emails:
        return
    stmt = (sa.select(ba.c.active_email, bk.c.reference).join(bk, bk.c.id == ba.c.booking_id)
            .where(ba.c.session_id == session_id, ba.c.active_email.in_(emails)))
    if booking_id is not None:
        stmt = stmt.where(ba.c.booking_id != booking_id)
    taken = conn.execute(stmt.limit(1)).first()
    if taken:
        raise DuplicateAttendee(taken.active_email, load_session(conn, session_id).label, taken.reference)


def _load_booking(conn: Connection, where) -> Booking | None:
    row = conn.execute(sa.select(bk).where(where)).first()
    if row is None:
        return None
    people = conn.execute(
        sa.select(ba.c.name, ba.c.email).where(ba.c.booking_id == row.id).order_by(ba.c.seat_no)
    ).all()
    fields = {k: getattr(row, k) for k in BOOKING_ROW_FIELDS}
    return Booking(**fields, attendees=tuple(Attendee(p.name, p.email) for p in people))


# The booking tests run against both paths (tests/integration/test_booking.py turns this
# off for a third run of each): one contract for the statement and the general path.
ONE_STATEMENT = True
# Who a booking's e-mails go to (core.mail): its contact, also each attendee with an
# e-mail, or nobody (a phone-only customer).
EMAILS = ("contact", "attendees", "none")

# PostgreSQL: the whole booking in one statement sent in autocommit, so it is its own
# transaction: one round trip, and the session row is locked only while it runs and
# commits. Same rules as the general path: capacity and "not started" in the guarded
# UPDATE, a request already booked under its idempotency key is not booked again (and a
# twin racing it is stopped by the unique index), duplicate attendees by the unique index.
# Without a key there is nothing to look up, so the lookup is skipped outright: the plan
# PostgreSQL caches for the statement is made while the table is small and may scan it,
# which cost more with every booking of a long run (found in the benchmark).
_BOOK_IN_ONE_STATEMENT = """
WITH taken AS (
    UPDATE course_sessions
       SET current_bookings = current_bookings + %(seats)s, updated_at = %(now)s
     WHERE id = %(sid)s AND status = 'scheduled'
       AND current_bookings + held_places + %(seats)s <= max_capacity
       AND (session_date > %(today)s OR (session_date = %(today)s AND start_time > %(time)s))
       AND (%(key)s::text IS NULL OR NOT EXISTS (SELECT 1 FROM bookings WHERE idempotency_key = %(key)s))
    RETURNING id
), booked AS (
    INSERT INTO bookings (id, session_id, reference, contact_name, contact_email, contact_phone, company,
                          seats, status, created_at, created_by, idempotency_key, emails)
    SELECT %(bid)s, id, %(ref)s, %(name)s, %(email)s, %(phone)s, %(company)s,
           %(seats)s, 'confirmed', %(now)s, %(actor)s, %(key)s, %(emails)s
      FROM taken
    RETURNING id
), people AS (
    INSERT INTO booking_attendees (booking_id, seat_no, session_id, name, email, active_email)
    SELECT booked.id, p.seat_no, %(sid)s, p.name, p.email, p.email
      FROM booked, json_to_recordset(%(people)s::json) AS p(seat_no int, name text, email text)
), bump AS (
    UPDATE change_counter SET version = version + 1
     WHERE id = %(shard)s AND EXISTS (SELECT 1 FROM booked)
    RETURNING version
), feed AS (
    INSERT INTO changes (version, shard, shard_seq, occurred_at, actor, action, session_id, booking_id, details)
    SELECT nextval('changes_version_seq'), %(shard)s, bump.version, %(now)s, %(actor)s, 'booking.created',
           %(sid)s, %(bid)s, %(details)s
      FROM bump
)
SELECT count(*) FROM booked
"""


def _book_in_one_statement(engine: Engine, sid: uuid.UUID, *, seats: int, name: str, email: str,
                           phone: str | None, company: str | None, people: list[Attendee], key: str | None,
                           actor: str | None, emails: str = "contact") -> Booking | None:
    """Book on PostgreSQL in one round trip; None when that did not book (full, not
    bookable, booked before under the key, a clash, a conflict): the general path then
    finds out why, reaping expired holds first, and answers as it always does."""
    now, local = utc_now(), now_local()
    made = Booking(id=uuid.uuid4(), reference=new_reference(), session_id=sid, seats=seats, status="confirmed",
                   contact_name=name, contact_email=email, contact_phone=phone, company=company,
                   created_at=now, created_by=actor, idempotency_key=key, attendees=tuple(people))
    params = dict(
        seats=seats, now=now, sid=sid, today=local.date(), time=local.time().replace(microsecond=0),
        bid=made.id, ref=made.reference, name=name, email=email, phone=phone, company=company, actor=actor,
        key=key, shard=shard_of(sid), emails=emails,
        # one text parameter, not three arrays: psycopg dumps it several times faster
        people=json.dumps([{"seat_no": n, "name": p.name, "email": p.email} for n, p in enumerate(people, start=1)],
                          ensure_ascii=False),
        details=json.dumps(places.booking_details(made), ensure_ascii=False),
    )
    if db.statement_alone(engine, _BOOK_IN_ONE_STATEMENT, params) != 1:
        return None
    return made


def _booking_where(value: object):
    if isinstance(value, str) and value.strip().upper().startswith("BK-"):
        return bk.c.reference == value.strip().upper()
    return bk.c.id == validation.uuid_of(value, "booking_id", "booking")


def book(
    engine: Engine,
    session_id: object,
    *,
    contact_name: str,
    contact_email: str,
    contact_phone: str | None = None,
    company: str | None = None,
    seats: int = 1,
    attendees: list | None = None,
    idempotency_key: str | None = None,
    actor: Actor | None = None,
    emails: str = "contact",
) -> Booking:
    """Book `seats` places (the whole group or nothing) and return the booking.

    The same `idempotency_key` again returns the first booking (`replayed` True) instead of
    booking twice; the same key for another session, contact or number of places is refused.
    Raises InvalidInput, SessionNotFound, SessionFull (with `remaining`),
    SessionNotBookable, DuplicateAttendee, Busy, DatabaseUnavailable. `emails` says who is
    e-mailed about the booking (EMAILS).
    """
    who = require(actor, "staff", "book places")
    sid = validation.uuid_of(session_id, "session_id", "session")
    seats = validation.whole_number(seats, "seats", "Places", 1, get_settings().capacity_limit)
    name = validation.text(contact_name, "contact_name", "Contact name", required=True)
    mail = validation.email(contact_email)
    phone = validation.phone(contact_phone)
    firm = validation.text(company, "company", "Company", required=False)
    people = validation.attendees(attendees, seats, name, mail)
    key = validation.key(idempotency_key)
    emails = validation.choice(emails, "emails", "E-mails", EMAILS)

    def earlier(conn: Connection) -> Booking | None:
        """The booking made before under this key, as a replay; refused when the key was
        used for another session, contact or number of places."""
        first = _load_booking(conn, bk.c.idempotency_key == key) if key else None
        if first is None:
            return None
        if (first.session_id, first.contact_email.lower(), first.seats) != (sid, mail.lower(), seats):
            raise InvalidInput("idempotency_key", f"This request's key was already used for booking {first.reference} "
                                                  "of another session, contact or number of places: nothing was booked.")
        return dataclasses.replace(first, replayed=True)

    if engine.dialect.name == "postgresql" and ONE_STATEMENT and (made := _book_in_one_statement(
            engine, sid, seats=seats, name=name, email=mail, phone=phone, company=firm, people=people,
            key=key, actor=who, emails=emails)):
        return made

    def work(conn: Connection) -> Booking:
        if first := earlier(conn):
            return first
        try:
            places.take(conn, sid, seats)
        except (SessionFull, SessionNotBookable):
            if first := earlier(conn):  # the same request won the last place meanwhile
                return first
            raise
        # Taking the seats may have waited for the same request's commit: look again.
        if first := earlier(conn):
            raise _Replayed(first)
        _check_not_booked_yet(conn, sid, people)
        made = places.insert_booking(conn, sid, name=name, email=mail, phone=phone, company=firm, seats=seats,
                                     people=people, key=key, actor=who, emails=emails)
        record(conn, "booking.created", actor=who, session_id=sid, booking_id=made.id,
               details=places.booking_details(made))
        return made

    try:
        return write(engine, _retry_on_unique_clash(work))
    except _Replayed as replay:  # rolled back: the seats this run took are given back
        return replay.booking
    except _SamePersonTwice:  # rolled back; find who, for the message
        with reading(engine) as conn:
            _check_not_booked_yet(conn, sid, people)
        raise Busy() from None  # booked and cancelled again meanwhile: let them retry


class _SamePersonTwice(Exception):
    pass


class _Replayed(Exception):
    def __init__(self, booking: Booking):
        self.booking = booking


def _retry_on_unique_clash(work):
    """A clash on the reference or on an idempotency key used at the same moment: run again.

    (The next run finds the other booking by its key, or draws a new reference.)
    """

    def run(conn: Connection):
        try:
            return work(conn)
        except sa.exc.IntegrityError as exc:
            text = str(exc.orig).lower()
            if "active_email" in text:
                raise _SamePersonTwice() from exc
            if "idempotency_key" in text or "reference" in text:
                raise Retry() from exc
            raise

    return run


def _active_booking(conn: Connection, booking_id: object) -> Booking:
    booking = _load_booking(conn, _booking_where(booking_id))
    if booking is None:
        raise BookingNotFound(booking_id)
    if booking.status not in ("confirmed", "rebook"):
        raise BookingNotActive(booking.reference, booking.status)
    return booking


def _claim(conn: Connection, booking: Booking, **values) -> None:
    """Change the booking only if nobody changed it since we read it (else run again)."""
    claimed = conn.execute(
        sa.update(bk)
        .where(bk.c.id == booking.id, bk.c.status == booking.status, bk.c.session_id == booking.session_id)
        .values(**values)
    ).rowcount
    if claimed != 1:
        raise Retry()


def cancel(engine: Engine, booking_id: object, *, actor: Actor | None = None) -> Booking:
    """Cancel a booking (by id or BK- reference) and free its places; the returned
    booking's `promoted` says who on the waiting list got them.

    Raises BookingNotFound, BookingNotActive (already cancelled), Busy.
    """
    who = require(actor, "staff", "cancel bookings")
    _booking_where(booking_id)  # malformed ids fail before any write

    def work(conn: Connection) -> Booking:
        booking = _active_booking(conn, booking_id)
        _claim(conn, booking, status="cancelled", cancelled_at=utc_now(), cancelled_by=who)
        conn.execute(sa.update(ba).where(ba.c.booking_id == booking.id).values(active_email=None))
        record(conn, "booking.cancelled", actor=who, session_id=booking.session_id, booking_id=booking.id,
               details=places.booking_details(booking, was=booking.status))
        promoted = places.give_back(conn, booking.session_id, booking.seats) if booking.status == "confirmed" else []
        return dataclasses.replace(_load_booking(conn, bk.c.id == booking.id), promoted=tuple(promoted))

    return write(engine, work)


def move(engine: Engine, booking_id: object, to_session_id: object, *, actor: Actor | None = None) -> Booking:
    """Move a booking with all its places to another session, atomically.

    Either the booking is on the new session with its seats, or nothing changed.
    Raises BookingNotFound, BookingNotActive, InvalidInput, SessionNotFound, SessionFull,
    SessionNotBookable, DuplicateAttendee, Busy.
    """
    who = require(actor, "staff", "move bookings")
    target = validation.uuid_of(to_session_id, "to_session_id", "session")
    _booking_where(booking_id)

    def work(conn: Connection) -> Booking:
        booking = _active_booking(conn, booking_id)
        return move_in(conn, booking, target, who)

    return write(engine, work)


def move_in(conn: Connection, booking: Booking, target: uuid.UUID, who: str, *,
            promote_source: bool = True) -> Booking:
    """Move `booking` (confirmed, or to rebook) to `target` inside the caller's transaction.

    Its places are taken on the target and given back on the source (the source's waiting
    list gets them unless `promote_source` is False: places freed to make a session smaller).
    """
    load_session(conn, target)  # SessionNotFound before anything is changed
    source = booking.session_id
    if source == target:
        raise InvalidInput("to_session_id", f"Booking {booking.reference} is already on that session.")
    _claim(conn, booking, session_id=target, status="confirmed")
    record(conn, "booking.moved", actor=who, session_id=source, other_session_id=target,
           booking_id=booking.id, details=places.booking_details(booking, was=booking.status))
    # The attendees leave the source before its places are offered to its waiting list (a
    # person waiting there is not "booked meanwhile" by the booking that is leaving).
    _check_not_booked_yet(conn, target, list(booking.attendees), booking.id)
    conn.execute(sa.update(ba).where(ba.c.booking_id == booking.id).values(session_id=target, active_email=ba.c.email))
    # Rows locked in id order, so two moves in opposite directions cannot deadlock.
    steps = [(target, lambda: places.take(conn, target, booking.seats))]
    if booking.status == "confirmed":
        steps.append((source, lambda: places.give_back(conn, source, booking.seats, promote=promote_source)))
    for _, step in sorted(steps, key=lambda s: s[0]):
        step()
    return _load_booking(conn, bk.c.id == booking.id)


def active_booking(conn: Connection, booking_id: object) -> Booking:
    """The booking (by id or BK- reference), confirmed or to rebook; else why not."""
    _booking_where(booking_id)
    return _active_booking(conn, booking_id)


def get_booking(engine: Engine, booking_id_or_reference: object) -> Booking:
    where = _booking_where(booking_id_or_reference)
    with reading(engine) as conn:
        booking = _load_booking(conn, where)
    if booking is None:
        raise BookingNotFound(booking_id_or_reference)
    return booking


def list_bookings(engine: Engine, session_id: object, *, include_cancelled: bool = False) -> list[Booking]:
    """Bookings of a session, oldest first, with their attendees."""
    sid = validation.uuid_of(session_id, "session_id", "session")
    stmt = sa.select(bk).where(bk.c.session_id == sid).order_by(bk.c.created_at, bk.c.reference)
    if not include_cancelled:
        stmt = stmt.where(bk.c.status != "cancelled")
    with reading(engine) as conn:
        rows = conn.execute(stmt).all()
        people: dict[uuid.UUID, list[Attendee]] = {}
        if rows:
            for p in conn.execute(
                sa.select(ba).where(ba.c.booking_id.in_([r.id for r in rows])).order_by(ba.c.seat_no)
            ):
                people.setdefault(p.booking_id, []).append(Attendee(p.name, p.email))
    return [Booking(**{k: getattr(r, k) for k in BOOKING_ROW_FIELDS}, attendees=tuple(people.get(r.id, ())))
            for r in rows]
