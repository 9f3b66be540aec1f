"""A session's places: the one owner of its booked and held places and its waiting list.

Only this module changes `current_bookings`, `held_places` and the state of waiting-list
entries. Booking, holds, the waiting list, capacity changes and session cancellation call
it inside their own transaction (`core.db.write`), and every change it makes is recorded
as an event in that transaction (`core.changes.record`): a promotion caused by a
cancellation, or a hold reaped by somebody else's booking, is an event of its own.

Serialisation is per session, never per database:
- taking places is one guarded UPDATE of the session row (capacity, status, "not started"
  in its WHERE); PostgreSQL holds that row's lock to commit, so two takers queue there;
- whatever decides from a read (refusing with "only N left", joining or leaving the
  waiting list, promoting) first takes the same row lock (`lock`), so a cancellation that
  frees places and a person joining the list at that moment come one after the other;
- DuckDB lets one writer in at a time (`core.db.write` takes turns), so there is nothing
  more to take.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.availability import load_session, upcoming_at
from core.changes import record
from core.config import now_local, utc_now
from core.errors import SessionFull, SessionNotBookable
from core.models import Attendee, Booking, Promotion, Session
from core.references import new_reference
from core.schema import booking_attendees as ba
from core.schema import bookings as bk
from core.schema import course_sessions as cs
from core.schema import holds as hd
from core.schema import waitlist_entries as wl

# The named actor of writes that no person makes: expiry, promotion, demo data.
SYSTEM = "system"

BOOKED, HELD = "current_bookings", "held_places"


def lock_all(conn: Connection, session_ids) -> None:
    """Lock several sessions in id order (two writers locking the same two never deadlock)."""
    for sid in sorted(set(session_ids)):
        lock(conn, sid)


def lock(conn: Connection, session_id: uuid.UUID) -> None:
    """Take the session's row lock until commit (PostgreSQL); a missing session is left
    for the caller's own read to report.

    FOR NO KEY UPDATE: the lock an UPDATE of the counters takes, so that it queues with
    them, and not against the key-share locks that writing a booking's foreign key takes
    (FOR UPDATE did: moves in opposite directions deadlocked on it).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(cs.c.id).where(cs.c.id == session_id).with_for_update(key_share=True))


def bookable_now():
    """The session has not started yet (site wall-clock time, from the one clock)."""
    return upcoming_at(now_local())


def why_not(session: Session, seats: int) -> Exception:
    """The refusal for `seats` places on a session read under its lock."""
    if session.status == "cancelled":
        return SessionNotBookable(session.label, "it has been cancelled")
    if session.status == "completed" or session.phase != "upcoming":
        return SessionNotBookable(session.label, f"it started at {session.start_time:%H:%M} on {session.session_date:%d %b %Y}")
    return SessionFull(session.remaining, session.label, seats)


def _guarded_take(conn: Connection, session_id: uuid.UUID, seats: int, column: str) -> bool:
    col = cs.c[column]
    return conn.execute(
        sa.update(cs)
        .where(
            cs.c.id == session_id,
            cs.c.status == "scheduled",
            cs.c.current_bookings + cs.c.held_places + seats <= cs.c.max_capacity,
            bookable_now(),
        )
        .values({col: col + seats, cs.c.updated_at: utc_now()})
    ).rowcount == 1


def take(conn: Connection, session_id: uuid.UUID, seats: int, *, column: str = BOOKED) -> None:
    """Take `seats` booked (or held) places of a scheduled session that has not started,
    or raise why not (SessionFull, SessionNotBookable, SessionNotFound).

    When they do not fit: under the session's lock, expired holds are reaped (their places
    go to the waiting list first), then the places are tried again; a refusal is read
    under the lock, so what it says is true at that moment.
    """
    if _guarded_take(conn, session_id, seats, column):
        return
    lock(conn, session_id)
    if reap_expired(conn, session_id):
        promote_waiting(conn, session_id)
    if _guarded_take(conn, session_id, seats, column):
        return
    raise why_not(load_session(conn, session_id), seats)


def resize(conn: Connection, session_id: uuid.UUID, capacity: int) -> bool:
    """Set the session's capacity if its booked and held places fit (expired holds reaped
    first when they are in the way); False when they do not."""
    def fits() -> bool:
        return conn.execute(
            sa.update(cs).where(cs.c.id == session_id, cs.c.current_bookings + cs.c.held_places <= capacity)
            .values(max_capacity=capacity, updated_at=utc_now())
        ).rowcount == 1

    if fits():
        return True
    lock(conn, session_id)
    if reap_expired(conn, session_id):
        return fits()
    return False


def give_back(conn: Connection, session_id: uuid.UUID, seats: int, *, column: str = BOOKED,
              promote: bool = True) -> list[Promotion]:
    """Give places back; the waiting list gets them first (unless `promote` is False: the
    caller is making the session smaller). Returns who was promoted."""
    col = cs.c[column]
    conn.execute(sa.update(cs).where(cs.c.id == session_id).values({col: col - seats, cs.c.updated_at: utc_now()}))
    return promote_waiting(conn, session_id) if promote else []


def convert_hold(conn: Connection, session_id: uuid.UUID, held: int, booked: int) -> list[Promotion]:
    """`booked` of a hold's `held` places become booked, the rest go back (waiting list
    first). Returns who was promoted."""
    conn.execute(sa.update(cs).where(cs.c.id == session_id).values(
        current_bookings=cs.c.current_bookings + booked, held_places=cs.c.held_places - held,
        updated_at=utc_now()))
    return promote_waiting(conn, session_id) if held > booked else []


def reap_expired(conn: Connection, session_id: uuid.UUID) -> int:
    """End the session's expired holds, one `hold.expired` event each; return places freed
    (the caller promotes)."""
    now = utc_now()
    ended = conn.execute(
        sa.update(hd)
        .where(hd.c.session_id == session_id, hd.c.status == "active", hd.c.expires_at <= now)
        .values(status="expired", ended_at=now)
        .returning(hd.c.id, hd.c.seats, hd.c.held_by, hd.c.expires_at)
    ).all()
    freed = sum(h.seats for h in ended)
    if freed:
        conn.execute(sa.update(cs).where(cs.c.id == session_id).values(held_places=cs.c.held_places - freed))
    for h in ended:
        record(conn, "hold.expired", actor=SYSTEM, session_id=session_id,
               details={"hold_id": str(h.id), "seats": h.seats, "held_by": h.held_by,
                        "expired_at": h.expires_at.isoformat()})
    return freed


def insert_booking(conn: Connection, session_id: uuid.UUID, *, name: str, email: str, phone: str | None,
                   company: str | None, seats: int, people: list[Attendee], key: str | None,
                   actor: str | None, emails: str = "contact") -> Booking:
    """Write a confirmed booking and its attendees (the places are taken by the caller)."""
    made = Booking(id=uuid.uuid4(), reference=new_reference(), session_id=session_id, seats=seats,
                   status="confirmed", contact_name=name, contact_email=email, contact_phone=phone,
                   company=company, created_at=utc_now(), created_by=actor, idempotency_key=key,
                   attendees=tuple(people))
    conn.execute(
        bk.insert().values(
            id=made.id, session_id=session_id, reference=made.reference, contact_name=name,
            contact_email=email, contact_phone=phone, company=company, seats=seats,
            status="confirmed", created_at=made.created_at, created_by=actor, idempotency_key=key,
            emails=emails,
        )
    )
    if people:
        conn.execute(ba.insert(), [
            dict(booking_id=made.id, seat_no=n, session_id=session_id, name=p.name, email=p.email,
                 active_email=p.email)
            for n, p in enumerate(people, start=1)
        ])
    return made


def booking_details(booking: Booking, **more) -> dict:
    """What an event about a booking carries for its readers (the audit page, e-mails)."""
    return {"reference": booking.reference, "seats": booking.seats, "contact": booking.contact_name,
            "email": booking.contact_email, "phone": booking.contact_phone, "company": booking.company,
            "attendees": [p.name for p in booking.attendees], **more}


def promote_waiting(conn: Connection, session_id: uuid.UUID) -> list[Promotion]:
    """Book waiting-list entries, first come first served, each that fits the free places;
    one `waitlist.promoted` event each. Returns who was promoted (reference, name, places).

    The caller holds the session's lock already (every caller here has just updated the
    session's row or called `lock`), so no second round trip takes it again.
    """
    entries = conn.execute(
        sa.select(wl).where(wl.c.session_id == session_id, wl.c.status == "waiting")
        .order_by(wl.c.created_at, wl.c.id)
    ).all()
    promoted: list[Promotion] = []
    for entry in entries:
        people = [Attendee(entry.name, entry.email)] if entry.seats == 1 else []
        if people and conn.execute(sa.select(ba.c.booking_id).where(
                ba.c.session_id == session_id, ba.c.active_email == entry.email).limit(1)).first():
            # booked meanwhile by other means: nothing to wait for any more
            end_entry(conn, entry, "withdrawn", actor=SYSTEM, why="booked meanwhile")
            continue
        if not _guarded_take(conn, session_id, entry.seats, BOOKED):
            continue
        made = insert_booking(conn, session_id, name=entry.name, email=entry.email, phone=entry.phone,
                              company=entry.company, seats=entry.seats, people=people, key=None,
                              actor=SYSTEM)
        conn.execute(sa.update(wl).where(wl.c.id == entry.id)
                     .values(status="promoted", ended_at=utc_now(), booking_id=made.id))
        record(conn, "waitlist.promoted", actor=SYSTEM, session_id=session_id, booking_id=made.id,
               details=booking_details(made, entry_id=str(entry.id)))
        promoted.append(Promotion(made.reference, entry.name, entry.seats))
    return promoted


def end_entry(conn: Connection, entry, status: str, *, actor: str, why: str | None = None) -> bool:
    """End a waiting entry that is still waiting (withdrawn); True when this call ended it."""
    ended = conn.execute(sa.update(wl).where(wl.c.id == entry.id, wl.c.status == "waiting")
                         .values(status=status, ended_at=utc_now())).rowcount == 1
    if ended:
        details = {"entry_id": str(entry.id), "name": entry.name, "email": entry.email, "seats": entry.seats}
        if why:
            details["why"] = why
        record(conn, "waitlist.withdrawn", actor=actor, session_id=entry.session_id, details=details)
    return ended


def close(conn: Connection, session_id: uuid.UUID) -> dict:
    """A cancelled session gives up its places (under its lock): bookings are kept for
    rebooking, holds released, the waiting list ended. Returns who was affected, for the
    session's `session.cancelled` event (the e-mails to send)."""
    conn.execute(sa.update(cs).where(cs.c.id == session_id)
                 .values(status="cancelled", current_bookings=0, held_places=0, updated_at=utc_now()))
    rebook = conn.execute(
        sa.update(bk).where(bk.c.session_id == session_id, bk.c.status == "confirmed").values(status="rebook")
        .returning(bk.c.id, bk.c.reference, bk.c.contact_name, bk.c.contact_email, bk.c.seats)
    ).all()
    conn.execute(sa.update(ba).where(ba.c.session_id == session_id).values(active_email=None))
    held = conn.execute(sa.update(hd).where(hd.c.session_id == session_id, hd.c.status == "active")
                        .values(status="released", ended_at=utc_now()).returning(hd.c.id, hd.c.seats)).all()
    waiting = conn.execute(sa.update(wl).where(wl.c.session_id == session_id, wl.c.status == "waiting")
                           .values(status="withdrawn", ended_at=utc_now())
                           .returning(wl.c.id, wl.c.name, wl.c.email, wl.c.seats)).all()
    return {
        "bookings_to_rebook": len(rebook),
        "bookings": [{"booking_id": str(b.id), "reference": b.reference, "contact": b.contact_name,
                      "email": b.contact_email, "seats": b.seats} for b in rebook],
        "holds_released": [{"hold_id": str(h.id), "seats": h.seats} for h in held],
        "waiting_ended": [{"entry_id": str(w.id), "name": w.name, "email": w.email, "seats": w.seats}
                          for w in waiting],
    }
