"""Booking e-mails (core/mail): from the events to a real SMTP server (aiosmtpd in this
process), on DuckDB and PostgreSQL. Each kind of message arrives once, to the right
person, with the right subject and body; the .ics is read with icalendar."""

from __future__ import annotations

import datetime as dt
import uuid

import icalendar
import pytest
import sqlalchemy as sa

from core import booking, clock, config, sessions, waitlist
from core.mail import details, messages, sender
from core.mail.messages import Draft
from core.mail.reminders import queue_reminders
from core.models import Attendee
from core.outbox import register
from tests.actors import ADMIN, STAFF
from tests.smtp_server import SmtpHarness

pytestmark = pytest.mark.timeout(120)
LONDON = "Europe/London"


@pytest.fixture
def mail_engine(engine):
    register(engine, messages.CONSUMER, "beginning")
    return engine


@pytest.fixture
def smtp():
    with SmtpHarness() as (inbox, server):
        yield inbox, server


def _send(engine, server, **more) -> sender.Report:
    return sender.run_once(engine, start="beginning", smtp=server, **more)


def _book(engine, session, name="Ann Archer", email="ann@example.co.uk", **more):
    return booking.book(engine, session.id, contact_name=name, contact_email=email, actor=STAFF, **more)


def _text(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def _html(received) -> str:
    return received.message.get_body(("html",)).get_content()


def _ics(received) -> icalendar.Calendar:
    parts = [p for p in received.message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in received.message.iter_attachments()]
    return icalendar.Calendar.from_ical(parts[0].get_content())


def _subject(received) -> str:
    return " ".join(str(received.message["Subject"]).split())


def test_a_booking_confirmation_arrives_once_to_the_contact_with_the_course_the_address_and_what_to_bring(
        mail_engine, new_session, smtp):
    inbox, server = smtp
    details.save_site(mail_engine, "Location A", address="12 High Street\nReading RG1 1AA",
                      directions="Parking behind the building.", actor=ADMIN)
    details.save_course_mail(mail_engine, "First Aid at Work", joining_instructions="Comfortable clothes and photo ID.",
                             reminder_days=3, actor=ADMIN)
    s = new_session()
    made = _book(mail_engine, s, seats=2)
    _send(mail_engine, server)
    _send(mail_engine, server)  # a second pass sends nothing again
    got = inbox.wait_for(1)
    assert len(got) == 1
    mail = got[0]
    assert mail.recipients == ["ann@example.co.uk"]
    assert _subject(mail) == f"Booking confirmed: First Aid at Work, {s.session_date:%a} {s.session_date.day} " \
                             f"{s.session_date:%b %Y}, Location A ({made.reference})"
    body = _text(mail)
    assert "Dear Ann Archer," in body and made.reference in body and "2 places" in body
    assert f"{s.session_date:%A} {s.session_date.day} {s.session_date:%B %Y}" in body  # en-GB date
    assert "09:00 to 16:30" in body and "12 High Street" in body and "Reading RG1 1AA" in body
    assert "Parking behind the building." in body and "Comfortable clothes and photo ID." in body
    assert "Comfortable clothes and photo ID." in _html(mail)
    assert mail.message_id.startswith("<") and mail.message_id.endswith("@localhost>")


def test_the_ics_attachment_parses_with_icalendar_and_has_the_session_times_in_europe_london(
        mail_engine, new_session, smtp):
    inbox, server = smtp
    # a summer date and a winter date: the offsets differ, the wall-clock times do not
    for day in (dt.date(2031, 7, 8), dt.date(2031, 12, 9)):
        s = new_session(session_date=day, start_time="09:30", end_time="16:00", location="Location B")
        _book(mail_engine, s, email=f"ics{day.month}@example.co.uk")
    _send(mail_engine, server)
    got = sorted(inbox.wait_for(2), key=lambda r: r.recipients)
    for received, day, offset in zip(got, (dt.date(2031, 12, 9), dt.date(2031, 7, 8)), (0, 1)):
        cal = _ics(received)
        events = list(cal.walk("VEVENT"))
        assert len(events) == 1
        start, end = events[0].decoded("dtstart"), events[0].decoded("dtend")
        assert str(start.tzinfo) == LONDON and start.replace(tzinfo=None) == dt.datetime.combine(day, dt.time(9, 30))
        assert end.replace(tzinfo=None) == dt.datetime.combine(day, dt.time(16, 0))
        assert start.utcoffset() == dt.timedelta(hours=offset)
        assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == [LONDON]
        assert "Location B" in str(events[0]["location"])


def test_cancelled_moved_promoted_and_session_cancelled_each_arrive_once_with_their_own_words(
        mail_engine, new_session, smtp, future_day):
    inbox, server = smtp
    first = new_session(max_capacity=1)
    other = new_session(session_date=future_day + dt.timedelta(days=7), location="Location B")
    kept = _book(mail_engine, first, name="Kim Keeper", email="kim@example.co.uk")
    waitlist.join_waitlist(mail_engine, first.id, name="Wes Waiting", email="wes@example.co.uk", actor=STAFF)
    booking.cancel(mail_engine, kept.id, actor=STAFF)             # cancelled to Kim, promoted to Wes
    mover = _book(mail_engine, other, name="Mo Mover", email="mo@example.co.uk")
    third = new_session(session_date=future_day + dt.timedelta(days=2), location="Location B")
    booking.move(mail_engine, mover.id, third.id, actor=STAFF)    # moved to Mo
    sessions.cancel_session(mail_engine, first.id, actor=ADMIN, reason="The trainer is ill")  # Wes again
    _send(mail_engine, server)
    got = inbox.wait_for(6)
    subjects = {(r.recipients[0], _subject(r).split(":")[0]) for r in got}
    assert sorted(subjects) == sorted({
        ("kim@example.co.uk", "Booking confirmed"), ("kim@example.co.uk", "Booking cancelled"),
        ("wes@example.co.uk", "You now have places"), ("wes@example.co.uk", "Session cancelled"),
        ("mo@example.co.uk", "Booking confirmed"), ("mo@example.co.uk", "Booking moved"),
    })
    assert len(got) == 6
    by = {(r.recipients[0], _subject(r).split(":")[0]): r for r in got}
    assert "you now have 1 place on this course" in _text(by["wes@example.co.uk", "You now have places"])
    moved = _text(by["mo@example.co.uk", "Booking moved"])
    assert "Your new session" in moved and "previous session" in moved
    assert moved.index("Location B") < moved.index("No longer")
    moved_ics = list(_ics(by["mo@example.co.uk", "Booking moved"]).walk("VEVENT"))[0]
    assert moved_ics.decoded("dtstart").date() == third.session_date
    sorry = _text(by["wes@example.co.uk", "Session cancelled"])
    assert "We are sorry" in sorry and "The trainer is ill" in sorry and "To rebook" in sorry
    assert "Sessions of the same course with room for you" in sorry  # `other` and `third` have room
    cancel_ics = list(_ics(by["kim@example.co.uk", "Booking cancelled"]).walk("VEVENT"))[0]
    assert str(cancel_ics["status"]) == "CANCELLED"
    # in order per recipient: Kim's confirmation before her cancellation
    kim = [_subject(r).split(":")[0] for r in inbox.to("kim@example.co.uk")]
    assert kim == ["Booking confirmed", "Booking cancelled"]


def test_a_booking_marked_no_emails_gets_none_and_attendees_get_theirs_when_the_booking_says_so(
        mail_engine, new_session, smtp):
    inbox, server = smtp
    s = new_session()
    _book(mail_engine, s, name="Pat Phone", email="pat@example.co.uk", emails="none")
    _book(mail_engine, s, name="Gail Group", email="gail@example.co.uk", seats=2, emails="attendees",
          attendees=[Attendee("Ian Inlist", "ian@example.co.uk"), Attendee("Nan Noemail")])
    _send(mail_engine, server)
    got = inbox.wait_for(2)
    assert sorted(r.recipients[0] for r in got) == ["gail@example.co.uk", "ian@example.co.uk"]
    assert "Dear Ian Inlist," in _text(inbox.to("ian@example.co.uk")[0])
    assert all(r.recipients[0] != "pat@example.co.uk" for r in inbox.messages())


def test_without_an_smtp_server_messages_are_kept_for_the_outbox_page_with_their_reference(
        mail_engine, new_session):
    s = new_session()
    made = _book(mail_engine, s)
    report = sender.run_once(mail_engine, start="beginning", smtp=None)
    assert report.kept == 1 and report.sent == 0
    shown = messages.list_messages(mail_engine, reference=made.reference.lower())
    assert [(m.status, m.kind, m.recipient) for m in shown] == [("kept", "confirmation", "ann@example.co.uk")]
    full = messages.get_message(mail_engine, shown[0].id)
    assert made.reference in full.text_body and made.reference in full.html_body
    assert messages.deliveries(mail_engine, [made.id])[made.id].kept == 1


def test_a_refusing_server_then_an_accepting_one_delivers_each_message_once_in_order_with_attempts_counted(
        mail_engine, new_session):
    s = new_session()
    start = config.utc_now()
    with clock.using(clock.ManualClock(start)) as c, SmtpHarness(refuse=2) as (inbox, server):
        first = _book(mail_engine, s, name="Ora Order", email="ora@example.co.uk")
        booking.cancel(mail_engine, first.id, actor=STAFF)
        report = _send(mail_engine, server, backoff_first=30)
        assert report.retrying == 1 and report.sent == 0 and inbox.messages() == []
        assert _send(mail_engine, server).sent == 0  # not due yet: nothing is tried
        c.advance(seconds=31)
        assert _send(mail_engine, server).retrying == 1  # refused again (the second 451)
        c.advance(seconds=61)
        _send(mail_engine, server)
        _send(mail_engine, server)
        got = inbox.wait_for(2)
        assert [_subject(r).split(":")[0] for r in got] == ["Booking confirmed", "Booking cancelled"]
        shown = {m.kind: m for m in messages.list_messages(mail_engine)}
        assert shown["confirmation"].attempts == 3 and shown["confirmation"].status == "sent"
        assert shown["cancelled"].attempts == 1 and shown["cancelled"].status == "sent"


def test_an_invalid_address_fails_that_one_message_with_a_clear_reason_and_the_others_go(mail_engine, smtp):
    inbox, server = smtp
    from core.db import write

    drafts = [Draft(recipient=r, name="X", kind="test", subject="Hello", text_body="t", html_body="<p>h</p>")
              for r in ("bad address@example.co.uk", "good@example.co.uk", "x@example.co.uk\r\nBcc: y@evil.example")]
    write(mail_engine, lambda conn: messages.queue(conn, "test:1", drafts))
    report = _send(mail_engine, server)
    assert report.sent == 1 and report.failed == 2
    assert [r.recipients for r in inbox.wait_for(1)] == [["good@example.co.uk"]]
    failed = messages.list_messages(mail_engine, statuses=("failed",))
    assert sorted(m.last_error for m in failed) == sorted([
        "'bad address@example.co.uk' is not a valid e-mail address",
        "'x@example.co.uk bcc: y@evil.example' is not a valid e-mail address"])


def test_a_server_refusing_a_recipient_for_good_fails_that_message_and_shows_it_on_the_booking(
        mail_engine, new_session):
    class Refusing(SmtpHarness):
        pass

    s = new_session()
    made = _book(mail_engine, s, email="gone@example.co.uk")
    with Refusing() as (inbox, server):
        async def refuse(server_, session, envelope, address, options):
            return "550 5.1.1 No such mailbox"
        inbox.handle_RCPT = refuse
        report = _send(mail_engine, server)
    assert report.failed == 1
    delivery = messages.deliveries(mail_engine, [made.id])[made.id]
    assert delivery.failed == (("gone@example.co.uk", "the server refused gone@example.co.uk: 550 5.1.1 No such mailbox"),)


def test_handling_an_event_twice_queues_its_messages_once(mail_engine, new_session):
    from core import changes
    from core.db import write

    _book(mail_engine, new_session())
    event = next(c for c in changes.changes_since(mail_engine).changes if c.action == "booking.created")
    for _ in range(2):
        write(mail_engine, lambda conn: messages.handle_event(conn, event))
    assert len(messages.list_messages(mail_engine)) == 1


def test_a_reminder_goes_the_courses_reminder_days_before_once_with_the_joining_instructions(
        mail_engine, new_session, future_day, smtp):
    inbox, server = smtp
    details.save_course_mail(mail_engine, "First Aid at Work", joining_instructions="Bring a pen.",
                             reminder_days=3, actor=ADMIN)
    s = new_session()
    made = _book(mail_engine, s)
    _send(mail_engine, server)  # the confirmation
    assert queue_reminders(mail_engine, on=future_day - dt.timedelta(days=4)) == 0
    assert queue_reminders(mail_engine, on=future_day - dt.timedelta(days=3)) == 1
    assert queue_reminders(mail_engine, on=future_day - dt.timedelta(days=2)) == 0  # once
    _send(mail_engine, server)
    reminder = inbox.wait_for(2)[1]
    assert _subject(reminder).startswith("Reminder: First Aid at Work")
    body = _text(reminder)
    assert "your course is in 3 days" in body and "Bring a pen." in body and made.reference in body


def test_a_booking_made_inside_the_reminder_window_gets_no_reminder(mail_engine, new_session, future_day):
    s = new_session()
    start = dt.datetime.combine(future_day - dt.timedelta(days=1), dt.time(12))
    with clock.using(clock.ManualClock(start)):
        _book(mail_engine, s)
        assert queue_reminders(mail_engine, on=future_day - dt.timedelta(days=1)) == 0


def test_resending_a_message_queues_it_again_with_a_new_message_id(mail_engine, new_session, smtp):
    inbox, server = smtp
    _book(mail_engine, new_session())
    _send(mail_engine, server)
    first = messages.list_messages(mail_engine)[0]
    again = messages.resend(mail_engine, first.id, actor=STAFF)
    assert again.status == "queued" and again.message_id != first.message_id
    _send(mail_engine, server)
    got = inbox.wait_for(2)
    assert [r.message_id for r in got] == [first.message_id, again.message_id]


def test_the_send_mail_command_sends_what_is_due_and_says_how_many(mail_engine, new_session, monkeypatch, capsys):
    from core.__main__ import main

    _book(mail_engine, new_session())
    with SmtpHarness() as (inbox, _server):
        monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{_server.port}")
        config.get_settings.cache_clear()
        assert main(["--database-url", mail_engine.url.render_as_string(hide_password=False), "send-mail"]) == 0
        assert len(inbox.wait_for(1)) == 1
    assert "1 sent" in capsys.readouterr().out


def test_the_sender_thread_of_an_app_process_sends_a_new_bookings_confirmation_by_itself(
        mail_engine, new_session, smtp):
    inbox, server = smtp
    sender.start_sender(mail_engine, every=5, smtp=server, start="beginning")
    thread = sender._senders[mail_engine][0]
    try:
        made = _book(mail_engine, new_session())
        got = inbox.wait_for(1, timeout=20)  # the commit wakes the thread: no 5 s pass needed
    finally:
        sender.stop_sender(mail_engine)
    assert [(r.recipients, made.reference in _subject(r)) for r in got] == [(["ann@example.co.uk"], True)]
    assert not thread.is_alive()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_sender_logs_in_with_the_user_and_password_of_smtp_url(mail_engine, new_session):
    _book(mail_engine, new_session())
    with SmtpHarness(login=("bookings", "s3cret:/@x")) as (inbox, _server):
        # the password as written in a URL: its ':', '/' and '@' percent-encoded
        right = config.smtp_server(f"smtp://bookings:s3cret%3A%2F%40x@127.0.0.1:{_server.port}")
        assert _send(mail_engine, right).sent == 1
        assert len(inbox.wait_for(1)) == 1
