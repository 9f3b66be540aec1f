"""What the desk needs from the core (issue 15): adding places to a booking, finding a
booking, who a cancellation promoted, where a booking can move, one at-risk figure, bank
holidays, and names that are too long. On DuckDB and PostgreSQL; the addition of places
is raced on PostgreSQL with real threads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from core import availability, booking, config, demo, errors, recurrence, search, waitlist
from core.additions import add_places
from core.bank_holidays import bank_holiday, bank_holidays_between
from core.models import Attendee
from core.reports import ReportScope, headline, occupancy_report
from core.sessions import create_session
from tests.actors import ADMIN, STAFF
from tests.conftest import assert_invariants
from tests.integration.test_places_races import THREADS, _race, make_session, pg  # noqa: F401  (fixtures)
from tests.unit.test_reports import schedule  # noqa: F401  (fixture)


def _book(engine, session, seats=1, name="Jo Bloggs", email=None, **more):
    return booking.book(engine, session.id, contact_name=name,
                        contact_email=email or f"{name.split()[0].lower()}@example.co.uk", seats=seats,
                        actor=STAFF, **more)


# --- adding places to a booking ------------------------------------------------------------


def test_the_same_contact_booked_again_is_refused_naming_their_booking(engine, new_session):
    s = new_session()
    first = _book(engine, s)
    with pytest.raises(errors.DuplicateAttendee) as refused:
        _book(engine, s)
    assert refused.value.reference == first.reference
    assert f"(booking {first.reference})" in str(refused.value)


def test_adding_places_to_a_booking_keeps_its_reference_and_takes_the_places(engine, new_session):
    s = new_session(max_capacity=6)
    first = _book(engine, s)
    grown = add_places(engine, first.reference, 2, attendees=["Al Colleague", "Bea Colleague"], actor=STAFF)
    assert (grown.reference, grown.seats) == (first.reference, 3)
    assert [a.name for a in grown.attendees] == ["Jo Bloggs", "Al Colleague", "Bea Colleague"]
    assert availability.get_session(engine, s.id).remaining == 3
    with engine.connect() as conn:
        event = conn.execute(sa.text("SELECT actor, details FROM changes WHERE action = 'booking.places_added'")).one()
    assert event.actor == STAFF.name and '"added": 2' in event.details
    # cancelling it gives every place back
    booking.cancel(engine, first.id, actor=STAFF)
    assert availability.get_session(engine, s.id).remaining == 6
    assert_invariants(engine)


def test_adding_more_places_than_are_left_is_refused_with_the_places_left_and_changes_nothing(engine, new_session):
    s = new_session(max_capacity=3)
    first = _book(engine, s, seats=2)
    with pytest.raises(errors.SessionFull) as refused:
        add_places(engine, first.id, 2, actor=STAFF)
    assert refused.value.remaining == 1
    assert booking.get_booking(engine, first.id).seats == 2
    assert_invariants(engine)


def test_adding_places_twice_with_the_same_key_adds_them_once(engine, new_session):
    s = new_session()
    first = _book(engine, s)
    once = add_places(engine, first.id, 2, idempotency_key="k-1", actor=STAFF)
    again = add_places(engine, first.id, 2, idempotency_key="k-1", actor=STAFF)
    assert (once.seats, once.replayed, again.seats, again.replayed) == (3, False, 3, True)
    with pytest.raises(errors.InvalidInput) as refused:
        add_places(engine, first.id, 1, idempotency_key="k-1", actor=STAFF)
    assert refused.value.field == "idempotency_key"
    assert availability.get_session(engine, s.id).current_bookings == 3


def test_an_added_attendee_already_booked_on_the_session_is_refused(engine, new_session):
    s = new_session()
    first = _book(engine, s)
    other = _book(engine, s, name="Kim Other")
    with pytest.raises(errors.DuplicateAttendee) as refused:
        add_places(engine, other.id, 1, attendees=[Attendee("Jo Bloggs", "jo@example.co.uk")], actor=STAFF)
    assert refused.value.reference == first.reference
    assert booking.get_booking(engine, other.id).seats == 1
    assert_invariants(engine)


@pytest.mark.postgres
def test_places_added_from_32_threads_to_four_bookings_are_never_oversold(pg, make_session):
    for _ in range(3):
        s = make_session(12)
        early = [_book(pg, s, name=f"Early {i}", email=f"early{i}@example.co.uk") for i in range(4)]
        jobs = [lambda b=early[i % 4]: add_places(pg, b.id, 1, actor=STAFF) for i in range(THREADS)]
        outcomes = _race(jobs)
        added = [o for o in outcomes if isinstance(o, booking.Booking)]
        refused = [o for o in outcomes if isinstance(o, errors.SessionFull)]
        assert (len(added), len(refused)) == (8, THREADS - 8), outcomes
        assert all("0 places left" in str(o) or "full" in str(o) for o in refused)
        assert sum(booking.get_booking(pg, b.id).seats for b in early) == 12
        assert_invariants(pg)


@pytest.mark.postgres
def test_the_same_addition_sent_by_32_threads_at_once_adds_its_places_once(pg, make_session):
    s = make_session(12)
    first = _book(pg, s)
    outcomes = _race([lambda: add_places(pg, first.id, 3, idempotency_key="double-click", actor=STAFF)] * THREADS)
    assert all(isinstance(o, booking.Booking) and o.seats == 4 for o in outcomes), outcomes
    assert sum(not o.replayed for o in outcomes) == 1
    assert availability.get_session(pg, s.id).current_bookings == 4
    assert_invariants(pg)


# --- finding a booking -----------------------------------------------------------------------


@pytest.fixture
def booked(engine, new_session, future_day):
    s = new_session()
    past = create_session(engine, course_type="CPR and AED", session_date=future_day + dt.timedelta(days=7),
                          start_time="09:30", end_time="12:30", location="Location B", actor=ADMIN)
    return dict(
        ann=_book(engine, s, seats=2, name="Ann Ünal", email="ann.unal@northgate.example", contact_phone="07700 900123",
                  company="Northgate Care 100%", attendees=["Ann Ünal", "Rob Attendee"]),
        bob=_book(engine, past, name="Bob Smith", email="bob@kestrel.example", contact_phone="+44 1632 960 555",
                  company="Kestrel Construction"),
    )


def _refs(engine, query):
    return [f.booking.reference for f in search.find_bookings(engine, query).found]


def test_a_booking_is_found_by_reference_name_email_phone_or_company_in_any_case(engine, booked):
    ann, bob = booked["ann"].reference, booked["bob"].reference
    assert _refs(engine, ann.lower()) == [ann]
    assert _refs(engine, ann.removeprefix("BK-")) == [ann]
    assert _refs(engine, "ann ünal") == [ann]
    assert _refs(engine, "rob attendee") == [ann]  # an attendee's name
    assert _refs(engine, "KESTREL.EXAMPLE") == [bob]
    assert _refs(engine, "07700900123") == [ann]  # digits only, stored with a space
    assert _refs(engine, "1632 960555") == [bob]
    assert _refs(engine, "construction") == [bob]
    assert sorted(_refs(engine, "example")) == sorted([ann, bob])
    found = search.find_bookings(engine, "northgate").found[0]
    assert (found.session.course_type, found.booking.seats) == ("First Aid at Work", 2)


def test_search_text_is_matched_as_typed_never_as_a_pattern_or_sql(engine, booked):
    assert _refs(engine, "100%") == [booked["ann"].reference]
    assert _refs(engine, "10_%") == []
    assert _refs(engine, "' OR 1=1 --") == []
    with pytest.raises(errors.InvalidInput) as refused:
        search.find_bookings(engine, "a")
    assert refused.value.field == "query"


def test_search_lists_bookings_of_sessions_to_come_soonest_first(engine, booked):
    assert _refs(engine, "example") == [booked["ann"].reference, booked["bob"].reference]


# --- a cancellation says who was promoted ------------------------------------------------------


def test_a_cancellation_says_who_on_the_waiting_list_got_its_places(engine, new_session):
    s = new_session(max_capacity=3)
    first = _book(engine, s, seats=3)
    waitlist.join_waitlist(engine, s.id, name="Jo Waiting", email="jo.waiting@example.co.uk", seats=2, actor=STAFF)
    cancelled = booking.cancel(engine, first.reference, actor=STAFF)
    assert [(p.name, p.seats) for p in cancelled.promoted] == [("Jo Waiting", 2)]
    assert booking.get_booking(engine, cancelled.promoted[0].reference).contact_name == "Jo Waiting"
    alone = _book(engine, s, name="Al Alone")
    assert booking.cancel(engine, alone.id, actor=STAFF).promoted == ()


# --- where a booking can move ----------------------------------------------------------------


def test_move_targets_list_the_same_site_first_then_by_date(engine, new_session, future_day):
    origin = new_session(location="Location B")
    made = {}
    for days, site in ((1, "Location A"), (2, "Location B"), (5, "Location B"), (3, "Location A"), (-1, "Location B")):
        made[(days, site)] = new_session(session_date=future_day + dt.timedelta(days=days), location=site).id
    targets = availability.move_targets(engine, origin.id, seats=1)
    assert [t.id for t in targets] == [made[(-1, "Location B")], made[(2, "Location B")], made[(5, "Location B")],
                                       made[(1, "Location A")], made[(3, "Location A")]]


# --- one at-risk figure ------------------------------------------------------------------------


@pytest.mark.parametrize("first,last,at_risk", [(1, 27, 2), (2, 2, 1), (3, 27, 0), (-40, -20, 0), (0, 0, 0)])
def test_the_at_risk_tile_counts_the_at_risk_rows_of_the_table_for_the_same_dates(engine, schedule, first, last, at_risk):
    W, today = schedule["W"], schedule["today"]
    scope = ReportScope(W + dt.timedelta(days=first), W + dt.timedelta(days=last))
    report = occupancy_report(engine, scope, today=today)
    table = report.next_days
    assert report.headline.at_risk == int(table.at_risk.sum()) == at_risk
    assert headline(engine, scope, today=today).at_risk == at_risk
    if len(table):
        assert table.session_date.min() >= scope.start and table.session_date.max() <= scope.end
        assert report.risk_range[0] <= table.session_date.min()


# --- bank holidays -----------------------------------------------------------------------------


def test_bank_holidays_in_england_are_known_with_their_names():
    assert bank_holiday(dt.date(2026, 12, 25)) == "Christmas Day"
    assert bank_holiday(dt.date(2027, 1, 1)) == "New Year's Day"
    assert bank_holiday(dt.date(2026, 12, 24)) is None
    assert list(bank_holidays_between(dt.date(2026, 12, 20), dt.date(2027, 1, 2))) == [
        dt.date(2026, 12, 25), dt.date(2026, 12, 26), dt.date(2026, 12, 28), dt.date(2027, 1, 1)]


def test_the_demo_schedule_has_no_session_on_a_bank_holiday(engine):
    demo.seed_demo(engine, seed=3)
    start = config.today() - dt.timedelta(weeks=8)
    end = config.today() + dt.timedelta(weeks=12)
    holidays = bank_holidays_between(start, end)
    assert holidays, "20 weeks always hold a bank holiday in England"
    sessions = availability.find_sessions(engine, start, end, include_cancelled=True)
    assert len(sessions) > 100
    assert [s for s in sessions if s.session_date in holidays] == []


def test_the_series_preview_flags_the_dates_that_are_bank_holidays(engine):
    spec = recurrence.SeriesSpec(course_type="First Aid at Work", first_date=dt.date(2026, 12, 21), weekdays=(0, 4),
                                 weeks=2, start_time=dt.time(9), end_time=dt.time(16), location="Location A")
    preview = recurrence.preview_series(engine, spec, today=dt.date(2026, 1, 1))
    assert [(p.session_date, p.bank_holiday) for p in preview.on_bank_holidays] == [
        (dt.date(2026, 12, 25), "Christmas Day"), (dt.date(2026, 12, 28), "Boxing Day (observed)"),
        (dt.date(2027, 1, 1), "New Year's Day")]
    assert preview.planned[0].bank_holiday is None


# --- names too long ------------------------------------------------------------------------------


def test_a_name_longer_than_200_characters_is_refused_naming_the_field_and_nothing_is_booked(engine, new_session):
    s = new_session()
    with pytest.raises(errors.InvalidInput) as refused:
        _book(engine, s, name="Jo " + "x" * 250)
    assert refused.value.field == "contact_name"
    assert str(refused.value).startswith("Contact name is too long: 253 characters, at most 200.")
    assert availability.get_session(engine, s.id).current_bookings == 0
