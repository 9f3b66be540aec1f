"""The URL half of the filters (plain Python): what a bookmark carries and what it restores."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from core.models import AVAILABILITY_STATES, LOCATIONS, CourseType
from tests.e2e.seen import seen
from ui.filters import Filters, parse_query, query_string, to_query

TYPES = [
    CourseType("Emergency First Aid at Work", "EFAW", "#0EA5E9", 1),
    CourseType("First Aid at Work", "FAW", "#10B981", 2),
    CourseType("Paediatric First Aid", "PFA", "#F97316", 3),
    CourseType("CPR and AED", "CPR", "#8B5CF6", 4),
]
NAMES = [t.name for t in TYPES]


def _subset(options):
    return st.lists(st.sampled_from(options), unique=True).map(lambda xs: tuple(o for o in options if o in xs))


@st.composite
def filters(draw) -> Filters:
    start = draw(st.none() | st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)))
    end = draw(st.none() | st.dates(start or dt.date(2020, 1, 1), dt.date(2036, 12, 31)))
    return Filters(
        course_types=draw(_subset(NAMES)), date_from=start, date_to=end,
        states=draw(_subset(list(AVAILABILITY_STATES))), locations=draw(_subset(list(LOCATIONS))),
        show_cancelled=draw(st.booleans()), compact=draw(st.none() | st.booleans()),
    )


@given(filters())
def test_any_filters_survive_the_trip_through_the_url(wanted):
    query = to_query(wanted, TYPES)
    assert parse_query(query, TYPES) == (wanted, [])


def test_the_url_uses_short_readable_values():
    wanted = Filters(course_types=("First Aid at Work", "CPR and AED"), date_from=dt.date(2026, 12, 1),
                     states=("almost_full", "full"), locations=("Location B",), show_cancelled=True, compact=True)
    assert query_string(to_query(wanted, TYPES)) == (
        "cancelled=1&course=FAW%2CCPR&from=2026-12-01&location=B&status=almost_full%2Cfull&view=list")


def test_default_filters_leave_the_url_empty():
    assert to_query(Filters(), TYPES) == {}


def test_links_written_by_hand_are_understood_loosely():
    wanted, notices = parse_query({"course": ["efaw", "First Aid at Work"], "location": "Location A,b",
                                   "status": "Almost-Full", "cancelled": "yes", "view": "CALENDAR"}, TYPES)
    assert notices == []
    assert wanted == Filters(course_types=tuple(NAMES[:2]), locations=LOCATIONS, states=("almost_full",),
                             show_cancelled=True, compact=False)


def test_each_value_that_makes_no_sense_is_dropped_with_its_own_notice():
    wanted, notices = parse_query({"course": "EFAW,Yoga", "from": "2026-02-30", "to": "soon",
                                   "status": "empty", "location": "C", "cancelled": "perhaps", "view": "3d"}, TYPES)
    assert wanted == Filters(course_types=("Emergency First Aid at Work",))
    assert len(notices) == 7
    assert any("'Yoga'" in seen(n) for n in notices) and any("'2026-02-30'" in seen(n) for n in notices)


def test_a_range_that_ends_before_it_starts_is_dropped():
    wanted, notices = parse_query({"from": "2026-12-10", "to": "2026-12-01"}, TYPES)
    assert (wanted.date_from, wanted.date_to) == (None, None)
    assert notices == ["The link's 'to' date is before its 'from' date: both ignored."]
