"""Who may do what is enforced in the core: a page that forgets a check still cannot write."""

from __future__ import annotations

import pytest

from core import booking, catalog, errors, holds, sessions, waitlist
from core.access import Actor
from tests.actors import ADMIN, STAFF, VIEWER
from tests.conftest import count_rows

PERSON = dict(contact_name="Ann Lee", contact_email="ann@example.com")


@pytest.mark.parametrize("who", [None, "Sam", VIEWER], ids=["nobody", "a bare name", "a viewer"])
def test_booking_needs_a_signed_in_member_of_staff(engine, new_session, who):
    session = new_session()
    with pytest.raises(errors.NotPermitted) as caught:
        booking.book(engine, session.id, **PERSON, actor=who)
    assert "Sign in" in str(caught.value) or "needs a staff account" in str(caught.value)
    assert count_rows(engine, "bookings") == 0


def test_staff_book_cancel_move_hold_and_keep_waiting_lists(engine, new_session):
    here, there = new_session(max_capacity=2), new_session(location="Location B")
    made = booking.book(engine, here.id, **PERSON, seats=2, actor=STAFF)
    assert made.created_by == STAFF.name
    waitlist.join_waitlist(engine, here.id, name="Tom Clarke", email="tom@example.com", actor=STAFF)
    hold = holds.place_hold(engine, there.id, 1, actor=STAFF)
    assert hold.held_by == STAFF.name
    booking.move(engine, made.id, there.id, actor=STAFF)
    booking.cancel(engine, made.id, actor=STAFF)


@pytest.mark.parametrize("change", [
    lambda e, s: sessions.set_capacity(e, s.id, 6, actor=STAFF),
    lambda e, s: sessions.cancel_session(e, s.id, actor=STAFF),
    lambda e, s: sessions.update_session(e, s.id, instructor_notes="x", actor=STAFF),
    lambda e, s: sessions.create_session(e, course_type="CPR and AED", session_date=s.session_date,
                                         start_time="09:30", end_time="12:30", location="Location A", actor=STAFF),
    lambda e, s: catalog.save_course_type(e, name="Mental Health First Aid", short_code="MHFA", colour="#DB2777",
                                          actor=STAFF),
], ids=["capacity", "cancel session", "edit", "create", "catalogue"])
def test_only_admins_change_the_schedule(engine, new_session, change):
    session = new_session()
    with pytest.raises(errors.NotPermitted, match="needs an admin account"):
        change(engine, session)
    assert sessions.get_session(engine, session.id) == session


def test_an_admin_may_do_everything_staff_may(engine, new_session):
    made = booking.book(engine, new_session().id, **PERSON, actor=ADMIN)
    assert made.created_by == ADMIN.name


def test_an_actor_needs_a_known_role_and_a_name():
    with pytest.raises(ValueError):
        Actor("Sam", "superuser")
    with pytest.raises(ValueError):
        Actor("  ", "staff")
