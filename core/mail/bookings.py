"""Who is told what about a booking (the builders of the booking events).

booking.created     confirmation, with the session's .ics
booking.cancelled   cancellation
booking.moved       old and new session, the new .ics
waitlist.promoted   "you now have N places on ...", with the .ics
session.cancelled   apology, sessions of the same course with room, how to rebook (each
                    booking still to rebook; one the office moved gets booking.moved instead)

Recipients: the booking's contact, and each attendee with an e-mail when the booking says
`emails = "attendees"`; nobody when it says "none" (phone-only customers).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.availability import alternatives
from core.config import utc_now
from core.mail.details import session_facts
from core.mail.ics import booking_ics
from core.mail.messages import Draft, builder
from core.mail.render import header_text, render, short_date
from core.models import Change
from core.schema import booking_attendees as ba
from core.schema import bookings as bk

NAME_MAX = 100  # of a display name in a header


def recipients(conn: Connection, booking_id: uuid.UUID) -> tuple[object, list[tuple[str, str]]]:
    """(the booking row, [(e-mail, name)]) of who hears about the booking."""
    row = conn.execute(sa.select(bk).where(bk.c.id == booking_id)).first()
    if row is None or (row.emails or "contact") == "none":
        return row, []
    people = [(row.contact_email, row.contact_name)]
    if row.emails == "attendees":
        people += [(p.email, p.name) for p in conn.execute(
            sa.select(ba.c.email, ba.c.name).where(ba.c.booking_id == booking_id, ba.c.email.is_not(None))
            .order_by(ba.c.seat_no))]
    return row, people


def _drafts(conn: Connection, change: Change, kind: str, template: str, subject: str, *, session: dict,
            ics: str | None = None, booking_id=None, **context) -> list[Draft]:
    booking_id = booking_id or change.booking_id
    row, people = recipients(conn, booking_id)
    if row is None:
        return []
    attendees = [p.name for p in conn.execute(sa.select(ba.c.name).where(ba.c.booking_id == booking_id)
                                              .order_by(ba.c.seat_no))]
    out = []
    subject = header_text(subject)
    for address, name in people:
        text, html = render(template, subject=subject, name=name, reference=row.reference,
                            seats=row.seats, session=session,
                            attendees=attendees, **context)
        out.append(Draft(recipient=address, name=header_text(name, NAME_MAX), kind=kind, subject=subject,
                         text_body=text, html_body=html, ics=ics, booking_id=booking_id, reference=row.reference))
    return out


def _ics(change: Change, booking_id, reference: str, s: dict, *, cancelled: bool = False) -> str:
    return booking_ics(booking_id=booking_id, reference=reference, course=s["course"], day=s["date"],
                       start=s["start"], end=s["end"], location=s["location"], address=s["address"],
                       sequence=change.version, stamp=utc_now(), cancelled=cancelled)


def _subject(what: str, s: dict, reference: str) -> str:
    return f"{what}: {s['course']}, {short_date(s['date'])}, {s['location']} ({reference})"


def _about_its_session(conn: Connection, change: Change, kind: str, what: str, *, cancelled: bool = False):
    s = session_facts(conn, change.session_id)
    ref = change.details.get("reference", "")
    if s is None:
        return []
    return _drafts(conn, change, kind, kind, _subject(what, s, ref), session=s,
                   ics=_ics(change, change.booking_id, ref, s, cancelled=cancelled))


@builder("booking.created")
def confirmation(conn: Connection, change: Change) -> list[Draft]:
    return _about_its_session(conn, change, "confirmation", "Booking confirmed")


@builder("waitlist.promoted")
def promoted(conn: Connection, change: Change) -> list[Draft]:
    return _about_its_session(conn, change, "promoted", "You now have places")


@builder("booking.cancelled")
def cancelled(conn: Connection, change: Change) -> list[Draft]:
    return _about_its_session(conn, change, "cancelled", "Booking cancelled", cancelled=True)


@builder("booking.moved")
def moved(conn: Connection, change: Change) -> list[Draft]:
    old, new = session_facts(conn, change.session_id), session_facts(conn, change.other_session_id)
    ref = change.details.get("reference", "")
    if old is None or new is None:
        return []
    return _drafts(conn, change, "moved", "moved", _subject("Booking moved", new, ref), session=new,
                   old_session=old, because_cancelled=change.details.get("was") == "rebook",
                   ics=_ics(change, change.booking_id, ref, new))


@builder("session.cancelled")
def session_cancelled(conn: Connection, change: Change) -> list[Draft]:
    s = session_facts(conn, change.session_id)
    if s is None:
        return []
    out: list[Draft] = []
    for b in change.details.get("bookings", ()):
        bid = uuid.UUID(b["booking_id"])
        now_on = conn.execute(sa.select(bk.c.session_id).where(bk.c.id == bid)).scalar()
        if now_on != change.session_id:
            continue  # the office moved it in the same change: its booking.moved e-mail says so
        others = [dict(date=a.session_date, start=a.start_time, end=a.end_time, location=a.location)
                  for a in alternatives(conn.engine, change.session_id, seats=b["seats"], limit=3)]
        out += _drafts(conn, change, "session_cancelled", "session_cancelled",
                       _subject("Session cancelled", s, b["reference"]), session=s, booking_id=bid,
                       alternatives=others, reason=change.details.get("reason") or "",
                       ics=_ics(change, bid, b["reference"], s, cancelled=True))
    return out
