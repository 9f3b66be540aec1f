"""The requalification reminder e-mail (issues 16 and 18): the event the due-finder records
becomes one message, to the holder, with the next sessions with places; over a real SMTP
server (aiosmtpd in this process), on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from core import requalification
from core.mail import messages, sender
from core.outbox import register
from tests.integration.test_certificates import SiteClock, _certified, _session
from tests.smtp_server import SmtpHarness

pytestmark = pytest.mark.timeout(120)


def test_a_requalification_reminder_arrives_once_with_the_next_sessions(engine, monkeypatch):
    register(engine, messages.CONSUMER, "beginning")
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    cert = _certified(engine, clock, dt.date(2027, 1, 20), name="Ana <b>Jones</b>", course="CPR and AED")
    clock.set(dt.datetime(2027, 10, 1, 9))
    _session(engine, dt.date(2028, 1, 10), course="CPR and AED", location="Location B")
    clock.set(dt.datetime(2027, 10, 22, 9))
    assert len(requalification.find_due_reminders(engine)) == 1
    with SmtpHarness() as (inbox, server):
        sender.run_once(engine, start="beginning", smtp=server, reminders=False)
        assert len(requalification.find_due_reminders(engine)) == 0
        sender.run_once(engine, start="beginning", smtp=server, reminders=False)
        mails = [r for r in inbox.messages() if r.recipients == ["ana@acme.example"]]
        assert not [r for r in inbox.messages() if "Time to requalify" in str(r.message["Subject"])
                    and r.recipients != ["ana@acme.example"]]
    assert len(mails) == 1
    message = mails[0].message
    assert " ".join(str(message["Subject"]).split()) == "Time to requalify: your CPR and AED certificate expires Thu 20 Jan 2028"
    text = message.get_body(("plain",)).get_content()
    assert f"({cert.number}) expires on Thursday 20 January 2028, in 90 days" in text
    assert "Monday 10 January 2028, 09:00 to 16:30, Location B (12 places left)" in text
    assert text.replace("\r\n", "\n").rstrip().endswith(
        f"Kind regards,\nThe bookings team\n\nYour certificate number is {cert.number}.")
    html = message.get_body(("html",)).get_content()
    assert "Ana &lt;b&gt;Jones&lt;/b&gt;" in html and "<b>Jones" not in html


def test_a_holder_without_an_email_is_reminded_through_the_contact_who_booked_them(engine, monkeypatch):
    register(engine, messages.CONSUMER, "beginning")
    clock = SiteClock(monkeypatch, dt.datetime(2027, 1, 1, 9))
    _certified(engine, clock, dt.date(2027, 1, 20), name="Ben Lee", email=None, course="CPR and AED")
    clock.set(dt.datetime(2027, 12, 21, 9))
    assert [r.threshold_days for r in requalification.find_due_reminders(engine)] == [30]
    with SmtpHarness() as (inbox, server):
        sender.run_once(engine, start="beginning", smtp=server, reminders=False)
        [mail] = [r for r in inbox.messages() if r.recipients == ["office@acme.example"]
                  and "Time to requalify" in str(r.message["Subject"])]
    text = mail.message.get_body(("plain",)).get_content()
    assert "Dear Ben Lee," in text
    assert "as the contact who booked Ben Lee's course: their CPR and AED certificate" in text
    assert "in 30 days" in text and "The next sessions with places" not in text
