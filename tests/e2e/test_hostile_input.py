"""Hostile text in the real browser: names, companies, notes and even a course name that
look like HTML or script are shown as text on every page and never run.

The app runs (server.py, demo mode) on data made for this test; every page and the
printable register are opened in Chromium with a listener that fails on any dialog
(window.alert, confirm, prompt), in the page or any frame.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from core import booking, catalog, exports
from core.config import today
from core.db import forget_engine, get_engine, migrate
from core.sessions import create_session
from tests.actors import ADMIN, STAFF
from tests.e2e import pw
from tests.e2e.conftest import DESKTOP, ROOT, STARTUP_SECONDS, _free_port, _healthy, _stop

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
SVG = '"><svg onload=alert(1)>'
LINK = "[open me](javascript:alert(1))"
CODE = "</script>"  # a course's short code (12 characters at most)
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, browser):
    folder = tmp_path_factory.mktemp("hostile")
    url = f"duckdb:///{folder / 'app.duckdb'}"
    engine = get_engine(url)
    migrate(engine)
    catalog.save_course_type(engine, name=IMG, short_code=CODE, colour="#DB2777", actor=ADMIN)
    day = today() + dt.timedelta(days=3)
    hostile = create_session(engine, course_type=IMG, session_date=day, start_time="09:00", end_time="16:00",
                             location="Location A", instructor_notes=f"{SCRIPT} {SVG} {LINK}", actor=ADMIN)
    plain = create_session(engine, course_type="First Aid at Work", session_date=day, start_time="09:30",
                           end_time="16:30", location="Location B", instructor_notes=IMG, actor=ADMIN)
    made = booking.book(engine, hostile.id, contact_name=SVG, contact_email="x@example.com", company=IMG,
                        contact_phone="+44 7700 900123", seats=2, attendees=[SCRIPT, IMG], actor=STAFF)
    booking.book(engine, plain.id, contact_name=SCRIPT, contact_email="y@example.com", company=SVG, actor=STAFF)
    registers = exports.load_registers(engine, day=day)
    register_page = exports.register_html(registers)
    forget_engine(engine)

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=url, PYTHONUNBUFFERED="1")
    log = open(folder / "streamlit.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(base):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start: {(folder / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.1)  # polling a condition
        yield {"base": base, "day": day, "hostile": hostile, "plain": plain, "booking": made,
               "register": register_page}
    finally:
        _stop(process)
        log.close()


@pytest.fixture
def watched(browser):
    """A page whose dialogs (alert, confirm, prompt, in any frame) are recorded and dismissed."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    fired: list[str] = []

    def on_dialog(dialog):
        fired.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page, fired
    context.close()


def no_injected_elements(page) -> None:
    """No element made from the hostile text exists in the page or any of its frames."""
    for frame in page.frames:
        found = frame.evaluate("() => document.querySelectorAll('img[src=\"x\"], svg[onload], [onerror], [onload]').length")
        assert found == 0, f"injected elements in {frame.url}"


def settle(page, fired) -> None:
    pw.wait_settled(page)
    no_injected_elements(page)
    assert not fired, fired


def test_the_calendar_month_and_list_show_hostile_text_as_text(hostile_app, watched):
    page, fired = watched
    day = hostile_app["day"]
    pw.open_calendar(page, pw.url(hostile_app["base"], "/Calendar", **{"from": day, "to": day + dt.timedelta(days=6)}))
    expect(pw.event(page, CODE).first).to_be_visible()
    expect(page.get_by_text(f"{CODE}: {IMG}", exact=True).first).to_be_visible()  # the legend
    settle(page, fired)
    pw.switch_view(page, "List")
    expect(pw.calendar(page).locator(".fc-list-event-title", has_text=CODE).first).to_be_visible()
    settle(page, fired)


def test_the_session_detail_shows_hostile_notes_names_and_companies_as_text(hostile_app, watched):
    page, fired = watched
    day = hostile_app["day"]
    pw.open_page(page, pw.url(hostile_app["base"], "/Calendar", view="list", **{"from": day, "to": day}))
    card = page.locator(f".st-key-card_cal_{hostile_app['hostile'].id}")
    expect(card.get_by_text(IMG)).to_be_visible()  # the card's course name
    card.get_by_role("button").click()
    box = pw.dialog(page)
    expect(box.get_by_text(f"{IMG} ({CODE})")).to_be_visible()
    expect(box.get_by_text(SCRIPT, exact=False).first).to_be_visible()
    expect(box.get_by_text(SVG, exact=False).first).to_be_visible()
    box.get_by_role("tab", name="Bookings").click()
    expander = box.get_by_text(f"{hostile_app['booking'].reference} · {SVG}", exact=False)
    expect(expander).to_be_visible()
    expander.click()
    expect(box.get_by_text(IMG, exact=False).last).to_be_visible()  # the company
    expect(box.get_by_text(f"Attendees: {SCRIPT}, {IMG}", exact=False)).to_be_visible()
    settle(page, fired)


@pytest.mark.parametrize("path, shown", [
    ("/", None),                    # Home: the week's table (drawn on a canvas)
    ("/Book", IMG),                 # the bookable list's cards
    ("/Occupancy", None),
    ("/Schedule", None),
    ("/Exports", None),
    ("/Audit", None),
])
def test_every_page_draws_hostile_data_without_running_it(hostile_app, watched, path, shown):
    page, fired = watched
    day = hostile_app["day"]
    page.goto(pw.url(hostile_app["base"], path, **{"from": day, "to": day + dt.timedelta(days=6)}))
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    pw.wait_settled(page)
    if shown:
        expect(page.get_by_text(shown, exact=False).first).to_be_visible()
    page.locator("body").evaluate("b => b.innerText")  # everything drawn; nothing ran
    settle(page, fired)


def test_the_printable_register_shows_hostile_names_as_text(hostile_app, watched):
    page, fired = watched
    page.set_content(hostile_app["register"])
    for text in (SCRIPT, IMG, SVG):
        expect(page.get_by_text(text, exact=False).first).to_be_visible()
    no_injected_elements(page)
    assert page.evaluate("() => document.scripts.length") == 0
    assert not fired, fired
