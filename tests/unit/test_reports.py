"""Occupancy aggregates against figures worked out by hand, on DuckDB and PostgreSQL.

The fixed schedule (W is a Monday a few weeks ahead; the report's "today" is W-2, a
Saturday, so the at-risk window is W-2 .. W+11):

    S1  First Aid at Work     Mon W      Location A  12 places  12 booked (10 + 2)  full
    S2  First Aid at Work     Tue W+1    Location B  12 places   3 booked (+1 cancelled)  at risk
    S3  CPR and AED           Wed W+2    Location A  10 places   4 booked           at risk
    S4  Emergency First Aid   Mon W+7    Location A  12 places   6 booked           half full: not at risk
    S5  Paediatric First Aid  Tue W+8    Location B   8 places   2 booked, then the session is cancelled
    S6  Emergency First Aid   Mon W+21   Location A  12 places   2 booked           outside the window

Booking days (set by hand; 12:00 UTC so no day moves in either season):
    S1: 10 places on W-30, 2 on W-3;  S2: 3 on W-9;  S3: 4 on W;  S4: 6 on W-53;  S6: 2 on W.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import booking, config
from core.reports import AT_RISK_DAYS, ReportScope, headline, occupancy_report
from core.schema import bookings as bk
from core.sessions import cancel_session, create_session
from tests.actors import ADMIN, STAFF

FAW, EFAW, CPR, PFA = "First Aid at Work", "Emergency First Aid at Work", "CPR and AED", "Paediatric First Aid"
A, B = "Location A", "Location B"


def _monday_ahead(weeks: int = 3) -> dt.date:
    day = config.today() + dt.timedelta(days=7 * weeks)
    return day - dt.timedelta(days=day.weekday())


def _book(engine, session, seats: int, booked_on: dt.date, name: str = "Zoë O'Brien"):
    made = booking.book(engine, session.id, contact_name=name, contact_email=f"{seats}.{booked_on}@example.com",
                        seats=seats, actor=STAFF)
    with engine.begin() as conn:
        conn.execute(sa.update(bk).where(bk.c.id == made.id)
                     .values(created_at=dt.datetime.combine(booked_on, dt.time(12))))
    return made


@pytest.fixture
def schedule(engine):
    W = _monday_ahead()
    day = lambda n: W + dt.timedelta(days=n)  # noqa: E731

    def session(course, offset, location, capacity):
        return create_session(engine, course_type=course, session_date=day(offset), start_time="09:00",
                              end_time="16:00", location=location, max_capacity=capacity, actor=ADMIN)

    s1 = session(FAW, 0, A, 12)
    s2 = session(FAW, 1, B, 12)
    s3 = session(CPR, 2, A, 10)
    s4 = session(EFAW, 7, A, 12)
    s5 = session(PFA, 8, B, 8)
    s6 = session(EFAW, 21, A, 12)
    _book(engine, s1, 10, day(-30))
    _book(engine, s1, 2, day(-3))
    _book(engine, s2, 3, day(-9))
    dropped = _book(engine, s2, 1, day(-8))
    booking.cancel(engine, dropped.id, actor=STAFF)
    _book(engine, s3, 4, day(0))
    _book(engine, s4, 6, day(-53))
    _book(engine, s5, 2, day(-5))
    cancel_session(engine, s5.id, reason="Instructor ill", actor=ADMIN)
    _book(engine, s6, 2, day(0))
    return dict(W=W, today=day(-2), scope=ReportScope(W, day(27)), ids=[s1.id, s2.id, s3.id, s4.id, s5.id, s6.id])


def test_headline_counts_match_the_hand_worked_schedule(engine, schedule):
    h = headline(engine, schedule["scope"], today=schedule["today"])
    assert (h.sessions_run, h.places_sold, h.capacity) == (5, 27, 58)
    assert h.fill_rate == pytest.approx(27 / 58)
    assert (h.full_sessions, h.at_risk, h.cancelled) == (1, 2, 1)


def test_filters_narrow_every_figure_to_the_chosen_course_and_location(engine, schedule):
    scope = ReportScope.of(schedule["W"], schedule["W"] + dt.timedelta(days=27), [FAW], [A])
    h = headline(engine, scope, today=schedule["today"])
    assert (h.sessions_run, h.places_sold, h.capacity, h.full_sessions, h.at_risk, h.cancelled) == (1, 12, 12, 1, 0, 0)
    report = occupancy_report(engine, scope, today=schedule["today"])
    assert set(report.by_week.course_type) == {FAW}
    assert report.pace.seats.sum() == 12


def test_a_range_with_no_sessions_gives_zeros_and_no_fill_rate(engine, schedule):
    far = schedule["W"] + dt.timedelta(days=400)
    report = occupancy_report(engine, ReportScope(far, far + dt.timedelta(days=6)), today=schedule["today"])
    h = report.headline
    assert (h.sessions_run, h.places_sold, h.capacity, h.full_sessions, h.cancelled) == (0, 0, 0, 0, 0)
    assert h.fill_rate is None
    assert report.by_week.empty and report.pace.empty and report.lead_time.empty


def _records(df, columns):
    return sorted(tuple(r) for r in df[columns].itertuples(index=False, name=None))


def test_fill_rate_by_week_groups_monday_weeks_per_course(engine, schedule):
    W = schedule["W"]
    report = occupancy_report(engine, schedule["scope"], today=schedule["today"])
    got = _records(report.by_week.assign(week=report.by_week.week_start.dt.date),
                   ["week", "course_type", "sessions", "places_sold", "capacity"])
    assert got == sorted([
        (W, CPR, 1, 4, 10),
        (W, FAW, 2, 15, 24),
        (W + dt.timedelta(days=7), EFAW, 1, 6, 12),
        (W + dt.timedelta(days=21), EFAW, 1, 2, 12),
    ])
    faw = report.by_week[report.by_week.course_type == FAW].iloc[0]
    assert faw.fill_rate == pytest.approx(15 / 24)


def test_location_comparison_splits_each_course_by_site(engine, schedule):
    report = occupancy_report(engine, schedule["scope"], today=schedule["today"])
    assert _records(report.by_location, ["location", "course_type", "sessions", "places_sold", "capacity"]) == sorted([
        (A, CPR, 1, 4, 10), (A, EFAW, 2, 8, 24), (A, FAW, 1, 12, 12), (B, FAW, 1, 3, 12),
    ])


def test_weekday_heatmap_puts_each_session_on_its_iso_weekday(engine, schedule):
    report = occupancy_report(engine, schedule["scope"], today=schedule["today"])
    assert _records(report.by_weekday, ["day", "course_type", "sessions", "places_sold", "capacity"]) == sorted([
        ("Mon", FAW, 1, 12, 12), ("Mon", EFAW, 2, 8, 24), ("Tue", FAW, 1, 3, 12), ("Wed", CPR, 1, 4, 10),
    ])
    assert set(report.by_weekday.weekday) == {1, 2, 3}


def test_booking_pace_counts_live_bookings_per_local_day(engine, schedule):
    W = schedule["W"]
    report = occupancy_report(engine, schedule["scope"], today=schedule["today"])
    got = _records(report.pace.assign(day=report.pace.booked_on.dt.date), ["day", "course_type", "bookings", "seats"])
    d = lambda n: W + dt.timedelta(days=n)  # noqa: E731
    assert got == sorted([
        (d(-53), EFAW, 1, 6), (d(-30), FAW, 1, 10), (d(-9), FAW, 1, 3), (d(-3), FAW, 1, 2),
        (d(0), CPR, 1, 4), (d(0), EFAW, 1, 2),
    ])
    assert report.pace.seats.sum() == report.headline.places_sold


def test_lead_time_buckets_days_between_booking_and_session(engine, schedule):
    report = occupancy_report(engine, schedule["scope"], today=schedule["today"])
    totals = report.lead_time.groupby("bucket").seats.sum().to_dict()
    assert totals == {"1-6 days": 6, "1-2 weeks": 3, "2-4 weeks": 2, "4-8 weeks": 10, "8+ weeks": 6}


def test_next_fourteen_days_lists_at_risk_sessions_first_then_by_fill(engine, schedule):
    s1, s2, s3, s4, s5, s6 = schedule["ids"]
    report = occupancy_report(engine, schedule["scope"], today=schedule["today"])
    table = report.next_days
    assert list(table.session_id) == [s2, s3, s4, s1]
    assert list(table.at_risk) == [True, True, False, False]
    assert list(table.places_left) == [9, 6, 6, 0]
    assert AT_RISK_DAYS == 14


def test_booking_made_late_evening_in_summer_counts_on_the_next_local_day(engine, schedule):
    # 23:30 UTC on 30 June is 00:30 BST on 1 July at the sites.
    s6 = schedule["ids"][5]
    with engine.begin() as conn:
        conn.execute(sa.update(bk).where(bk.c.session_id == s6)
                     .values(created_at=dt.datetime(2030, 6, 30, 23, 30)))
    report = occupancy_report(engine, schedule["scope"], today=schedule["today"])
    assert dt.date(2030, 7, 1) in set(report.pace.booked_on.dt.date)
    assert dt.date(2030, 6, 30) not in set(report.pace.booked_on.dt.date)


def test_next_days_count_live_holds_against_places_left_and_show_the_waiting_list(engine, schedule):
    from core.holds import place_hold
    from core.waitlist import join_waitlist

    s1, s2 = schedule["ids"][:2]
    place_hold(engine, s2, 2, held_by="Sam", actor=STAFF)
    join_waitlist(engine, s1, name="Łukasz Nowak", email="lukasz@example.com", seats=1, actor=STAFF)
    table = occupancy_report(engine, schedule["scope"], today=schedule["today"]).next_days.set_index("session_id")
    assert (table.loc[s2, "held"], table.loc[s2, "places_left"], table.loc[s2, "booked"]) == (2, 7, 3)
    assert table.loc[s1, "waiting"] == 1 and table.loc[s1, "places_left"] == 0
