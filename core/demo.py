"""Realistic demo data: a schedule around today with bookings, deterministic per seed; no
sessions at weekends or on bank holidays in England (core.bank_holidays)."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import demo_certificates
from core.bank_holidays import bank_holiday
from core.places import SYSTEM
from core.references import new_reference
from core.changes import record
from core.config import get_settings, now_local, today
from core.db import write
from core.schema import booking_attendees, bookings, course_sessions, course_types, sites

# course, typical day times, how often it runs
COURSES = [
    ("Emergency First Aid at Work", [("09:00", "16:00")], 3),
    ("First Aid at Work", [("09:00", "16:30")], 3),
    ("Paediatric First Aid", [("09:30", "16:30")], 2),
    ("CPR and AED", [("09:30", "12:30"), ("13:30", "16:30")], 2),
]
FIRST = ["Olivia", "Amelia", "Isla", "Ava", "Mia", "Oliver", "George", "Noah", "Arthur", "Leo", "Harry",
         "Aisha", "Priya", "Mohammed", "Zoë", "Siobhan", "Łukasz", "Niamh", "Rhys", "Callum", "Chloe", "Tom"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Patel", "Khan",
        "O'Brien", "Hughes", "Wright", "Walker", "Robinson", "Thompson", "Nowak", "Murphy", "Clarke"]
COMPANIES = ["Northgate Care Homes", "Little Acorns Nursery", "Brightwater Logistics", "Harbour Leisure Centre",
             "St Mary's Primary School", "Kestrel Construction", "City Dental Practice", None, None]


def _at(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _draw_sessions(rng: random.Random, first: dt.date, last: dt.date, limit: int, now: dt.datetime) -> list[dict]:
    rows, day = [], first
    while day <= last:
        if day.weekday() < 5 and not bank_holiday(day):  # no courses at weekends or on bank holidays
            for location in ("Location A", "Location B"):
                for course, slots, weight in rng.sample(COURSES, k=len(COURSES)):
                    if rng.random() > weight / 8:
                        continue
                    start, end = rng.choice(slots)
                    if any(r["session_date"] == day and r["location"] == location and r["start_time"] == _at(start)
                           for r in rows):
                        continue
                    status = "completed" if dt.datetime.combine(day, _at(start)) < now else "scheduled"
                    if status == "scheduled" and rng.random() < 0.03:
                        status = "cancelled"
                    rows.append(dict(
                        id=uuid.UUID(int=rng.getrandbits(128), version=4), course_type=course, session_date=day,
                        start_time=_at(start), end_time=_at(end), location=location,
                        max_capacity=limit if rng.random() > 0.1 else max(limit - 4, 1),
                        current_bookings=0, status=status,
                        instructor_notes=rng.choice([None, None, "Bring manikins and AED trainers.",
                                                     "Room 2, ground floor. Parking at the back.",
                                                     "Group from one employer; invoice the company."]),
                        created_at=dt.datetime.combine(first - dt.timedelta(days=30), dt.time(9)),
                        updated_at=dt.datetime.combine(first - dt.timedelta(days=30), dt.time(9)),
                    ))
        day += dt.timedelta(days=1)
    return rows


def _draw_bookings(rng: random.Random, sessions: list[dict], now: dt.datetime) -> tuple[list[dict], list[dict]]:
    people, seats_rows = [], []
    for s in sessions:
        if s["status"] == "cancelled":
            continue
        # some empty, many part-filled, some almost full, some full
        target = min(s["max_capacity"], max(0, round(s["max_capacity"] * rng.choice(
            [0, 0.25, 0.5, 0.6, 0.75, 0.85, 0.92, 1, 1, 1.2]))))
        start = dt.datetime.combine(s["session_date"], s["start_time"])
        while s["current_bookings"] < target:
            group = min(rng.choice([1, 1, 1, 2, 2, 3, 4, 6]), target - s["current_bookings"])
            made = start - dt.timedelta(days=rng.randint(1, 50), hours=rng.randint(0, 8))
            if made >= now:  # booked far ahead: at some point in the last six weeks
                made = now - dt.timedelta(days=rng.randint(0, 42), hours=rng.randint(1, 10))
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = rng.choice(COMPANIES)
            booking_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            people.append(dict(
                id=booking_id, session_id=s["id"], reference=new_reference(), contact_name=f"{first} {last}",
                contact_email=f"{first}.{last}".lower().replace("'", "").replace("ł", "l").replace("ë", "e")
                + f"{rng.randint(1, 99)}@example.co.uk",
                contact_phone=f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}", company=company,
                seats=group, status="confirmed", created_at=made, created_by=SYSTEM, idempotency_key=None,
            ))
            for n in range(1, group + 1):
                name = f"{first} {last}" if n == 1 else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                seats_rows.append(dict(booking_id=booking_id, seat_no=n, session_id=s["id"], name=name, email=None))
            s["current_bookings"] += group
    return people, seats_rows


# What the demo's e-mails say about the sites and the courses (admins edit it on the Outbox page).
DEMO_SITES = {
    "Location A": ("Unit 4, Riverside Business Park, Example Road, Exampleton EX1 2AB",
                   "Free parking in front of the building; reception is through the blue door."),
    "Location B": ("2nd floor, 18 High Street, Sampleford SF3 4CD",
                   "Five minutes' walk from the station; lift to the 2nd floor."),
}
DEMO_JOINING = ("Please arrive 15 minutes before the start. Wear comfortable clothes (there is floor "
                "work), bring any glasses you need for reading, and photo ID. Drinks are provided; "
                "bring your own lunch.")


def _demo_details(conn) -> None:
    """Addresses and joining instructions where none are set yet, so the demo's e-mails show them."""
    for name, (address, directions) in DEMO_SITES.items():
        empty = sa.or_(sites.c.address.is_(None), sites.c.address == "")
        if conn.execute(sa.update(sites).where(sites.c.name == name, empty)
                        .values(address=address, directions=directions)).rowcount == 0 \
                and conn.execute(sa.select(sites.c.name).where(sites.c.name == name)).first() is None:
            conn.execute(sites.insert().values(name=name, address=address, directions=directions))
    unset = sa.or_(course_types.c.joining_instructions.is_(None), course_types.c.joining_instructions == "")
    conn.execute(sa.update(course_types).where(unset).values(joining_instructions=DEMO_JOINING))


def seed_demo(engine: Engine, *, seed: int = 7, weeks_back: int = 8, weeks_ahead: int = 12) -> int:
    """Fill the schedule from `weeks_back` before today to `weeks_ahead` after; return sessions made."""
    rng = random.Random(seed)
    now = now_local()
    first = today() - dt.timedelta(weeks=weeks_back)
    last = today() + dt.timedelta(weeks=weeks_ahead)
    sessions = _draw_sessions(rng, first, last, get_settings().capacity_limit, now)
    people, seats_rows = _draw_bookings(rng, sessions, now)

    def work(conn) -> int:
        conn.execute(course_sessions.insert(), sessions)
        if people:
            conn.execute(bookings.insert(), people)
            conn.execute(booking_attendees.insert(), seats_rows)
        _demo_details(conn)
        made = demo_certificates.add_history(conn, rng, today(), (FIRST, LAST), COMPANIES)
        record(conn, "demo.seeded", actor=SYSTEM, details={"sessions": len(sessions), "bookings": len(people),
                                                           "certificates": made})
        return len(sessions)

    return write(engine, work)
