"""At the desk (issue 15), in a real headless Chromium at 1440 x 900 and on a phone
(390 x 844): finding a booking from any page, one at-risk figure, places out of range,
booking the same contact again, a name too long, who a cancellation promoted, where a
booking can move, and the bank-holiday warning of the schedule.

One app on a demo database of its own; the sessions each test uses are set up before the
server starts (it owns the DuckDB file then), each test on sessions of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from core import booking, waitlist
from core.availability import find_sessions, get_session
from core.config import today
from core.db import forget_engine, get_engine
from core.models import Booking, Session
from tests.actors import STAFF
from tests.e2e import pw
from tests.e2e.conftest import DEMO_SEED, _run_core, duckdb_url, started_app
from tests.e2e.seen import seen_pattern

pytestmark = pytest.mark.browser

DESK = {"width": 1440, "height": 900}


@dataclass(frozen=True)
class DeskApp:
    url: str
    sessions: tuple[Session, ...]   # as the server starts
    found: Booking                  # to be found by its details
    one_left: Session               # 1 place left
    again: Booking                  # Sam Again, 1 place: booked again below
    cancel: Booking                 # 2 places on a full session with Jo Bloggs waiting for 2
    mover: Booking                  # a booking at Location B with sessions to move to at both sites
    roomy: Session                  # plenty of places: a name pasted too long


def _book(engine, s: Session, seats: int, name: str, **more) -> Booking:
    email = more.pop("email", None) or f"{name.lower().replace(' ', '.')}@example.co.uk"
    return booking.book(engine, s.id, contact_name=name, contact_email=email, seats=seats, actor=STAFF, **more)


@pytest.fixture(scope="module")
def desk_app(tmp_path_factory, browser):
    folder = tmp_path_factory.mktemp("desk_server")
    db_url = duckdb_url(folder / "app.duckdb")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=db_url, PYTHONUNBUFFERED="1")
    _run_core("migrate", env=env)
    _run_core("seed-demo", "--seed", str(DEMO_SEED), env=env)

    engine = get_engine(db_url)
    seeded = tuple(find_sessions(engine, today() - dt.timedelta(days=60), today() + dt.timedelta(days=90),
                                 include_cancelled=True))
    roomy = [s for s in seeded if s.state == "available" and s.remaining >= 6
             and today() + dt.timedelta(days=3) <= s.session_date <= today() + dt.timedelta(days=40)]
    picked: list[Session] = []

    def pick(ok=lambda s: True) -> Session:
        s = next(s for s in roomy if s not in picked and ok(s))
        picked.append(s)
        return s

    found = _book(engine, pick(), 2, "Priya Findme", email="priya.findme@northgate.example",
                  contact_phone="07700 900456", company="Findme Care Homes", attendees=["Priya Findme", "Lee Colleague"])
    one_left = pick()
    _book(engine, one_left, one_left.remaining - 1, "Early Bird")
    again = _book(engine, pick(), 1, "Sam Again")
    full = pick()
    cancel = _book(engine, full, 2, "Cancel Me")
    _book(engine, full, get_session(engine, full.id).remaining, "Fills Up")
    waitlist.join_waitlist(engine, full.id, name="Jo Bloggs", email="jo.bloggs@example.co.uk", seats=2, actor=STAFF)

    def has_targets_at_both_sites(s: Session) -> bool:
        same = [o for o in seeded if o.course_type == s.course_type and o.id != s.id and o.state == "available"
                and o.session_date > today()]
        return s.location == "Location B" and {o.location for o in same} == {"Location A", "Location B"}

    mover = _book(engine, pick(has_targets_at_both_sites), 1, "Mo Mover")
    roomy_one = pick()
    now = tuple(find_sessions(engine, today() - dt.timedelta(days=60), today() + dt.timedelta(days=90),
                              include_cancelled=True))
    forget_engine(engine)

    with started_app(folder, env) as url:
        yield DeskApp(url=url, sessions=now, found=found, one_left=get_session_from(now, one_left),
                      again=again, cancel=cancel, mover=mover, roomy=roomy_one)


def get_session_from(sessions, s: Session) -> Session:
    return next(x for x in sessions if x.id == s.id)


@pytest.fixture
def open_page(new_page):
    """open_page(phone=False) -> a page at 1440 x 900, or a phone's 390 x 844."""
    return lambda *, phone=False: new_page(phone=phone, viewport=None if phone else DESK)


def _session_address(app: DeskApp, s: Session) -> str:
    return pw.url(app.url, "/Calendar", course=s.short_code, location=s.location[-1],
                  **{"from": s.session_date, "to": s.session_date})


def _open_session(page: Page, app: DeskApp, s: Session) -> None:
    """The session's dialog, from the calendar narrowed to it."""
    pw.open_calendar(page, _session_address(app, s))
    pw.event(page, f"{s.short_code} {s.start_time:%H:%M}").click()
    expect(pw.dialog(page)).to_be_visible()
    pw.wait_settled(page)


# --- 6. finding a booking -----------------------------------------------------------------------


def test_staff_find_a_booking_by_name_from_the_sidebar_of_any_page_and_open_its_session(desk_app, open_page, screenshots):
    app, made = desk_app, desk_app.found
    page = open_page()
    pw.open_page(page, app.url + "/Occupancy")
    box = page.get_by_test_id("stSidebar").get_by_role("textbox", name="Find a booking")
    box.fill("priya FINDME")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/Find_booking\?q=priya\+FINDME$"))
    pw.wait_live(page)
    hit = page.locator(".found-booking")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text(f"{made.reference} · Priya Findme · 2 places")
    expect(hit).to_contain_text("Findme Care Homes · priya.findme@northgate.example · 07700 900456")
    expect(hit).to_contain_text("Attendees: Priya Findme, Lee Colleague")
    page.screenshot(path=screenshots / "find_booking_desktop.png")
    page.get_by_role("button", name="Open session").click()
    box = pw.dialog(page)
    box.get_by_role("tab", name=re.compile("^Bookings")).click()
    expect(box.get_by_text(seen_pattern(f"{made.reference} · Priya Findme · 2 places"))).to_be_visible()


def test_on_a_phone_a_booking_is_found_by_its_phone_digits_and_reads_without_sideways_scrolling(desk_app, open_page, screenshots):
    app, made = desk_app, desk_app.found
    page = open_page(phone=True)
    pw.open_page(page, pw.url(app.url, "/Find_booking", q="07700900456"))
    expect(page.get_by_label("Reference, name, e-mail, phone or company")).to_have_value("07700900456")
    expect(page.locator(".found-booking")).to_contain_text(made.reference)
    assert pw.no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "find_booking_phone.png")
    page.get_by_label("Reference, name, e-mail, phone or company").fill("x")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Type at least 2 characters")).to_be_visible()


# --- 7. one at-risk figure ------------------------------------------------------------------------


def test_the_at_risk_tile_counts_the_rows_of_the_table_below_it_for_the_dates_chosen(desk_app, open_page):
    app = desk_app
    first, last = today() + dt.timedelta(days=7), today() + dt.timedelta(days=60)
    scheduled = [s for s in app.sessions if s.status == "scheduled"]
    risky = lambda s: s.current_bookings * 2 < s.max_capacity  # noqa: E731
    expected = [s for s in scheduled if first <= s.session_date <= today() + dt.timedelta(days=13) and risky(s)]
    before = [s for s in scheduled if today() <= s.session_date < first and risky(s)]
    assert before, "sessions at risk before the chosen dates, which the table used to count"
    page = open_page()
    pw.open_page(page, pw.url(app.url, "/Occupancy", **{"from": first, "to": last}))
    tile = page.get_by_test_id("stMetric").filter(has_text="At risk").get_by_test_id("stMetricValue")
    expect(tile).to_have_text(str(len(expected)))
    told = f"{len(expected)} session{'s' if len(expected) != 1 else ''} from {first:%a} {first.day} {first:%b %Y}"
    expect(page.get_by_text(re.compile(re.escape(told) if expected else "is less than half full"))).to_be_visible()


# --- 4. places out of range ---------------------------------------------------------------------


def _places_message(page: Page, text):
    """`text` shown right under the Places field."""
    return pw.dialog(page).locator("[data-testid=stElementContainer]:has([data-testid=stNumberInput])"
                                   " + [data-testid=stElementContainer]").filter(has_text=text)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_places_out_of_range_are_refused_next_to_the_field_with_the_waiting_list_and_other_sessions(desk_app, open_page, screenshots, phone):
    app, s = desk_app, desk_app.one_left
    page = open_page(phone=phone)
    pw.open_page(page, pw.url(app.url, "/Find_booking", q="Early Bird"))
    page.locator("[class*=st-key-found_]", has_text=s.course_type).get_by_role("button", name="Open session").click()
    box = pw.dialog(page)
    expect(box.get_by_label("Places *", exact=False)).to_be_visible()
    pw.fill_booking(page, name="Cal Caller", email="cal.caller@example.co.uk", seats=0)
    # Out of range for any session: said under the field (the browser no longer refuses in silence).
    for wrong in (0, 13):
        box.get_by_label("Places *", exact=False).fill(str(wrong))
        pw.confirm(page)
        expect(_places_message(page, f"Places must be from 1 to 12, not {wrong}.")).to_be_visible()
    # More than are left: said under the field, with the race path's ways out.
    box.get_by_label("Places *", exact=False).fill("3")
    pw.confirm(page)
    expect(_places_message(page, seen_pattern(f"Only 1 place left on {s.label}; you asked for 3."))).to_be_visible()
    expect(box.get_by_role("button", name=seen_pattern("Put Cal Caller on the waiting list for 3 places"))).to_be_visible()
    expect(box.get_by_text(re.compile(r"(Book 3 places on another .* session instead|No other .* session has 3 places free)"))
           ).to_be_visible()
    if phone:
        assert pw.no_horizontal_scroll(page)
    page.screenshot(path=screenshots / f"places_out_of_range_{'phone' if phone else 'desktop'}.png")
    expect(box).not_to_contain_text("Reference: BK-")


# --- 5. the same contact booked again: add places to their booking --------------------------------


def test_booking_the_same_contact_again_offers_to_add_the_places_to_their_booking(desk_app, open_page, screenshots):
    app, first = desk_app, desk_app.again
    page = open_page()
    pw.open_page(page, pw.url(app.url, "/Find_booking", q=first.reference))
    page.get_by_role("button", name="Open session").click()
    box = pw.dialog(page)
    pw.fill_booking(page, name="Sam Again", email="sam.again@example.co.uk", seats=1)
    pw.confirm(page)
    expect(box).to_contain_text(seen_pattern("sam.again@example.co.uk is already booked on"))
    offer = box.get_by_role("button", name=seen_pattern(f"Add 1 place to Sam Again's booking {first.reference} instead"))
    page.screenshot(path=screenshots / "add_places_offer_desktop.png")
    offer.dblclick()
    expect(box).to_contain_text(seen_pattern(f"Added 1 place to the booking of Sam Again: 2 places now. "
                                             f"Reference: {first.reference}"))
    box.get_by_role("tab", name=re.compile("^Bookings")).click()
    expect(box.get_by_text(seen_pattern(f"{first.reference} · Sam Again · 2 places"))).to_be_visible()
    expect(box.get_by_text(seen_pattern("· Sam Again ·"))).to_have_count(1)


# --- 8. a name pasted too long --------------------------------------------------------------------


def test_a_name_pasted_longer_than_200_characters_is_refused_naming_the_field(desk_app, open_page):
    app, s = desk_app, desk_app.roomy
    page = open_page()
    _open_session(page, app, s)
    box = pw.dialog(page)
    long_name = "Alexandra " + "Montgomery-" * 22  # 252 characters
    box.get_by_label("Contact name *").click()
    page.keyboard.insert_text(long_name)  # as a paste arrives: all at once
    box.get_by_label("E-mail *").fill("alexandra@example.co.uk")
    pw.confirm(page)
    expect(box).to_contain_text(f"Contact name is too long: {len(long_name.strip())} characters, at most 200.")
    expect(box).not_to_contain_text("Reference: BK-")


def _open_booking(page: Page, app: DeskApp, made: Booking, title: str):
    """Find the booking, open its session's Bookings tab and its row (titled `title`); the row."""
    pw.open_page(page, pw.url(app.url, "/Find_booking", q=made.reference))
    page.get_by_role("button", name="Open session").click()
    pw.dialog(page).get_by_role("tab", name=re.compile("^Bookings")).click()
    row = pw.dialog(page).get_by_test_id("stExpander").filter(has_text=made.reference)
    row.get_by_text(seen_pattern(title)).click()
    return row


# --- 9. who a cancellation promoted ----------------------------------------------------------------


def test_a_cancellation_whose_places_went_to_the_waiting_list_says_who_got_them(desk_app, open_page, screenshots):
    app, gone = desk_app, desk_app.cancel
    page = open_page()
    row = _open_booking(page, app, gone, f"{gone.reference} · Cancel Me · 2 places")
    box = pw.dialog(page)
    row.get_by_text("Yes, cancel this booking").click()
    row.get_by_role("button", name="Cancel booking").click()
    expect(box).to_contain_text(seen_pattern(f"Booking {gone.reference} cancelled; 2 places went to Jo Bloggs "
                                             "from the waiting list."))
    expect(box).not_to_contain_text("its places are free again")
    page.screenshot(path=screenshots / "cancel_promoted_desktop.png")


# --- 10. where a booking can move ----------------------------------------------------------------


def test_move_options_list_the_same_site_first_then_by_date(desk_app, open_page, screenshots):
    app, mover = desk_app, desk_app.mover
    page = open_page()
    row = _open_booking(page, app, mover, f"{mover.reference} · Mo Mover · 1 place")
    pw.wait_settled(page)
    options = _open_options(page, row.get_by_role("combobox"))
    assert options, "no session to move to"
    dates = {s.label: (s.location, s.session_date) for s in app.sessions}
    shown = [next(v for label, v in dates.items() if o.startswith(label + ",")) for o in options]
    assert shown[0][0] == "Location B", options
    assert shown == sorted(shown, key=lambda v: (v[0] != "Location B", v[1])), options


def _open_options(page: Page, combo) -> list[str]:
    """The options of a select box, read as soon as its list opens (the live part of the
    dialog redraws every few seconds, and a redraw may close the list)."""
    for _ in range(5):
        combo.click()
        if combo.get_attribute("aria-expanded") != "true":  # the click may only focus it
            combo.press("ArrowDown")
        try:
            page.get_by_role("option").first.wait_for(timeout=3_000)
        except Exception:
            continue
        texts = page.evaluate("() => [...document.querySelectorAll('[role=option]')].map(o => o.innerText)")
        if texts:
            return [t.strip() for t in texts]
    return []


# --- 11. bank holidays in the schedule ---------------------------------------------------------------


def test_the_series_preview_warns_of_the_dates_that_fall_on_a_bank_holiday(desk_app, open_page, screenshots):
    from core.bank_holidays import bank_holidays_between

    app = desk_app
    first = today() + dt.timedelta(days=7)
    weeks = 26  # any half year holds a bank holiday on a weekday in England
    holidays = {d: n for d, n in bank_holidays_between(first, first + dt.timedelta(weeks=weeks, days=-1)).items()
                if d.weekday() < 5}
    page = open_page()
    page.goto(app.url + "/Schedule")  # no live line on this page: it waits for its tabs
    page.get_by_role("tab", name="Recurring series").click()
    for day in ("Monday", "Wednesday", "Friday"):
        page.get_by_role("button", name=day, exact=True).click()
    weeks_box = page.get_by_role("spinbutton", name="Weeks")
    weeks_box.fill(str(weeks))
    weeks_box.press("Enter")
    warning = page.get_by_text(re.compile(rf"^{len(holidays)} date\(s\) fall on a bank holiday"))
    expect(warning).to_be_visible()
    first_one = min(holidays)
    expect(warning).to_contain_text(f"{first_one:%a} {first_one.day} {first_one:%b %Y} ({holidays[first_one]})")
    page.screenshot(path=screenshots / "series_bank_holiday_desktop.png")
