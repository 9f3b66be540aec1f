"""The Outbox page run by AppTest: who may open it, what staff and admins see, and the
admins' editing of what the e-mails say (sites, courses), read back in the next e-mail."""

from __future__ import annotations

import datetime as dt

from core import booking
from core.availability import find_sessions
from core.config import today
from core.db import get_engine
from core.mail import details, messages, sender
from tests.actors import STAFF
from tests.e2e.seen import seen
from tests.e2e.test_auth import app, sign_in, texts
from ui import outbox_keys as K

PAGE = "pages/8_Outbox.py"


def _book(url: str, name: str):
    engine = get_engine(url)
    session = next(s for s in find_sessions(engine, today() + dt.timedelta(days=20), today() + dt.timedelta(days=60))
                   if s.state == "available" and s.location == "Location A")
    made = booking.book(engine, session.id, contact_name=name, contact_email="tess@example.co.uk", actor=STAFF)
    return engine, made


def test_the_outbox_is_for_staff_and_admins_and_shows_a_bookings_confirmation_with_resend(
        writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    at = sign_in(app(PAGE).run(), "mo")
    assert "Mo Khan is signed in as viewer; this page needs a staff account" in texts(at)
    sender.run_once(get_engine(writable_demo_db_url), smtp=None)  # the consumer starts here ("now")
    engine, made = _book(writable_demo_db_url, "Tess Tester")
    sender.run_once(engine, smtp=None)
    at = sign_in(app(PAGE).run(), "sam")
    at.sidebar.text_input(key=K.REFERENCE).input(made.reference).run()
    assert not at.exception
    assert "No mail server is set up (SMTP_URL)" in texts(at)
    assert [e.label for e in at.expander if "Confirmation" in e.label and made.reference in seen(e.label)]
    assert not at.tabs or "What the e-mails say" not in [t.label for t in at.tabs]  # staff: no editing
    kept = messages.list_messages(engine, reference=made.reference)[0]
    at.button(key=K.resend(kept.id)).click().run()
    assert f"Queued again for {kept.recipient}." in texts(at)
    assert messages.get_message(engine, kept.id).status == "queued"


def test_an_admin_sets_a_sites_address_and_a_courses_joining_instructions_and_the_next_email_says_them(
        writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    at = sign_in(app(PAGE).run(), "olu")
    assert "What the e-mails say" in [t.label for t in at.tabs]
    at.text_area(key=K.site_field("Location A", "address")).input("1 Station Road\nReading RG1 1AA")
    at.text_area(key=K.site_field("Location A", "directions")).input("Free parking at the back.")
    at.button(key=K.site_field("Location A", "save")).click().run()
    assert "Saved the address and directions of Location A." in texts(at)
    at.selectbox(key=K.COURSE_PICK).select("First Aid at Work").run()
    at.text_area(key=K.course_field("First Aid at Work", "joining")).input("Bring photo ID and a packed lunch.")
    at.number_input(key=K.course_field("First Aid at Work", "days")).set_value(5)
    at.button(key=K.course_field("First Aid at Work", "save")).click().run()
    assert "Saved what the e-mails say about First Aid at Work." in texts(at)
    engine = get_engine(writable_demo_db_url)
    assert details.list_sites(engine)[0].address == "1 Station Road\nReading RG1 1AA"
    saved = next(c for c in details.list_course_mail(engine) if c.name == "First Aid at Work")
    assert (saved.joining_instructions, saved.reminder_days) == ("Bring photo ID and a packed lunch.", 5)
    sender.run_once(engine, smtp=None)
    _engine, made = _book(writable_demo_db_url, "Ida Instructions")
    sender.run_once(engine, smtp=None)
    body = messages.get_message(engine, messages.list_messages(engine, reference=made.reference)[0].id).text_body
    assert "1 Station Road" in body and "Free parking at the back." in body


def test_a_failed_delivery_shows_on_the_booking_in_the_sessions_bookings_list(writable_demo_db_url, use_database):
    from streamlit.testing.v1 import AppTest

    from tests.smtp_server import SmtpHarness

    use_database(writable_demo_db_url)
    engine = get_engine(writable_demo_db_url)
    sender.run_once(engine, smtp=None)  # the consumer starts here ("now")
    _engine, made = _book(writable_demo_db_url, "Gary Gone")
    with SmtpHarness() as (inbox, server):
        async def refuse(server_, session, envelope, address, options):
            return "550 5.1.1 No such mailbox"
        inbox.handle_RCPT = refuse
        assert sender.run_once(engine, smtp=server).failed == 1
    script = f"""
from ui import data, live
from ui.auth import require_role
from ui.bookings_list import bookings_list
require_role("staff")
status = live.poll()
bookings_list(data.session({str(made.session_id)!r}, status.version), status.version)
"""
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception
    shown = [seen(w.value) for w in at.warning]
    assert any("E-mail to tess@example.co.uk not delivered: the server refused tess@example.co.uk: 550 5.1.1 "
               "No such mailbox. See the Outbox page." in w for w in shown), shown


def test_the_outbox_warns_when_a_change_could_not_be_turned_into_emails(writable_demo_db_url, use_database,
                                                                         monkeypatch):
    use_database(writable_demo_db_url)
    engine = get_engine(writable_demo_db_url)
    sender.run_once(engine, smtp=None)  # the consumer starts here ("now")

    def broken(conn, change):
        raise RuntimeError("a template is missing")

    monkeypatch.setitem(messages.BUILDERS, "booking.created", broken)
    _book(writable_demo_db_url, "Bea Broken")
    sender.run_once(engine, smtp=None)
    at = sign_in(app(PAGE).run(), "sam")
    assert "1 change could not be turned into e-mails yet (retrying), 0 given up on: see the log of the app." in texts(at)
