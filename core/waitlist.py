"""Waiting lists: first come, first served, promoted to bookings as places free up.

Promotion itself happens in the transaction that frees the places (core.places.promote_waiting):
a cancellation, a move away, a raised capacity, a released or expired hold. Joining and
withdrawing take the session's row lock first (core.places.lock), so they never interleave
with a promotion: a person joining while places are freed is either promoted or told to
book, and a withdrawal reports what really happened.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import places, validation
from core.availability import load_session
from core.access import Actor, require
from core.changes import record
from core.config import get_settings, utc_now
from core.db import reading, write
from core.errors import InvalidInput, SessionNotBookable
from core.models import WaitlistEntry
from core.schema import bookings as bk
from core.schema import waitlist_entries as wl

_ORDER = (wl.c.created_at, wl.c.id)


def join_waitlist(engine: Engine, session_id: object, *, name: str, email: str, phone: str | None = None,
                  company: str | None = None, seats: int = 1, actor: Actor | None = None) -> WaitlistEntry:
    """Put a contact on a session's waiting list, when it has fewer places left than wanted.

    Raises InvalidInput (places are free: book instead; already waiting), SessionNotBookable.
    """
    who = require(actor, "staff", "keep waiting lists")
    sid = validation.uuid_of(session_id, "session_id", "session")
    seats = validation.whole_number(seats, "seats", "Places", 1, get_settings().capacity_limit)
    name = validation.text(name, "name", "Name", required=True)
    mail = validation.email(email, "email")
    phone = validation.phone(phone)
    firm = validation.text(company, "company", "Company", required=False)

    def work(conn: Connection) -> WaitlistEntry:
        places.lock(conn, sid)
        if places.reap_expired(conn, sid):
            places.promote_waiting(conn, sid)
        session = load_session(conn, sid)
        if session.status != "scheduled" or session.phase != "upcoming":
            raise SessionNotBookable(session.label, "it is not open for booking")
        if session.remaining >= seats:
            free = "place is" if session.remaining == 1 else "places are"
            raise InvalidInput("seats", f"{session.remaining} {free} free on {session.label}: book instead.")
        already = conn.execute(sa.select(wl.c.id).where(
            wl.c.session_id == sid, wl.c.status == "waiting", wl.c.email == mail)).first()
        if already:
            raise InvalidInput("email", f"{mail} is already on the waiting list for {session.label}.")
        entry_id = uuid.uuid4()
        conn.execute(wl.insert().values(id=entry_id, session_id=sid, name=name, email=mail, phone=phone,
                                        company=firm, seats=seats, status="waiting", created_at=utc_now(),
                                        created_by=who))
        record(conn, "waitlist.joined", actor=who, session_id=sid,
               details={"entry_id": str(entry_id), "name": name, "email": mail, "phone": phone, "company": firm,
                        "seats": seats})
        return _entries(conn, sid, entry_id)[0]

    return write(engine, work)


def withdraw(engine: Engine, entry_id: object, *, actor: Actor | None = None) -> None:
    """Take someone off a waiting list.

    Raises InvalidInput when they are no longer waiting, saying why: promoted (with the
    booking's reference: cancel that instead) or already withdrawn.
    """
    who = require(actor, "staff", "keep waiting lists")
    eid = validation.uuid_of(entry_id, "entry_id", "waiting-list entry")

    def work(conn: Connection) -> None:
        found = conn.execute(sa.select(wl.c.session_id).where(wl.c.id == eid)).first()
        if found is None:
            raise InvalidInput("entry_id", "That person is not on this waiting list.")
        places.lock(conn, found.session_id)
        row = conn.execute(sa.select(wl).where(wl.c.id == eid)).one()  # read under the lock
        if row.status == "promoted":
            reference = conn.execute(sa.select(bk.c.reference).where(bk.c.id == row.booking_id)).scalar()
            raise InvalidInput("entry_id", f"{row.name} was given a place meanwhile: booking {reference}. "
                                           "Cancel that booking if they no longer want it.")
        if row.status != "waiting" or not places.end_entry(conn, row, "withdrawn", actor=who):
            raise InvalidInput("entry_id", f"{row.name} is no longer on the waiting list.")

    write(engine, work)


def _entries(conn: Connection, session_id: uuid.UUID, only: uuid.UUID | None = None) -> list[WaitlistEntry]:
    rows = conn.execute(sa.select(wl).where(wl.c.session_id == session_id).order_by(*_ORDER)).all()
    out, position = [], 0
    for r in rows:
        if r.status == "waiting":
            position += 1
        entry = WaitlistEntry(
            id=r.id, session_id=r.session_id, position=position if r.status == "waiting" else 0, name=r.name,
            email=r.email, phone=r.phone, company=r.company, seats=r.seats, status=r.status,
            created_at=r.created_at, booking_id=r.booking_id)
        if only is None or r.id == only:
            out.append(entry)
    return out


def list_waitlist(engine: Engine, session_id: object, *, include_ended: bool = False) -> list[WaitlistEntry]:
    """The waiting list with positions (1 = next in line)."""
    sid = validation.uuid_of(session_id, "session_id", "session")
    with reading(engine) as conn:
        entries = _entries(conn, sid)
    return entries if include_ended else [e for e in entries if e.status == "waiting"]
