"""The booking form catches the core's errors by type: the database away says so in the
core's words, and a bug is shown as a bug, never as 'the database could not be reached'."""

from __future__ import annotations

from core import errors
from tests.e2e.seen import seen
from tests.e2e.test_pages import _fill, _form, _submit, bookable  # noqa: F401  (bookable is a fixture)


def _filled(session):
    return _fill(_form(session), session, contact_name="Dana Scully", contact_email="dana@example.co.uk")


def test_a_booking_while_the_database_is_away_says_so_and_saves_nothing(bookable, monkeypatch):  # noqa: F811
    def away(*args, **kwargs):
        raise errors.DatabaseUnavailable("postgresql+psycopg://db", "connection refused")

    at = _filled(bookable)
    monkeypatch.setattr("core.booking.book", away)
    _submit(at)
    shown = " ".join(seen(e.value) for e in at.error)
    assert "Cannot reach the database" in shown and "connection refused" in shown
    assert not at.exception and not any("Reference" in s.value for s in at.success)


def test_a_bug_in_a_booking_is_shown_as_a_bug_not_as_an_unreachable_database(bookable, monkeypatch):  # noqa: F811
    def broken(*args, **kwargs):
        raise KeyError("seats")

    at = _filled(bookable)
    monkeypatch.setattr("core.booking.book", broken)
    _submit(at)
    assert any("KeyError" in str(e.value) or "seats" in str(e.value) for e in at.exception)
    assert not any("could not be reached" in seen(e.value) or "Cannot reach" in seen(e.value) for e in at.error)
