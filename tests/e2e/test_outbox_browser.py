"""The Outbox page in a real Chromium: a booking made on the calendar shows its
confirmation there (no mail server: kept), as the recipient would see it; a booking
marked "no e-mails" has none. Shares the session's app server (a demo database)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e import pw
from tests.e2e.test_browser import _future

pytestmark = pytest.mark.browser


def _book(page, app, target, *, name: str, email: str, no_emails: bool = False) -> str:
    pw.open_calendar(page, pw.url(app.url, "/Calendar", course="CPR", location=target.location[-1],
                                  **{"from": target.session_date, "to": target.session_date}))
    pw.event(page, pw.expected_title(target)).click()
    pw.fill_booking(page, name=name, email=email, seats=1)
    if no_emails:
        pw.dialog(page).get_by_text("No e-mails (a phone-only customer)").click()
    pw.confirm(page)
    expect(pw.dialog(page)).to_contain_text("Reference: BK-")
    return re.search(r"BK-[A-Z0-9]+", pw.dialog(page).inner_text()).group(0)


def _outbox(page, app, reference: str, expected: str, within: float = 30.0) -> None:
    """Open the Outbox filtered by `reference` until `expected` shows (the sender works after commit)."""
    deadline = time.monotonic() + within
    while True:
        page.goto(pw.url(app.url, "/Outbox"))
        expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
        box = page.get_by_label("Booking reference")
        box.fill(reference)
        box.press("Enter")
        try:
            expect(page.get_by_text(expected).first).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def test_a_booking_made_in_the_browser_shows_its_confirmation_in_the_outbox_and_no_emails_means_none(
        app_server, new_page):
    app = app_server
    target, second = _future(app, "CPR", at_least=2, after_days=30)[:2]
    page = new_page()
    reference = _book(page, app, target, name="Olive <b>Outbox</b>", email="olive@example.co.uk")
    _outbox(page, app, reference, "KEPT (NOT SENT)")
    expect(page.get_by_text("No mail server is set up (SMTP_URL)")).to_be_visible()
    title = page.get_by_text(re.compile(rf"Confirmation · .*olive@\u2060?example\.co\.uk.* · .*Booking confirmed"))
    expect(title).to_have_count(1)
    title.click()
    # the HTML as the recipient sees it: the name shown as typed, not as bold markup
    expect(page.get_by_text("Dear Olive <b>Outbox</b>,").first).to_be_visible()
    expect(page.locator("b", has_text="Outbox")).to_have_count(0)
    expect(page.get_by_text(f"reference {reference}").first).to_be_visible()
    expect(page.get_by_role("button", name="Send again")).to_be_visible()

    other = new_page()
    quiet = _book(other, app, second, name="Phil Phoneonly", email="phil@example.co.uk", no_emails=True)
    _outbox(other, app, quiet, "No e-mail matches.", within=5)
