"""Find a booking the way a caller describes it: its reference, a name (the contact's or an
attendee's), an e-mail address, a phone number or a company.

One statement with bound parameters (what was typed never becomes SQL), the same on
DuckDB and PostgreSQL: case-insensitive substring matches (`lower(column) LIKE :pattern`,
with `%` and `_` typed by the caller matched as themselves), and phone numbers compared
by their digits only, so "07700 900 123" finds "07700900123".
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import validation
from core.availability import _now_params, _select_sessions, to_session
from core.config import today as local_today
from core.db import reading
from core.errors import InvalidInput
from core.models import BOOKING_ROW_FIELDS, Attendee, Booking, Session
from core.schema import booking_attendees as ba
from core.schema import bookings as bk
from core.schema import course_sessions as cs

MIN_CHARS = 2
MIN_PHONE_DIGITS = 4  # fewer digits would match most phone numbers
LIMIT = 50


@dataclass(frozen=True)
class FoundBooking:
    booking: Booking
    session: Session


@dataclass(frozen=True)
class SearchResult:
    query: str
    found: tuple[FoundBooking, ...]
    more: bool  # there were more than `limit` matches: the caller should narrow the search


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own %, _ and \\ taken literally."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _digits(column):
    return sa.func.regexp_replace(sa.func.coalesce(column, ""), "[^0-9]", "", "g")


def find_bookings(engine: Engine, query: object, *, limit: int = LIMIT, today: dt.date | None = None) -> SearchResult:
    """Bookings (any status) whose reference, contact name, an attendee's name, e-mail,
    phone or company contains `query`, any case; those of sessions from today on first
    (soonest first), then past ones (latest first). At most `limit`.

    Raises InvalidInput (field `query`) when fewer than 2 characters are given.
    """
    text = validation.text(query, "query", "Search", required=True)
    if len(text) < MIN_CHARS:
        raise InvalidInput("query", f"Type at least {MIN_CHARS} characters to search for a booking.")
    limit = validation.whole_number(limit, "limit", "Number of results", 1, 500)
    day = today or local_today()
    pattern = sa.bindparam("pattern", _like(text.lower()))
    hits = [
        sa.func.lower(bk.c.reference).like(pattern, escape="\\"),
        sa.func.lower(bk.c.contact_name).like(pattern, escape="\\"),
        sa.func.lower(bk.c.contact_email).like(pattern, escape="\\"),
        sa.func.lower(sa.func.coalesce(bk.c.company, "")).like(pattern, escape="\\"),
        sa.exists().where(ba.c.booking_id == bk.c.id, sa.func.lower(ba.c.name).like(pattern, escape="\\")),
    ]
    digits = re.sub(r"\D", "", text)
    if len(digits) >= MIN_PHONE_DIGITS:
        hits.append(_digits(bk.c.contact_phone).like(sa.bindparam("digits", _like(digits)), escape="\\"))
    upcoming = cs.c.session_date >= sa.bindparam("today", day)
    stmt = (
        sa.select(bk.c.id)
        .join(cs, cs.c.id == bk.c.session_id)
        .where(sa.or_(*hits))
        .order_by(sa.case((upcoming, 0), else_=1),
                  sa.case((upcoming, cs.c.session_date)).asc(),
                  cs.c.session_date.desc(), cs.c.start_time, bk.c.created_at, bk.c.reference)
        .limit(limit + 1)
    )
    with reading(engine) as conn:
        ids = list(conn.execute(stmt).scalars())
        found = _load(conn, ids[:limit])
    return SearchResult(query=text, found=tuple(found), more=len(ids) > limit)


def _load(conn, ids: list[uuid.UUID]) -> list[FoundBooking]:
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(sa.select(bk).where(bk.c.id.in_(ids)))}
    people: dict[uuid.UUID, list[Attendee]] = {}
    for p in conn.execute(sa.select(ba).where(ba.c.booking_id.in_(ids)).order_by(ba.c.booking_id, ba.c.seat_no)):
        people.setdefault(p.booking_id, []).append(Attendee(p.name, p.email))
    params, now = _now_params()
    session_ids = {r.session_id for r in rows.values()}
    sessions = {r.id: to_session(r, now)
                for r in conn.execute(_select_sessions().where(cs.c.id.in_(session_ids)), params)}
    return [
        FoundBooking(
            booking=Booking(**{k: getattr(rows[i], k) for k in BOOKING_ROW_FIELDS}, attendees=tuple(people.get(i, ()))),
            session=sessions[rows[i].session_id],
        )
        for i in ids
    ]
