"""Demo history for requalification: past courses whose certificates run out around now.

Sessions a year (CPR and AED) or three years (the others) back, their bookings with named
attendees, the registers marked (most passed), the people and their certificates, so the
Due to requalify page, the reminders and the dashboard's demand chart have something to
show after `make run`. Deterministic per random generator, like the rest of the demo.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy.engine import Connection

from core import certificates
from core.people import match_key
from core.places import SYSTEM
from core.references import new_reference
from core.schema import attendance, booking_attendees, bookings, certificates as certs, course_sessions, people
from core.schema import person_keys

MONTHS = {"CPR and AED": 12, "First Aid at Work": 36, "Emergency First Aid at Work": 36, "Paediatric First Aid": 36}
CODES = {"CPR and AED": "CPR", "First Aid at Work": "FAW", "Emergency First Aid at Work": "EFAW",
         "Paediatric First Aid": "PFA"}
SESSIONS_PER_COURSE = 10
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def add_history(conn: Connection, rng: random.Random, today: dt.date, names, companies) -> int:
    """Write the history in the caller's transaction; return the certificates made."""
    rows = {t: [] for t in ("sessions", "bookings", "seats", "marks", "people", "keys", "certs")}
    for course, months in MONTHS.items():
        for n in range(SESSIONS_PER_COURSE):
            # issued so that they expire from a month ago to eleven months ahead
            expires = today + dt.timedelta(days=rng.randint(-30, 330))
            day = expires - dt.timedelta(days=round(months * 30.44))
            while day.weekday() >= 5:
                day -= dt.timedelta(days=1)
            _one_session(rows, rng, course, day, names, companies)
    conn.execute(course_sessions.insert(), rows["sessions"])
    conn.execute(bookings.insert(), rows["bookings"])
    conn.execute(booking_attendees.insert(), rows["seats"])
    conn.execute(people.insert(), rows["people"])
    conn.execute(person_keys.insert(), rows["keys"])
    conn.execute(attendance.insert(), rows["marks"])
    if rows["certs"]:
        conn.execute(certs.insert(), rows["certs"])
    return len(rows["certs"])


def _one_session(rows: dict, rng: random.Random, course: str, day: dt.date, names, companies) -> None:
    sid, seats = _uuid(rng), rng.randint(3, 8)
    at = dt.datetime.combine(day - dt.timedelta(days=20), dt.time(9))
    rows["sessions"].append(dict(
        id=sid, course_type=course, session_date=day, start_time=dt.time(9), end_time=dt.time(16), location=rng.choice(
            ("Location A", "Location B")), max_capacity=12, current_bookings=seats, status="completed",
        created_at=at, updated_at=at))
    company = rng.choice(companies) or "Kestrel Construction"
    bid = _uuid(rng)
    rows["bookings"].append(dict(
        id=bid, session_id=sid, reference=new_reference(), contact_name="Training Office",
        contact_email=f"training@{company.lower().replace(' ', '').replace(chr(39), '')}.example.co.uk",
        company=company, seats=seats, status="confirmed", created_at=at, created_by=SYSTEM))
    for seat in range(1, seats + 1):
        name = f"{rng.choice(names[0])} {rng.choice(names[1])}"
        email = f"{name.lower().replace(' ', '.').replace(chr(39), '')}.{len(rows['people']) + 1}@example.co.uk"
        pid = _uuid(rng)
        passed = rng.random() < 0.9
        rows["seats"].append(dict(booking_id=bid, seat_no=seat, session_id=sid, name=name, email=email,
                                  active_email=email))
        rows["people"].append(dict(id=pid, name=name, email=email, company=company, created_at=at))
        rows["keys"].append(dict(match_key=match_key(name, email, company), person_id=pid))
        rows["marks"].append(dict(booking_id=bid, seat_no=seat, session_id=sid, person_id=pid, name=name, email=email,
                                  attended=True, passed=passed, marked_at=at, marked_by=SYSTEM))
        if passed:
            rows["certs"].append(dict(
                id=_uuid(rng), number=f"{CODES[course]}-{day:%Y}-" + "".join(rng.choice(_ALPHABET) for _ in range(6)),
                person_id=pid, course_type=course, issued_on=day,
                expires_on=certificates.expiry_date(day, MONTHS[course]), session_id=sid, booking_id=bid,
                seat_no=seat, created_at=at))
