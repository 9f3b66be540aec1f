"""The audit trail: every change with who, what, when and to what; before/after for edits;
filters by person, action, dates, session and booking; the page and its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from streamlit.testing.v1 import AppTest

from core import audit, booking, sessions
from core.access import Actor
from core.config import today
from core.passwords import hash_password
from tests.actors import ADMIN, STAFF
from tests.e2e.conftest import ROOT
from ui import auth

HOSTILE_NOTE = "=HYPERLINK(\"http://x\",\"y\")"


@pytest.fixture
def history(engine, new_session):
    """An admin makes two sessions and edits one; staff book and cancel."""
    first, second = new_session(), new_session(location="Location B")
    sessions.update_session(engine, first.id, instructor_notes=HOSTILE_NOTE, start_time="09:30", actor=ADMIN)
    made = booking.book(engine, first.id, contact_name="Ann Lee", contact_email="ann@example.com", actor=STAFF)
    other = booking.book(engine, second.id, contact_name="Bo Li", contact_email="bo@example.com",
                         actor=Actor("Kim on the phones", "staff"))
    booking.cancel(engine, made.id, actor=STAFF)
    return first, second, made, other


def test_every_change_is_listed_newest_first_with_who_and_what(engine, history):
    first, second, made, other = history
    entries = audit.audit_entries(engine)
    assert [e.action for e in entries[:4]] == ["booking.cancelled", "booking.created", "booking.created", "session.updated"]
    assert entries[0].actor == STAFF.name and entries[0].booking == made.reference
    assert entries[0].session.startswith("First Aid at Work, ") and entries[0].session.endswith("Location A")
    assert [e.version for e in entries] == sorted((e.version for e in entries), reverse=True)


def test_an_edit_shows_its_values_before_and_after(engine, history):
    first = history[0]
    edit = audit.audit_entries(engine, audit.AuditFilter(actions=("session.updated",)))[0]
    assert edit.actor == ADMIN.name and edit.session_id == first.id
    assert edit.before == {"instructor_notes": None, "start_time": "09:00:00"}
    assert edit.after == {"instructor_notes": HOSTILE_NOTE, "start_time": "09:30:00"}
    assert "start_time: 09:00:00 -> 09:30:00" in edit.changes_text


def test_filters_by_person_action_dates_session_and_booking(engine, history):
    first, second, made, other = history
    kim = audit.audit_entries(engine, audit.AuditFilter(actor="kim ON"))
    assert [(e.actor, e.action) for e in kim] == [("Kim on the phones", "booking.created")]
    on_second = audit.audit_entries(engine, audit.AuditFilter(session_id=str(second.id)))
    assert {e.action for e in on_second} == {"session.created", "booking.created"}
    by_ref = audit.audit_entries(engine, audit.AuditFilter(booking=made.reference.lower()))
    assert [e.action for e in by_ref] == ["booking.cancelled", "booking.created"]
    assert audit.audit_entries(engine, audit.AuditFilter(date_from=today(), date_to=today()))
    assert not audit.audit_entries(engine, audit.AuditFilter(date_to=today() - dt.timedelta(days=1)))
    assert not audit.audit_entries(engine, audit.AuditFilter(session_id="not-a-uuid"))
    assert not audit.audit_entries(engine, audit.AuditFilter(booking="BK-NOSUCH"))
    assert not audit.audit_entries(engine, audit.AuditFilter(actor="%"))  # a wildcard is a plain character
    assert set(audit.audit_actors(engine)) == {ADMIN.name, STAFF.name, "Kim on the phones"}


def test_the_csv_has_every_row_and_neutralises_formulas(engine, history):
    entries = audit.audit_entries(engine)
    rows = list(csv.reader(io.StringIO(audit.audit_csv(entries).decode("utf-8-sig"))))
    assert rows[0][:3] == ["When", "Who", "What"] and len(rows) == len(entries) + 1
    edit = next(r for r in rows if r[3] == "session.updated")
    assert HOSTILE_NOTE not in edit[7].split("-> ")[0]
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_the_audit_page_lists_filters_and_downloads_for_an_admin(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    from core.db import get_engine

    engine = get_engine(writable_demo_db_url)
    target = sessions.create_session(engine, course_type="CPR and AED", session_date=today() + dt.timedelta(days=20),
                                     start_time="09:30", end_time="12:30", location="Location B", actor=ADMIN)
    sessions.set_capacity(engine, target.id, 8, actor=ADMIN)
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.secrets["users"] = {"olu": {"name": "Olu Ade", "role": "admin",
                                   "password_hash": hash_password(
                                       "olu-admin-password", rounds=4)}}
    at.run()
    at.text_input(key=auth.SIGNIN_USER).input("olu")
    at.text_input(key=auth.SIGNIN_PASSWORD).input("olu-admin-password")
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    at.switch_page("pages/6_Audit.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 3 and list(table.columns[:3]) == ["When", "Who", "What"]
    at.sidebar.text_input(key="audit_session").input(str(target.id)).run()
    table = at.dataframe[0].value
    assert list(table["What"]) == ["Capacity changed", "Session created"]  # not the demo data
    assert table["Who"].tolist() == [ADMIN.name, ADMIN.name]
    assert table["Before → after"].iloc[0] == "12 -> 8"
