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
