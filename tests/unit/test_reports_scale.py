"""The dashboard's figures stay fast with 20,000 sessions (aggregated by the database)."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from core.reports import ReportScope, occupancy_report

SESSIONS = 20_000
FIRST = dt.date(2031, 1, 6)  # a Monday; ten sessions a day for 2,000 days
BUDGET_SECONDS = 5.0  # measured here: about 0.1-0.2 s on DuckDB, 0.2-0.6 s on PostgreSQL

FILL = """
INSERT INTO course_sessions (id, course_type, session_date, start_time, end_time, location, max_capacity,
                             current_bookings, status, created_at, updated_at)
SELECT gen_random_uuid(),
       CASE i % 4 WHEN 0 THEN 'Emergency First Aid at Work' WHEN 1 THEN 'First Aid at Work'
                  WHEN 2 THEN 'Paediatric First Aid' ELSE 'CPR and AED' END,
       CAST(:first AS DATE) + CAST(i / 10 AS INTEGER),
       CAST('09:00' AS TIME), CAST('16:00' AS TIME),
       CASE WHEN i % 2 = 0 THEN 'Location A' ELSE 'Location B' END,
       12, (i * 7) % 13, CASE WHEN i % 37 = 0 THEN 'cancelled' ELSE 'scheduled' END,
       CAST(:now AS TIMESTAMP), CAST(:now AS TIMESTAMP)
FROM generate_series(0, :n - 1) AS t(i)
"""
BOOK = """
INSERT INTO bookings (id, session_id, reference, contact_name, contact_email, seats, status, created_at)
SELECT gen_random_uuid(), s.id, 'BK-' || CAST(ROW_NUMBER() OVER () AS VARCHAR), 'Zoë', 'z@example.com',
       s.current_bookings, 'confirmed', CAST(s.session_date AS TIMESTAMP) - INTERVAL '20 days'
FROM course_sessions s WHERE s.current_bookings > 0 AND s.status = 'scheduled'
"""


def test_the_whole_dashboard_for_twenty_thousand_sessions_is_computed_within_budget(engine):
    with engine.begin() as conn:
        conn.execute(sa.text(FILL), {"first": FIRST, "now": dt.datetime(2031, 1, 1), "n": SESSIONS})
        conn.execute(sa.text(BOOK))
    scope = ReportScope(FIRST, FIRST + dt.timedelta(days=SESSIONS // 10))
    occupancy_report(engine, scope, today=FIRST)  # warm the connection pool and caches

    started = time.perf_counter()
    report = occupancy_report(engine, scope, today=FIRST + dt.timedelta(days=100))
    took = time.perf_counter() - started

    cancelled = len(range(0, SESSIONS, 37))
    sold = sum((i * 7) % 13 for i in range(SESSIONS) if i % 37)
    assert (report.headline.sessions_run, report.headline.cancelled) == (SESSIONS - cancelled, cancelled)
    assert report.headline.places_sold == sold == int(report.pace.seats.sum())
    assert int(report.by_week.sessions.sum()) == SESSIONS - cancelled
    assert took < BUDGET_SECONDS, f"occupancy_report took {took:.2f} s for {SESSIONS} sessions"
