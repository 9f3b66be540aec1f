"""The register: each seat of a session's bookings marked attended or absent, and passed
or not, from the session's day on. Marking a pass of a course that gives a certificate
issues it; a session whose every seat is marked is completed. One transaction a mark.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import certificates, people, validation
from core.access import Actor, require
from core.availability import load_session
from core.changes import record
from core.config import today, utc_now
from core.db import reading, write
from core.errors import InvalidInput
from core.models import Session
from core.schema import attendance as at
from core.schema import booking_attendees as ba
from core.schema import bookings as bk
from core.schema import certificates as ce
from core.schema import course_sessions as cs

OUTCOMES = ("attended_passed", "attended_not_passed", "attended", "absent")


@dataclass(frozen=True)
class Seat:
    """One line of the register: a seat of a confirmed booking and how it is marked."""

    booking_id: uuid.UUID
    seat_no: int
    reference: str
    name: str | None          # None: booked without a name, none given at the door yet
    email: str | None
    company: str | None
    contact_name: str
    attended: bool | None     # None: not marked yet
    passed: bool | None
    certificate: str | None   # the certificate's number once issued
    named: bool = True        # named on the booking (False: the name was given at the door, or not yet)

    @property
    def done(self) -> bool:
        """Marked for good: absent, or attended with a result."""
        return self.attended is False or (self.attended is True and self.passed is not None)

    @property
    def outcome(self) -> str | None:
        if self.attended is None:
            return None
        if not self.attended:
            return "absent"
        return {True: "attended_passed", False: "attended_not_passed", None: "attended"}[self.passed]


@dataclass(frozen=True)
class Register:
    session: Session
    seats: tuple[Seat, ...]

    @property
    def marked(self) -> int:
        return sum(s.done for s in self.seats)

    @property
    def complete(self) -> bool:
        return bool(self.seats) and self.marked == len(self.seats)


def _seats(conn: Connection, session_id: uuid.UUID) -> list[Seat]:
    rows = conn.execute(
        sa.select(bk.c.id, bk.c.reference, bk.c.seats, bk.c.company, bk.c.contact_name)
        .where(bk.c.session_id == session_id, bk.c.status == "confirmed").order_by(bk.c.created_at, bk.c.reference)
    ).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    named = {(r.booking_id, r.seat_no): r for r in conn.execute(
        sa.select(ba.c.booking_id, ba.c.seat_no, ba.c.name, ba.c.email).where(ba.c.booking_id.in_(ids)))}
    marks = {(r.booking_id, r.seat_no): r for r in conn.execute(sa.select(at).where(at.c.booking_id.in_(ids)))}
    certs = dict(((r.booking_id, r.seat_no), r.number) for r in conn.execute(
        sa.select(ce.c.booking_id, ce.c.seat_no, ce.c.number).where(ce.c.booking_id.in_(ids))))
    seats = []
    for b in rows:
        for n in range(1, b.seats + 1):
            person, mark = named.get((b.id, n)), marks.get((b.id, n))
            name = mark.name if mark else (person.name if person else None)
            email = mark.email if mark else (person.email if person else None)
            seats.append(Seat(b.id, n, b.reference, name, email, b.company, b.contact_name,
                              mark.attended if mark else None, mark.passed if mark else None, certs.get((b.id, n)),
                              named=person is not None))
    return seats


def load_register(engine: Engine, session_id: object) -> Register:
    """The session's register: every seat of its confirmed bookings, marked or not."""
    sid = validation.uuid_of(session_id, "session_id", "session")
    with reading(engine) as conn:
        return Register(load_session(conn, sid), tuple(_seats(conn, sid)))


class Outcomes:
    """What the register export shows for each line: `take(reference, name)` for a seat
    named on the booking, `take(reference, None)` for each seat booked without a name."""

    def __init__(self, seats: list[Seat]):
        self._named = {(s.reference, s.name): s for s in seats if s.named}
        self._unnamed: dict[str, list[Seat]] = {}
        for s in seats:
            if not s.named:
                self._unnamed.setdefault(s.reference, []).append(s)

    def take(self, reference: str, name: str | None) -> str:
        if name is not None:
            seat = self._named.get((reference, name))
            return outcome_text(seat) if seat and seat.attended is not None else ""
        left = self._unnamed.get(reference)
        seat = left.pop(0) if left else None
        if seat is None or seat.attended is None:
            return ""
        return f"{outcome_text(seat)} ({seat.name})"


def register_outcomes(engine: Engine, session_ids) -> Outcomes:
    """The marks of these sessions' registers, for the register export."""
    with reading(engine) as conn:
        return Outcomes([s for sid in session_ids for s in _seats(conn, sid)])


def outcome_text(seat: Seat) -> str:
    """How the register shows a seat: 'Attended, passed', 'Absent', 'Not marked'."""
    return {None: "Not marked", "absent": "Absent", "attended": "Attended", "attended_passed": "Attended, passed",
            "attended_not_passed": "Attended, not passed"}[seat.outcome]


def mark(engine: Engine, booking_id: object, seat_no: object, outcome: str, *, name: str | None = None,
         email: str | None = None, actor: Actor | None = None) -> Register:
    """Mark one seat: `outcome` is attended_passed, attended_not_passed, attended (result to
    come) or absent. A seat booked without a name needs `name` (and may take `email`).

    Passing a course that gives a certificate issues it (once); marking the seat otherwise
    later takes it back. When every seat is marked, the session is completed. Returns the
    register as it now stands. Raises InvalidInput naming the field (not the session's day
    yet, a cancelled session or booking, no name for the seat).
    """
    who = require(actor, "staff", "mark the register")
    bid = validation.uuid_of(booking_id, "booking_id", "booking")
    seat = validation.whole_number(seat_no, "seat_no", "Seat", 1, 1000)
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome", f"Mark a seat as one of: {', '.join(OUTCOMES)}.")
    given = validation.text(name, "name", "Attendee name", required=False)
    given_mail = validation.email(email, "email", required=False) if email else None

    def work(conn: Connection) -> Register:
        booked = conn.execute(sa.select(bk).where(bk.c.id == bid)).first()
        if booked is None or booked.status != "confirmed":
            raise InvalidInput("booking_id", "That booking is not on this session's register any more "
                                             "(cancelled or moved): reload the register.")
        session = load_session(conn, booked.session_id)
        _check_markable(session, seat, booked.seats)
        on_booking = conn.execute(sa.select(ba.c.name, ba.c.email).where(ba.c.booking_id == bid, ba.c.seat_no == seat)).first()
        person_name = given or (on_booking.name if on_booking else None)
        if not person_name:
            raise InvalidInput("name", f"Seat {seat} of {booked.reference} was booked without a name: "
                                       "type the attendee's name to mark it.")
        person_mail = given_mail if given else (on_booking.email if on_booking else None)
        person_id = people.person_in(conn, person_name, person_mail, booked.company)
        attended, passed = outcome != "absent", {"attended_passed": True, "attended_not_passed": False}.get(outcome)
        values = dict(session_id=session.id, person_id=person_id, name=person_name, email=person_mail,
                      attended=attended, passed=passed, marked_at=utc_now(), marked_by=who)
        if conn.execute(sa.update(at).where(at.c.booking_id == bid, at.c.seat_no == seat).values(**values)).rowcount == 0:
            conn.execute(at.insert().values(booking_id=bid, seat_no=seat, **values))
        record(conn, "attendance.marked", actor=who, session_id=session.id, booking_id=bid, details={
            "reference": booked.reference, "seat": seat, "name": person_name, "outcome": outcome})
        if passed:
            certificates.issue_in(conn, person_id=person_id, course_type=session.course_type,
                                  issued_on=session.session_date, session_id=session.id, booking_id=bid,
                                  seat_no=seat, actor=who)
        else:
            certificates.withdraw_in(conn, booking_id=bid, seat_no=seat, actor=who)
        register = Register(session, tuple(_seats(conn, session.id)))
        if register.complete and session.status == "scheduled":
            conn.execute(sa.update(cs).where(cs.c.id == session.id, cs.c.status == "scheduled")
                         .values(status="completed", updated_at=utc_now()))
            record(conn, "session.completed", actor=who, session_id=session.id,
                   details={"register": "complete", "seats": len(register.seats)})
            register = Register(load_session(conn, session.id), register.seats)
        return register

    return write(engine, work)


def _check_markable(session: Session, seat: int, seats: int) -> None:
    if session.status == "cancelled":
        raise InvalidInput("session_id", f"{session.label} was cancelled: there is no register to mark.")
    if session.session_date > today():
        raise InvalidInput("session_id", f"{session.label} has not happened yet: the register opens on "
                                         f"{session.session_date:%a %-d %b %Y}.")
    if seat > seats:
        raise InvalidInput("seat_no", f"The booking has {seats} place{'s' if seats != 1 else ''}; "
                                      f"there is no seat {seat}.")
