"""Hostile text in the real browser: names, companies, notes and even a course name that
look like HTML, script, markdown, LaTeX or links are shown as typed on every page and never
run, format or link; a right-to-left override stored in a name reverses nothing after it.

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
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core import booking, catalog, exports, holds, waitlist
from core.access import Actor
from core.config import today
from core.db import forget_engine, get_engine, migrate
from core.sessions import create_session
from tests.actors import ADMIN, STAFF
from tests.e2e import pw
from tests.e2e.conftest import DESKTOP, PHONE, ROOT, STARTUP_SECONDS, _free_port, _healthy, _stop
from tests.e2e.seen import seen

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
SVG = '"><svg onload=alert(1)>'
LINK = "[open me](javascript:alert(1))"
CODE = "</script>"  # a course's short code (12 characters at most)
# Markdown, LaTeX and links: each must show as typed, as no formatting and no link.
MD_COURSE = "**Bold course** $\\LaTeX$ [Log in](https://evil.example)"
MD_CODE = "**MD**"
MD_NOTES = "[x](javascript:alert(1)) https://evil.example _italic note_ $x^2$"
MD_NAME = "**Bold contact** [Log in](https://evil.example)"
MD_COMPANY = "www.evil.example _Acme_"
MD_ATTENDEE = "$\\LaTeX$ attendee"
MD_WAITING = "**Waiting** [x](javascript:alert(1))"
MD_HOLD_NOTE = "**hold note** https://evil.example"
MD_ACTOR = Actor("**Bold actor** $y$", "staff")
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: refused on input now, but rows from before may hold it
RLO_COMPANY = f"{MD_COMPANY} {RLO}Ltd"
# Every filter the pages read from the link, each with a payload.
HOSTILE_QUERY = {"course": "[Log in](https://evil.example)", "location": "**bold**", "status": "$\\LaTeX$",
                 "from": "https://evil.example", "to": f"{RLO}2026", "cancelled": "[x](javascript:alert(1))",
                 "view": "_italic_"}
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
    catalog.save_course_type(engine, name=MD_COURSE, short_code=MD_CODE, colour="#2563EB", actor=ADMIN)
    marked = create_session(engine, course_type=MD_COURSE, session_date=day, start_time="10:00", end_time="15:00",
                            location="Location B", max_capacity=3, instructor_notes=MD_NOTES, actor=ADMIN)
    md_booking = booking.book(engine, marked.id, contact_name=MD_NAME, contact_email="md@example.com",
                              company=MD_COMPANY, seats=2, attendees=[MD_ATTENDEE], actor=MD_ACTOR)
    holds.place_hold(engine, marked.id, 1, actor=MD_ACTOR, note=MD_HOLD_NOTE, minutes=120)
    waitlist.join_waitlist(engine, marked.id, name=MD_WAITING, email="wait@example.com", company=MD_COMPANY,
                           actor=MD_ACTOR)
    with engine.begin() as conn:  # as rows written before the bidi controls were refused would hold them
        conn.execute(sa.text("UPDATE bookings SET company = :c WHERE id = :i"), {"c": RLO_COMPANY, "i": md_booking.id})
        conn.execute(sa.text("UPDATE waitlist_entries SET company = :c"), {"c": RLO_COMPANY})
        conn.execute(sa.text("UPDATE holds SET note = :c"), {"c": f"{MD_HOLD_NOTE} {RLO}x"})
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
               "marked": marked, "md_booking": md_booking, "register": register_page}
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
    """No element made from the hostile text exists in the page or any of its frames: no
    image or script handler, no link to the hostile sites, no formula."""
    for frame in page.frames:
        found = frame.evaluate("() => [...document.querySelectorAll('img[src=\"x\"], svg[onload], [onerror], [onload], "
                               "a[href*=\"evil.example\"], a[href^=\"javascript:\" i], a[href^=\"mailto:\" i], "
                               ".katex, math')].map(e => e.outerHTML.slice(0, 120))")
        assert found == [], f"injected elements in {frame.url}: {found}"


# What a person reads: the text with the invisible isolates and joiners left out, spaces collapsed.
_READ = "t => t.replace(/[\\u2060\\u2068\\u2069]/g, '').replace(/\\s+/g, ' ')"


def shows(page, text: str, within: str = "body") -> None:
    """`text` can be read, character for character, in the first `within` element (waits for it)."""
    page.wait_for_function(f"([sel, want]) => {{ const read = {_READ}; const el = document.querySelector(sel);"
                           " return !!el && read(el.innerText).includes(read(want)); }", arg=[within, text])


def reads_left_to_right(page, word: str) -> int:
    """Every occurrence of `word` (the app's own words) is drawn left to right: its first
    letter left of its last. Returns how many were measured."""
    lefts = page.evaluate("""word => {
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const out = [];
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            for (let i = n.data.indexOf(word); i >= 0; i = n.data.indexOf(word, i + 1)) {
                const at = k => { const r = document.createRange(); r.setStart(n, k); r.setEnd(n, k + 1);
                                  return r.getBoundingClientRect(); };
                const first = at(i), last = at(i + word.length - 1);
                if (first.width && last.width && Math.abs(first.top - last.top) < 2) out.push([first.left, last.left]);
            }
        }
        return out;
    }""", word)
    assert all(first < last for first, last in lefts), f"{word!r} drawn right to left: {lefts}"
    return len(lefts)


def overrides_are_isolated(page) -> None:
    """Every right-to-left override on the page sits inside a <bdi> (or unicode-bidi: isolate),
    between FSI and PDI, or alone in a table cell."""
    loose = page.evaluate("""() => {
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const out = [];
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const t = n.data;
            for (let i = t.indexOf('\\u202e'); i >= 0; i = t.indexOf('\\u202e', i + 1)) {
                const parent = n.parentElement;
                if (parent.closest('bdi') || getComputedStyle(parent).unicodeBidi.includes('isolate')) continue;
                // a table cell holding the value alone is a paragraph of its own: the override ends with it
                if (parent.matches('td, th') && parent.childNodes.length === 1) continue;
                const open = t.lastIndexOf('\\u2068', i), closed = t.lastIndexOf('\\u2069', i);
                if (open > closed && t.indexOf('\\u2069', i) > i) continue;
                out.push(t);
            }
        }
        return out;
    }""")
    assert loose == [], f"right-to-left overrides not isolated: {loose}"


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
    shows(page, f"{IMG} ({CODE})", within="[role=dialog]")
    shows(page, f"Instructor notes: {SCRIPT} {SVG}", within="[role=dialog]")
    box.get_by_role("tab", name="Bookings").click()
    expander = box.locator("summary", has_text=hostile_app["booking"].reference)
    expander.click()
    shows(page, f"{hostile_app['booking'].reference} · {SVG}", within="[role=dialog]")
    shows(page, f"{IMG} · x@example.com", within="[role=dialog]")  # the company
    shows(page, f"Attendees: {SCRIPT}, {IMG}", within="[role=dialog]")
    # What staff copy is what they see: no invisible mark inside the e-mail address.
    assert "x@example.com" in box.inner_text()
    settle(page, fired)


def test_the_session_window_shows_markdown_latex_and_links_as_typed_and_overrides_reverse_nothing(
        hostile_app, watched, screenshots):
    page, fired = watched
    day = hostile_app["day"]
    pw.open_page(page, pw.url(hostile_app["base"], "/Calendar", view="list", **{"from": day, "to": day}))
    card = f".st-key-card_cal_{hostile_app['marked'].id}"
    shows(page, f"{MD_COURSE} ({MD_CODE})", within=card)  # the day list's card
    page.locator(card).get_by_role("button").click()
    box = pw.dialog(page)
    inside = "[role=dialog]"
    shows(page, f"{MD_COURSE} ({MD_CODE})", within=inside)               # the heading
    shows(page, f"Instructor notes: {MD_NOTES}", within=inside)
    shows(page, f"held by {MD_ACTOR.name} ({MD_HOLD_NOTE} {RLO}x)", within=inside)  # the holds line
    shows(page, f"1. {MD_WAITING} · 1 place", within=inside)             # the waiting list
    shows(page, f"wait@example.com · {RLO_COMPANY} · since", within=inside)
    assert "wait@example.com" in box.inner_text()  # copied as shown
    box.get_by_role("tab", name="Bookings").click()
    reference = hostile_app["md_booking"].reference
    box.locator("summary", has_text=reference).click()
    shows(page, f"{reference} · {MD_NAME} · 2 places", within=inside)
    shows(page, f"{RLO_COMPANY} · md@example.com · no phone", within=inside)
    shows(page, f"Attendees: {MD_ATTENDEE}", within=inside)
    settle(page, fired)
    # The app's own words after a stored override read as they should ("since", not "ecnis").
    for word in ("since", "example.com", "min left"):
        assert reads_left_to_right(page, word) >= 1, word
    overrides_are_isolated(page)
    page.screenshot(path=screenshots / "hostile_session_window_desktop.png")
    page.set_viewport_size(PHONE)
    expect(box).to_be_visible()
    assert reads_left_to_right(page, "example.com") >= 1
    page.screenshot(path=screenshots / "hostile_session_window_phone.png", full_page=True)


def _hostile_link(base: str, path: str) -> str:
    return f"{base}{path}?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in HOSTILE_QUERY.items())


@pytest.mark.parametrize("path, echoes", [
    ("/", False), ("/Calendar", True), ("/Book", True), ("/Occupancy", True), ("/Schedule", True),
    ("/Exports", True), ("/Audit", False),
])
def test_hostile_filters_in_the_link_are_echoed_as_typed_and_never_as_a_link(hostile_app, watched, screenshots,
                                                                              path, echoes):
    page, fired = watched
    page.goto(_hostile_link(hostile_app["base"], path))
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    if echoes:
        expect(page.get_by_text("Showing the default instead.").first).to_be_visible()
        for name in ("course", "location", "status"):
            shows(page, f"'{HOSTILE_QUERY[name]}' in the link: ignored.")
        shows(page, f"The link's 'from' date '{HOSTILE_QUERY['from']}' is not a date")
        shows(page, f"The link's 'to' date '{HOSTILE_QUERY['to']}' is not a date (YYYY-MM-DD): ignored.")
        shows(page, f"'cancelled={HOSTILE_QUERY['cancelled'][:20]}' in the link is not yes or no")
        shows(page, f"'view={HOSTILE_QUERY['view']}' in the link is not list or calendar")
        assert reads_left_to_right(page, "is not a date") >= 2
    settle(page, fired)
    overrides_are_isolated(page)
    if path == "/Calendar":
        page.screenshot(path=screenshots / "hostile_link_notices_desktop.png")
        page.set_viewport_size(PHONE)
        expect(page.get_by_text("Showing the default instead.").first).to_be_visible()
        page.screenshot(path=screenshots / "hostile_link_notices_phone.png", full_page=True)


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
    for text in (MD_COURSE, MD_NAME, MD_ATTENDEE):
        shows(page, text)
    no_injected_elements(page)
    overrides_are_isolated(page)
    assert page.evaluate("() => document.scripts.length") == 0
    assert not fired, fired
