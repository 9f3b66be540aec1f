"""Hostile names in every e-mail template and header: shown as typed, never markup, never a
second header. No database: the templates and the message builder alone."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import uuid

import pytest

from core.mail.messages import Claimed
from core.mail.render import TEMPLATES, header_text, render
from core.mail.smtp import build

SCRIPT = '<script>alert("x")</script>'
CRLF = "Eve\r\nBcc: victim@example.com\r\nX-Evil: 1"
LONG = "L" * 10_000
HOSTILE = (SCRIPT, CRLF, LONG, "<img src=x onerror=alert(1)>", "{{ 7*7 }}", "&amp; &lt;")
KINDS = sorted(p.stem for p in TEMPLATES.glob("*.html") if not p.name.startswith("_"))


def _session(value: str) -> dict:
    return dict(course=value, date=dt.date(2027, 3, 28), start=dt.time(9), end=dt.time(16, 30), location=value,
                address=value + "\n" + value, directions=value, joining=value, reminder_days=3)


def _context(value: str) -> dict:
    return dict(subject=value, name=value, reference=value, seats=2, session=_session(value),
                old_session=_session(value), attendees=[value, value], because_cancelled=True,
                alternatives=[dict(date=dt.date(2027, 4, 1), start=dt.time(9), end=dt.time(12), location=value)],
                reason=value, days_left=3, course=value, expires=dt.date(2028, 2, 29), number=value,
                sessions=[dict(date=dt.date(2028, 2, 1), start=dt.time(9), end=dt.time(12), location=value,
                               places_left=3)], for_someone_else=True)


def test_there_is_a_template_pair_for_every_kind_of_message():
    assert KINDS == ["cancelled", "confirmation", "moved", "promoted", "reminder", "requalify", "session_cancelled"]
    assert all((TEMPLATES / f"{k}.txt").is_file() for k in KINDS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", HOSTILE, ids=["script", "crlf", "10000", "img", "jinja", "entities"])
def test_hostile_text_in_every_template_is_shown_as_typed_and_never_as_markup(kind, value):
    text, html = render(kind, **_context(value))
    assert "<script" not in html and "<img" not in html
    if value in (SCRIPT, "<img src=x onerror=alert(1)>"):
        assert value.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in html
    if value == "{{ 7*7 }}":
        assert "49" not in text and "{{ 7*7 }}" in text  # a value is never a template
    if value == "&amp; &lt;":
        assert "&amp;amp; &amp;lt;" in html
    assert value.splitlines()[0] in text  # the plain text keeps it as typed


@pytest.mark.parametrize("value", HOSTILE, ids=["script", "crlf", "10000", "img", "jinja", "entities"])
def test_a_hostile_name_or_subject_never_makes_a_second_header(value):
    m = Claimed(id=uuid.uuid4(), recipient="ann@example.co.uk", name=value, subject=value, text_body=value,
                html_body="<p>x</p>", ics=None, message_id="<abc@localhost>", attempts=0,
                created_at=dt.datetime(2027, 1, 1))
    raw = build(m, "Course bookings <bookings@localhost>", dt.datetime(2027, 1, 1)).as_bytes()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_all("Bcc") is None and parsed.get_all("X-Evil") is None
    assert len(parsed.get_all("To")) == 1 and len(parsed.get_all("Subject")) == 1
    assert parsed["To"].addresses[0].addr_spec == "ann@example.co.uk"
    assert "\n" not in str(parsed["Subject"]).replace("\n ", "")


def test_header_text_turns_line_breaks_into_spaces_and_cuts_long_values():
    assert header_text("a\r\nb\nc\u2028d") == "a b c d"
    assert len(header_text("x" * 10_000)) == 200
