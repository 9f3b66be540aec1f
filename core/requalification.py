"""Requalification: who needs to come back, and when.

- `due_to_requalify`: certificates expiring in the next N days (the newest of each person
  and course only), with the later session the person is already booked on, if any, and the
  next sessions of the course with places.
- `book_requalification`: book the holder on one of those (the normal booking flow).
- `find_due_reminders`: the reminders due now, at each threshold of REQUALIFY_REMINDER_DAYS
  (90 and 30 days before expiry by default). Each is a row of `requalification_reminders`,
  whose key (certificate, threshold) makes it happen once whichever process finds it first,
  and an event `requalification.due` in the same transaction; the mail sender turns the
  event into the e-mail. None once the person is booked on a later session of the course.
- `demand_by_month`: certificates expiring per month and course beside the places scheduled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from core import availability, background, booking, validation
from core.access import Actor
from core.certificates import Certificate, select_certificates
from core.changes import record
from core.config import get_settings, today, utc_now
from core.db import reading, write
from core.errors import InvalidInput
from core.models import Attendee, Booking, Session
from core.people import attendee_key_sql
from core.schema import booking_attendees as ba
from core.schema import bookings as bk
from core.schema import certificates as ce
from core.schema import course_sessions as cs
from core.schema import people as pp
from core.schema import person_keys as pk
from core.schema import requalification_reminders as rr

log = logging.getLogger(__name__)

DEFAULT_DAYS = 90
NEXT_SESSIONS = 3           # sessions offered with each certificate
LOOK_AHEAD_DAYS = 365       # how far ahead those are looked for
REMINDER_ACTOR = "requalification reminders"
SWEEP_SECONDS = 600.0       # the due-finder's round in each app process (reminders are by the day)


@dataclass(frozen=True)
class Due:
    certificate: Certificate
    days_left: int
    site: str                          # where the certificate was earned
    booked_on: str | None              # the later session of the course the person is booked on
    next_sessions: tuple[Session, ...]


@dataclass(frozen=True)
class Reminder:
    certificate_id: uuid.UUID
    threshold_days: int
    name: str
    course_type: str
    expires_on: dt.date


def _newest():
    """SQL: no later certificate of the same course for the same person."""
    later = ce.alias("later")
    return ~sa.exists().where(later.c.person_id == ce.c.person_id, later.c.course_type == ce.c.course_type,
                              later.c.issued_on > ce.c.issued_on)


def _rebooked(conn: Connection, cert_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """certificate -> the later session of its course its holder is booked on (confirmed,
    not cancelled), nearest first; certificates whose holder is not booked are left out."""
    if not cert_ids:
        return {}
    later = cs.alias("later")
    rows = conn.execute(
        sa.select(ce.c.id, later.c.course_type, later.c.session_date, later.c.location, bk.c.reference)
        .select_from(ce.join(pk, pk.c.person_id == ce.c.person_id)
                     .join(ba, sa.true()).join(bk, bk.c.id == ba.c.booking_id)
                     .join(later, later.c.id == bk.c.session_id))
        .where(ce.c.id.in_(cert_ids), attendee_key_sql() == pk.c.match_key, bk.c.status == "confirmed", later.c.status != "cancelled",
               later.c.course_type == ce.c.course_type, later.c.session_date > ce.c.issued_on)
        .order_by(later.c.session_date)
    ).all()
    found: dict[uuid.UUID, str] = {}
    for r in rows:
        found.setdefault(r.id, f"{r.session_date:%a %-d %b %Y}, {r.location} ({r.reference})")
    return found


def next_sessions_with_places(engine: Engine, course_types, *, limit: int = NEXT_SESSIONS) -> dict[str, tuple[Session, ...]]:
    """The next sessions of each course with a place left, at either site, soonest first."""
    courses = sorted(set(course_types))
    if not courses:
        return {}
    day = today()
    found = availability.find_sessions(engine, day, day + dt.timedelta(days=LOOK_AHEAD_DAYS), course_types=courses,
                                       availability=["available", "almost_full"])
    by_course: dict[str, list[Session]] = {c: [] for c in courses}
    for s in found:
        if len(by_course[s.course_type]) < limit:
            by_course[s.course_type].append(s)
    return {c: tuple(v) for c, v in by_course.items()}


def _expiring(conn: Connection, first: dt.date, last: dt.date, *, course_types=None, company=None):
    stmt = (select_certificates().add_columns(cs.c.location)
            .join(cs, cs.c.id == ce.c.session_id)
            .where(ce.c.expires_on >= first, ce.c.expires_on <= last, _newest())
            .order_by(ce.c.expires_on, ce.c.course_type, ce.c.number))
    if course_types:
        stmt = stmt.where(ce.c.course_type.in_(list(course_types)))
    if company and company.strip():
        stmt = stmt.where(sa.func.lower(pp.c.company) == company.strip().lower())
    return conn.execute(stmt).all()


def due_to_requalify(engine: Engine, within_days: object = DEFAULT_DAYS, *, course_types=None,
                     company: str | None = None, locations=None) -> list[Due]:
    """Certificates expiring from today to `within_days` from now (by expiry, soonest first)."""
    days = validation.whole_number(within_days, "within_days", "Days ahead", 0, 3660)
    day = today()
    with reading(engine) as conn:
        rows = _expiring(conn, day, day + dt.timedelta(days=days), course_types=course_types, company=company)
        if locations:
            rows = [r for r in rows if r.location in set(locations)]
        booked = _rebooked(conn, [r.id for r in rows])
    offers = next_sessions_with_places(engine, {r.course_type for r in rows})
    return [Due(Certificate(*r[:11]), (r.expires_on - day).days, r.location, booked.get(r.id),
                offers.get(r.course_type, ())) for r in rows]


def book_requalification(engine: Engine, certificate_id: object, session_id: object, *,
                         actor: Actor | None = None, idempotency_key: str | None = None) -> Booking:
    """Book the certificate's holder on `session_id` through `core.booking.book`: one place,
    the holder as the attendee, the contact and company of the booking that earned it.
    Raises what `book` raises, and InvalidInput for a certificate that no longer exists."""
    cid = validation.uuid_of(certificate_id, "certificate_id", "certificate")
    with reading(engine) as conn:
        row = conn.execute(
            select_certificates().add_columns(bk.c.contact_name, bk.c.contact_email, bk.c.contact_phone)
            .join(bk, bk.c.id == ce.c.booking_id).where(ce.c.id == cid)).first()
    if row is None:
        raise InvalidInput("certificate_id", "That certificate no longer exists (its result was corrected): "
                                             "reload the list.")
    return booking.book(engine, session_id, contact_name=row.contact_name, contact_email=row.contact_email,
                        contact_phone=row.contact_phone, company=row.company, seats=1,
                        attendees=[Attendee(row.name, row.email)], idempotency_key=idempotency_key, actor=actor)


def _threshold(days_left: int, thresholds: tuple[int, ...]) -> int | None:
    """The smallest threshold the certificate is within (90 at 60 days left, 30 at 20)."""
    within = [t for t in thresholds if days_left <= t]
    return min(within) if within and days_left >= 0 else None


def _session_offer(s: Session) -> dict:
    return {"session_id": str(s.id), "course": s.course_type, "date": s.session_date.isoformat(),
            "start": f"{s.start_time:%H:%M}", "end": f"{s.end_time:%H:%M}", "location": s.location,
            "places_left": s.remaining, "label": s.label}


def find_due_reminders(engine: Engine) -> list[Reminder]:
    """Record every requalification reminder due today, once each; return those recorded.

    One transaction: for each, a `requalification_reminders` row (certificate, threshold)
    and an event `requalification.due` whose details carry the person's name and e-mail
    (and the booking contact's), the course, expiry, threshold, certificate and the next
    sessions with places at either site. The row's key lets one process in: another one
    finding the same reminder at the same moment inserts nothing and records nothing.
    """
    thresholds = get_settings().reminder_days
    if not thresholds:
        return []
    day = today()
    with reading(engine) as conn:
        rows = _expiring(conn, day, day + dt.timedelta(days=max(thresholds)))
        wanted = [(r, t) for r in rows if (t := _threshold((r.expires_on - day).days, thresholds)) is not None]
        sent = {(r.certificate_id, r.threshold_days) for r in conn.execute(
            sa.select(rr.c.certificate_id, rr.c.threshold_days).where(rr.c.certificate_id.in_([r.id for r, _ in wanted])))}
        wanted = [(r, t) for r, t in wanted if (r.id, t) not in sent]
    if not wanted:
        return []
    offers = next_sessions_with_places(engine, {r.course_type for r, _ in wanted})

    def work(conn: Connection) -> list[Reminder]:
        booked = _rebooked(conn, [r.id for r, _ in wanted])
        contacts = {r.id: r.contact_email for r in conn.execute(
            sa.select(bk.c.id, bk.c.contact_email).where(bk.c.id.in_([r.booking_id for r, _ in wanted])))}
        made = []
        for r, t in wanted:
            if r.id in booked:
                continue
            won = conn.execute(insert(rr).values(certificate_id=r.id, threshold_days=t, person_id=r.person_id,
                                                 created_at=utc_now())
                               .on_conflict_do_nothing().returning(rr.c.certificate_id)).first()
            if won is None:
                continue
            record(conn, "requalification.due", actor=REMINDER_ACTOR, session_id=r.session_id, details={
                "certificate_id": str(r.id), "certificate_number": r.number, "person_id": str(r.person_id),
                "name": r.name, "email": r.email, "contact_email": contacts.get(r.booking_id),
                "company": r.company, "course": r.course_type, "expires_on": r.expires_on.isoformat(),
                "threshold_days": t, "days_left": (r.expires_on - day).days,
                "next_sessions": [_session_offer(s) for s in offers.get(r.course_type, ())]})
            made.append(Reminder(r.id, t, r.name, r.course_type, r.expires_on))
        return made

    return write(engine, work)


@dataclass(frozen=True)
class MonthDemand:
    month: dt.date        # the first of the month
    course_type: str
    expiring: int         # certificates (the newest of each person and course) expiring that month
    places: int           # places of the sessions scheduled that month
    booked: int           # of which booked


def _month(day: dt.date, ahead: int = 0) -> dt.date:
    n = day.year * 12 + day.month - 1 + ahead
    return dt.date(n // 12, n % 12 + 1, 1)


def demand_by_month(engine: Engine, months: int = 12, *, first: dt.date | None = None) -> list[MonthDemand]:
    """For each of `months` months from this one: expiring certificates and places scheduled,
    per course (every course with either), month by month."""
    start = _month(first or today())
    end = _month(start, months)
    month_of = {_month(start, n): n for n in range(months)}
    with reading(engine) as conn:
        expiring = conn.execute(
            sa.select(ce.c.course_type, ce.c.expires_on).where(ce.c.expires_on >= start, ce.c.expires_on < end, _newest())
        ).all()
        scheduled = conn.execute(
            sa.select(cs.c.course_type, cs.c.session_date, cs.c.max_capacity, cs.c.current_bookings)
            .where(cs.c.session_date >= start, cs.c.session_date < end, cs.c.status != "cancelled")
        ).all()
    cells: dict[tuple[dt.date, str], list[int]] = {}
    for r in expiring:
        cells.setdefault((_month(r.expires_on), r.course_type), [0, 0, 0])[0] += 1
    for r in scheduled:
        cell = cells.setdefault((_month(r.session_date), r.course_type), [0, 0, 0])
        cell[1] += r.max_capacity
        cell[2] += r.current_bookings
    courses = sorted({c for _, c in cells})
    return [MonthDemand(m, c, *cells.get((m, c), (0, 0, 0))) for m in month_of for c in courses]


# --------------------------------------------------------------------------- background


FINDER = "requalification-reminders"


def start_reminder_finder(engine: Engine, every: float = SWEEP_SECONDS) -> None:
    """Run `find_due_reminders` every `every` seconds in a daemon thread (once per engine),
    beside the hold sweeper (core/background.py). Not at once: reminders are by the day, and
    a process starting (or a test's page run) should not write before anyone asked."""
    background.start(engine, FINDER, find_due_reminders, every, what="requalification reminders", logger=log)


def stop_reminder_finder(engine: Engine | None = None, timeout: float = 5.0) -> None:
    background.stop(engine, FINDER, timeout)


# --------------------------------------------------------------------------- command line


def _remind(args) -> str:
    from core.db import get_engine

    made = find_due_reminders(get_engine(args.database_url))
    return f"{len(made)} requalification reminder{'s' if len(made) != 1 else ''} due today recorded."


def add_reminders_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("remind-requalification",
                                   help="record the requalification reminders due today (once each)")
    parser.set_defaults(run=_remind)
    return parser
