"""The session detail with holds and a waiting list, through Streamlit's AppTest (in this
process, on a DuckDB file of each test's own)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from streamlit.testing.v1 import AppTest

from core import booking, holds, waitlist
from core.availability import find_sessions, get_session
from core.config import today
from core.db import get_engine
from core.sessions import create_session
from tests.actors import ADMIN, STAFF
from tests.e2e.conftest import ROOT, _make_database
from tests.e2e.seen import seen
from ui import keys as K
from ui import ops_keys as OK

TIMEOUT = 30


def _detail(session_id: str) -> None:
    from ui.detail import session_dialog

    session_dialog(session_id)


@pytest.fixture
def engine(tmp_path, use_database):
    url = use_database(_make_database(tmp_path / "app.duckdb", demo=False))
    return get_engine(url)


@pytest.fixture
def make_session(engine):
    day = today() + dt.timedelta(days=14)

    def make(capacity: int, *, days: int = 0, location: str = "Location A"):
        return create_session(engine, course_type="First Aid at Work", session_date=day + dt.timedelta(days=days),
                              start_time="09:00", end_time="16:30", location=location, max_capacity=capacity,
                              actor=ADMIN)

    return make


def open_detail(session) -> AppTest:
    return AppTest.from_function(_detail, args=(str(session.id),), default_timeout=TIMEOUT).run()


def texts(at: AppTest) -> str:
    """Everything the dialog says, markdown, HTML and alerts, as one string."""
    parts = [m.value for m in at.markdown] + [h.value for h in at.get("html")]
    parts += [e.value for kind in (at.success, at.error, at.info, at.warning) for e in kind]
    return seen(re.sub("</?bdi>", "", "\n".join(parts)))  # as read: people's text is isolated and escaped


def labels(at: AppTest) -> list[str]:
    return [seen(b.label) for b in at.button]


def button(at: AppTest, label: str):
    return next(b for b in at.button if seen(b.label) == label)


def fill(at: AppTest, session, **values) -> AppTest:
    for field, value in values.items():
        key = K.form_field(session.id, field)
        (at.number_input(key=key) if field == "seats" else at.text_input(key=key)).set_value(value)
    return at


def test_the_detail_shows_each_hold_with_who_and_minutes_left_and_the_waiting_list_with_positions(engine, make_session):
    session = make_session(3)
    booking.book(engine, session.id, contact_name="Ivy Early", contact_email="ivy@example.com", actor=STAFF)
    holds.place_hold(engine, session.id, 2, actor=STAFF, note="caller from Acme")
    waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", seats=2, actor=STAFF)
    waitlist.join_waitlist(engine, session.id, name="Bo Chan", email="bo@example.com", actor=STAFF)

    at = open_detail(session)
    said = texts(at)
    assert re.search(r"2 places held by Sam at the desk</b> \(caller from Acme\) · (10|9) min left \(until \d\d:\d\d\)", said)
    assert "**1. Ann Lee** · 2 places" in said and "**2. Bo Chan** · 1 place" in said
    assert not at.exception


def test_a_waiting_list_entry_is_withdrawn_after_a_second_click_and_the_others_move_up(engine, make_session):
    session = make_session(1)
    booking.book(engine, session.id, contact_name="Ivy Early", contact_email="ivy@example.com", actor=STAFF)
    ann = waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    waitlist.join_waitlist(engine, session.id, name="Bo Chan", email="bo@example.com", actor=STAFF)

    at = open_detail(session)
    at.button(key=f"wl_withdraw_{ann.id}").click().run()
    assert [e.name for e in waitlist.list_waitlist(engine, session.id)] == ["Ann Lee", "Bo Chan"]  # asked first
    at.button(key=f"wl_yes_{ann.id}").click().run()
    assert "Ann Lee is off the waiting list." in texts(at)
    assert [(e.position, e.name) for e in waitlist.list_waitlist(engine, session.id)] == [(1, "Bo Chan")]
    assert "**1. Bo Chan**" in texts(at) and "Ann Lee**" not in texts(at)


def test_the_form_offers_hold_places_while_there_is_room_and_the_waiting_list_and_other_dates_when_full(
        engine, make_session):
    roomy = make_session(4)
    at = open_detail(roomy)
    assert {"Confirm booking", "Hold places (10 min)"} <= set(labels(at))
    assert "Join the waiting list" not in labels(at)

    full = make_session(2, days=1)
    elsewhere = make_session(6, days=3, location="Location B")
    booking.book(engine, full.id, contact_name="Ivy Early", contact_email="ivy@example.com", seats=2, actor=STAFF)
    at = open_detail(full)
    assert "Join the waiting list" in labels(at)
    assert "Confirm booking" not in labels(at) and not any(b.startswith("Hold places") for b in labels(at))
    offers = [b for b in labels(at) if b.startswith("Book here:")]
    assert offers and "Location B" in offers[-1]

    fill(at, full, contact_name="Cy Wait", contact_email="cy@example.com", seats=2)
    button(at, "Join the waiting list").click().run()
    assert "Cy Wait is number 1 on the waiting list, for 2 places" in texts(at)
    [entry] = waitlist.list_waitlist(engine, full.id)
    assert (entry.name, entry.seats) == ("Cy Wait", 2)

    fill(at, full, contact_name="Di Move", contact_email="di@example.com", seats=1)
    next(b for b in at.button if b.label.startswith("Book here:") and "Location B" in b.label).click().run()
    assert re.search(r"Booked 1 place on First Aid at Work, .*Location B for Di Move", texts(at))
    assert get_session(engine, elsewhere.id).current_bookings == 1


def test_a_group_too_big_for_the_places_left_is_offered_the_waiting_list_and_other_dates(engine, make_session):
    session = make_session(3)
    make_session(5, days=-2, location="Location B")
    at = fill(open_detail(session), session, contact_name="Ed Group", contact_email="ed@example.com", seats=3)
    # A colleague books a place while the caller's details are taken: the group no longer fits.
    booking.book(engine, session.id, contact_name="Ivy Early", contact_email="ivy@example.com", actor=STAFF)
    button(at, "Confirm booking").click().run()
    assert "Only 2 places left" in texts(at)
    assert any(b.startswith("Book here:") and "Location B" in b for b in labels(at))
    button(at, "Put Ed Group on the waiting list for 3 places").click().run()
    assert "Ed Group is number 1 on the waiting list, for 3 places" in texts(at)
    assert [(e.name, e.seats) for e in waitlist.list_waitlist(engine, session.id)] == [("Ed Group", 3)]


def test_held_places_turn_into_a_booking_with_the_form(engine, make_session):
    session = make_session(4)
    at = fill(open_detail(session), session, seats=2)
    button(at, "Hold places (10 min)").click().run()
    [hold] = holds.list_holds(engine, session.id)
    assert hold.seats == 2 and get_session(engine, session.id).remaining == 2
    assert "Book the held places" in labels(at) and "Confirm booking" not in labels(at)
    assert re.search(r"2 places held by you, for this caller</b> · (10|9) min left", texts(at))

    fill(at, session, contact_name="Fay Held", contact_email="fay@example.com")
    button(at, "Book the held places").click().run()
    assert re.search(r"Booked 2 places for Fay Held\. Reference: \*\*BK-", texts(at))
    assert holds.get_hold(engine, hold.id).status == "converted"
    seen = get_session(engine, session.id)
    assert (seen.current_bookings, seen.held, seen.remaining) == (2, 0, 2)
    assert [b.contact_name for b in booking.list_bookings(engine, session.id)] == ["Fay Held"]


def test_released_places_are_free_again_at_once(engine, make_session):
    session = make_session(2)
    at = fill(open_detail(session), session, seats=2)
    button(at, "Hold places (10 min)").click().run()
    assert get_session(engine, session.id).remaining == 0
    button(at, "Release the hold").click().run()
    assert "Released the 2 places you held." in texts(at)
    assert get_session(engine, session.id).remaining == 2 and holds.list_holds(engine, session.id) == []
    assert "Hold places (10 min)" in labels(at)


def test_while_colleagues_hold_every_place_left_booking_is_refused_with_the_reason(engine, make_session):
    session = make_session(2)
    holds.place_hold(engine, session.id, 2, actor=STAFF)
    at = fill(open_detail(session), session, contact_name="Gus Late", contact_email="gus@example.com")
    assert "Every place left is held for a caller" in texts(at)
    button(at, "Confirm booking").click().run()
    assert "no places left" in texts(at)
    assert booking.list_bookings(engine, session.id) == []


# --- the Schedule page: a capacity cut or a cancellation is previewed, then confirmed -----------


def open_schedule(session) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/4_Schedule.py"), default_timeout=TIMEOUT).run()
    at.selectbox(key=OK.EDIT_PICK).set_value(str(session.id))
    return at.run()


def test_lowering_capacity_first_shows_who_would_not_fit_and_moves_them_only_when_confirmed(engine, make_session):
    session = make_session(6)
    first = booking.book(engine, session.id, contact_name="Old Hand", contact_email="old@example.com", seats=3,
                         actor=STAFF)
    last = booking.book(engine, session.id, contact_name="New Comer", contact_email="new@example.com", seats=2,
                        actor=STAFF)
    other = make_session(12, days=2, location="Location B")
    at = open_schedule(session)
    at.number_input(key=OK.edit_field(session.id, "capacity")).set_value(3)
    at.button(key=OK.edit_field(session.id, "cap_save")).click().run()

    said = texts(at)
    assert "1 booking (2 places) would no longer fit" in said and f"{last.reference} · New Comer" in said
    assert first.reference not in said
    assert get_session(engine, session.id).max_capacity == 6  # nothing applied yet
    assert at.selectbox(key=f"ops_preview_move_{last.id}").value == str(other.id)  # the nearest, chosen

    at.button(key="ops_preview_confirm").click().run()
    assert f"Moved {last.reference}." in texts(at) and "now has 3 places" in texts(at)
    assert get_session(engine, session.id).max_capacity == 3
    assert booking.get_booking(engine, last.id).session_id == other.id
    assert booking.get_booking(engine, first.id).session_id == session.id


def test_cancelling_first_shows_everyone_affected_and_nothing_changes_until_confirmed(engine, make_session):
    session = make_session(2)
    stay = booking.book(engine, session.id, contact_name="Rae Rebook", contact_email="rae@example.com", actor=STAFF)
    go = booking.book(engine, session.id, contact_name="Mo Mover", contact_email="mo@example.com", actor=STAFF)
    waitlist.join_waitlist(engine, session.id, name="Ann Lee", email="ann@example.com", actor=STAFF)
    other = make_session(12, days=1)
    at = open_schedule(session)
    at.button(key=OK.CANCEL_SUBMIT).click().run()
    said = texts(at)
    assert "2 bookings (2 places)" in said and "1 on the waiting list" in said
    assert f"{stay.reference} · Rae Rebook" in said and f"{go.reference} · Mo Mover" in said
    assert get_session(engine, session.id).status == "scheduled"

    at.button(key="ops_preview_discard").click().run()  # changing one's mind changes nothing
    assert "Nothing was changed." in texts(at) and get_session(engine, session.id).status == "scheduled"

    at.button(key=OK.CANCEL_SUBMIT).click().run()
    at.selectbox(key=f"ops_preview_move_{go.id}").set_value(str(other.id)).run()
    at.button(key="ops_preview_confirm").click().run()
    assert get_session(engine, session.id).status == "cancelled"
    assert booking.get_booking(engine, go.id).session_id == other.id
    assert booking.get_booking(engine, go.id).status == "confirmed"
    assert booking.get_booking(engine, stay.id).status == "rebook"
    assert f"Moved {go.reference}." in texts(at) and "marked for rebooking" in texts(at)


def test_a_cancellation_whose_chosen_move_no_longer_fits_changes_nothing_and_says_which(engine, make_session):
    """The page calls one core function: when one chosen move cannot happen (its session
    filled after the preview), the session is not cancelled and no booking moved."""
    session = make_session(4)
    first = booking.book(engine, session.id, contact_name="Flo First", contact_email="flo@example.com", actor=STAFF)
    late = booking.book(engine, session.id, contact_name="Lee Late", contact_email="lee@example.com", seats=2,
                        actor=STAFF)
    roomy, tight = make_session(12, days=1), make_session(3, days=2, location="Location B")
    at = open_schedule(session)
    at.button(key=OK.CANCEL_SUBMIT).click().run()
    at.selectbox(key=f"ops_preview_move_{first.id}").set_value(str(roomy.id)).run()
    at.selectbox(key=f"ops_preview_move_{late.id}").set_value(str(tight.id)).run()
    booking.book(engine, tight.id, contact_name="Quick Caller", contact_email="quick@example.com", seats=2,
                 actor=STAFF)  # a colleague takes the places meanwhile
    at.button(key="ops_preview_confirm").click().run()

    said = seen(texts(at))
    assert f"{late.reference} Lee Late could not be moved to" in said and "Nothing was changed." in said
    assert get_session(engine, session.id).status == "scheduled"
    assert {b.session_id for b in booking.list_bookings(engine, session.id)} == {session.id}
    assert get_session(engine, roomy.id).current_bookings == 0


def test_a_session_that_overlaps_another_is_not_created_and_the_form_says_why(engine, make_session):
    there = make_session(12, days=3)
    at = AppTest.from_file(str(ROOT / "pages/4_Schedule.py"), default_timeout=TIMEOUT).run()
    at.selectbox(key=OK.ONE_COURSE).set_value("CPR and AED")
    at.date_input(key=OK.ONE_DATE).set_value(there.session_date)
    at.time_input(key=OK.ONE_START).set_value(there.start_time)
    at.time_input(key=OK.ONE_END).set_value(there.end_time)
    at.radio(key=OK.ONE_LOCATION).set_value(there.location)
    at.button(key=OK.ONE_SUBMIT).click().run()
    assert "overlaps" in seen(texts(at)) and "nothing was created" in seen(texts(at))
    assert len(find_sessions(engine, there.session_date, there.session_date)) == 1
