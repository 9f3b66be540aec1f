"""Holds: places kept for a caller while staff take their details.

A hold counts against availability at once and is visible to everyone ("1 held by Sam,
7 min"). It ends by booking, by release, or by expiry; expiry needs nobody: readers only
count unexpired holds, and the next write on the session reaps the expired ones.

Each app process also runs a sweeper (`start_expiry_sweeper`) that reaps holds soon after
they expire, so the freed places go to the waiting list at once and open pages see the
change (a new version). Correctness does not depend on it: if it stops, queries and
writes still treat an expired hold as over.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import background, places, validation
from core.booking import EMAILS, _check_not_booked_yet
from core.access import Actor, require
from core.changes import record
from core.config import get_settings, utc_now
from core.db import reading, write
from core.errors import HoldNotActive, InvalidInput
from core.models import Booking, Hold
from core.schema import holds as hd


def _hold(row) -> Hold:
    return Hold(**{k: getattr(row, k) for k in Hold.__dataclass_fields__})


def place_hold(engine: Engine, session_id: object, seats: int = 1, *, actor: Actor | None = None,
               held_by: str | None = None, note: str | None = None, minutes: float | None = None) -> Hold:
    """Hold `seats` places for `minutes` (default HOLD_MINUTES), shown as held by `held_by`
    (default the actor).

    Raises like `book` when they are not free.
    """
    name = require(actor, "staff", "hold places")
    sid = validation.uuid_of(session_id, "session_id", "session")
    seats = validation.whole_number(seats, "seats", "Places", 1, get_settings().capacity_limit)
    who = validation.text(held_by, "held_by", "Held by", required=False) or name
    note = validation.text(note, "note", "Note", required=False)
    minutes = get_settings().hold_minutes if minutes is None else minutes
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not 0 < minutes <= 24 * 60:
        raise InvalidInput("minutes", "A hold lasts from a few seconds up to 24 hours.")

    def work(conn: Connection) -> Hold:
        places.take(conn, sid, seats, column=places.HELD)
        hold_id, now = uuid.uuid4(), utc_now()
        expires = now + dt.timedelta(minutes=minutes)
        conn.execute(hd.insert().values(id=hold_id, session_id=sid, seats=seats, held_by=who, note=note,
                                        status="active", created_at=now, expires_at=expires))
        record(conn, "hold.placed", actor=name, session_id=sid,
               details={"hold_id": str(hold_id), "seats": seats, "held_by": who, "minutes": minutes,
                        "expires_at": expires.isoformat()})
        return _hold(conn.execute(sa.select(hd).where(hd.c.id == hold_id)).one())

    return write(engine, work)


def _end_hold(conn: Connection, hold_id: uuid.UUID, status: str):
    """Claim an active, unexpired hold for ending; raise HoldNotActive otherwise."""
    row = conn.execute(sa.select(hd).where(hd.c.id == hold_id)).first()
    if row is None:
        raise HoldNotActive("does not exist")
    claimed = conn.execute(
        sa.update(hd).where(hd.c.id == hold_id, hd.c.status == "active", hd.c.expires_at > utc_now())
        .values(status=status, ended_at=utc_now())
    ).rowcount
    if claimed != 1:
        fresh = conn.execute(sa.select(hd.c.status, hd.c.expires_at).where(hd.c.id == hold_id)).one()
        raise HoldNotActive("has expired" if fresh.status in ("active", "expired") else f"was {fresh.status}")
    return row


def release_hold(engine: Engine, hold_id: object, *, actor: Actor | None = None) -> None:
    """Give a hold's places back now (the waiting list is offered them first)."""
    who = require(actor, "staff", "release holds")
    hid = validation.uuid_of(hold_id, "hold_id", "hold")

    def work(conn: Connection) -> None:
        row = _end_hold(conn, hid, "released")
        record(conn, "hold.released", actor=who, session_id=row.session_id,
               details={"hold_id": str(hid), "seats": row.seats, "held_by": row.held_by})
        places.give_back(conn, row.session_id, row.seats, column=places.HELD)

    write(engine, work)


@dataclass(frozen=True)
class HeldBooking:
    """The booking made for a hold, and what the desk should be told about the hold."""

    booking: Booking
    note: str | None = None  # set when the hold had ended and the places were booked anyway


def book_from_hold(engine: Engine, hold_id: object, *, contact_name: str, contact_email: str,
                   contact_phone: str | None = None, company: str | None = None, seats: int | None = None,
                   attendees: list | None = None, actor: Actor | None = None) -> Booking:
    """Turn a hold into a booking atomically (all its places, or `seats` of them).

    An expired or ended hold cannot be converted: HoldNotActive.
    """
    return book_held(engine, hold_id, contact_name=contact_name, contact_email=contact_email,
                     contact_phone=contact_phone, company=company, seats=seats, attendees=attendees,
                     actor=actor, or_book_if_ended=False).booking


def book_held(engine: Engine, hold_id: object, *, contact_name: str, contact_email: str,
              contact_phone: str | None = None, company: str | None = None, seats: int | None = None,
              attendees: list | None = None, actor: Actor | None = None,
              or_book_if_ended: bool = True, emails: str = "contact") -> HeldBooking:
    """Book a caller's held places; when the hold has ended meanwhile (expired, released),
    book the places if they are still free, in the same transaction, and say so in `note`.

    Raises HoldNotActive (only when `or_book_if_ended` is False), SessionFull (the hold
    ended and the places went: the caller is offered the usual alternatives), and as `book`.
    """
    who = require(actor, "staff", "book places")
    hid = validation.uuid_of(hold_id, "hold_id", "hold")
    name = validation.text(contact_name, "contact_name", "Contact name", required=True)
    mail = validation.email(contact_email)
    phone = validation.phone(contact_phone)
    firm = validation.text(company, "company", "Company", required=False)
    emails = validation.choice(emails, "emails", "E-mails", EMAILS)

    def work(conn: Connection) -> HeldBooking:
        try:
            row = _end_hold(conn, hid, "converted")
        except HoldNotActive as ended:
            if not or_book_if_ended:
                raise
            return _book_instead(conn, hid, ended)
        wanted = row.seats if seats is None else validation.whole_number(seats, "seats", "Places", 1, row.seats)
        people = validation.attendees(attendees, wanted, name, mail)
        _check_not_booked_yet(conn, row.session_id, people)
        made = places.insert_booking(conn, row.session_id, name=name, email=mail, phone=phone, company=firm,
                                     seats=wanted, people=people, key=None, actor=who, emails=emails)
        conn.execute(sa.update(hd).where(hd.c.id == hid).values(booking_id=made.id))
        record(conn, "hold.converted", actor=who, session_id=row.session_id, booking_id=made.id,
               details={"hold_id": str(hid), "seats": row.seats, "booked": wanted, "held_by": row.held_by})
        record(conn, "booking.created", actor=who, session_id=row.session_id, booking_id=made.id,
               details=places.booking_details(made, from_hold=str(hid)))
        places.convert_hold(conn, row.session_id, row.seats, wanted)
        return HeldBooking(made)

    def _book_instead(conn: Connection, hid, ended: HoldNotActive) -> HeldBooking:
        row = conn.execute(sa.select(hd.c.session_id, hd.c.seats).where(hd.c.id == hid)).first()
        if row is None:
            raise ended
        wanted = row.seats if seats is None else validation.whole_number(
            seats, "seats", "Places", 1, get_settings().capacity_limit)
        people = validation.attendees(attendees, wanted, name, mail)
        places.take(conn, row.session_id, wanted)
        _check_not_booked_yet(conn, row.session_id, people)
        made = places.insert_booking(conn, row.session_id, name=name, email=mail, phone=phone, company=firm,
                                     seats=wanted, people=people, key=None, actor=who, emails=emails)
        record(conn, "booking.created", actor=who, session_id=row.session_id, booking_id=made.id,
               details=places.booking_details(made, hold_ended=ended.why))
        why = ended.why.removeprefix("has ").removeprefix("was ")
        return HeldBooking(made, f"Your hold had {why}; the places were still free, so they are booked.")

    return write(engine, work)


def list_holds(engine: Engine, session_id: object) -> list[Hold]:
    """The session's live holds, soonest to expire first."""
    sid = validation.uuid_of(session_id, "session_id", "session")
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(hd).where(hd.c.session_id == sid, hd.c.status == "active", hd.c.expires_at > utc_now())
            .order_by(hd.c.expires_at)
        ).all()
    return [_hold(r) for r in rows]


def get_hold(engine: Engine, hold_id: object) -> Hold:
    hid = validation.uuid_of(hold_id, "hold_id", "hold")
    with reading(engine) as conn:
        row = conn.execute(sa.select(hd).where(hd.c.id == hid)).first()
    if row is None:
        raise HoldNotActive("does not exist")
    return _hold(row)


log = logging.getLogger(__name__)
SWEEP_SECONDS = 5.0
SWEEPER = "hold-expiry-sweeper"


def expire_due_holds(engine: Engine) -> int:
    """Reap every expired hold; its places go to the waiting list first. Returns how many
    sessions had holds reaped.

    One transaction per session, recorded in the change feed (so pages refresh). Safe to
    run from several processes at once: a hold is reaped once.
    """
    with reading(engine) as conn:
        due = list(conn.execute(
            sa.select(hd.c.session_id).where(hd.c.status == "active", hd.c.expires_at <= utc_now()).distinct()
        ).scalars())
    ended = 0
    for sid in due:
        def work(conn: Connection, sid=sid) -> int:
            if not places.reap_expired(conn, sid):
                return 0
            places.promote_waiting(conn, sid)
            return 1
        ended += write(engine, work)
    return ended


def start_expiry_sweeper(engine: Engine, every: float = SWEEP_SECONDS) -> None:
    """Run `expire_due_holds` every few seconds in a daemon thread (once per engine).

    Stopped by `stop_expiry_sweeper`, and at interpreter exit (core/background.py).
    """
    background.start(engine, SWEEPER, expire_due_holds, every, what="hold sweeper", logger=log)


def stop_expiry_sweeper(engine: Engine | None = None, timeout: float = 5.0) -> None:
    """Stop the sweeper of `engine` (None: every sweeper) and wait for it."""
    background.stop(engine, SWEEPER, timeout)
