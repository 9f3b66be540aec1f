"""The register marked from a phone at the training room door, and the Due to requalify
page, in a real headless Chromium. The app runs with APP_NOW on Wed 12 March 2031 at 17:00
on a database of its own, so nothing here depends on today's date."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import attendance, certificates, clock, config
from core.booking import book
from core.db import forget_engine, get_engine
from core.models import Attendee
from core.sessions import create_session
from tests.actors import ADMIN, STAFF
from tests.e2e import pw
from tests.e2e.seen import seen_pattern
from tests.e2e.conftest import _run_core, duckdb_url, started_app

pytestmark = pytest.mark.browser

APP_NOW = "2031-03-12T17:00"   # a Wednesday in winter (GMT): local time is UTC
TODAY = dt.date(2031, 3, 12)
SHOTS = Path(os.environ.get("REQUALIFY_SHOTS", "")) if os.environ.get("REQUALIFY_SHOTS") else None


@dataclass(frozen=True)
class RequalifyApp:
    url: str
    today_session: str     # id of today's FAW session: Ana Jones named, one seat without a name
    ana_booking: str
    offer_session: str     # the CPR session with places Dana is booked on from the page


def _session(engine, day, course, location="Location A"):
    return create_session(engine, course_type=course, session_date=day, start_time="09:00", end_time="16:30",
                          location=location, actor=ADMIN)


def _passed(engine, manual, day, course, name, email, company):
    manual.set(dt.datetime.combine(day - dt.timedelta(days=10), dt.time(9)))
    s = _session(engine, day, course)
    made = book(engine, s.id, contact_name="Pat Office", contact_email="office@acme.example", company=company,
                attendees=[Attendee(name, email)], actor=STAFF)
    manual.set(dt.datetime.combine(day, dt.time(17)))
    attendance.mark(engine, made.id, 1, "attended_passed", actor=STAFF)


@pytest.fixture(scope="module")
def requalify_app(tmp_path_factory, browser):
    folder = tmp_path_factory.mktemp("requalify_server")
    db_url = duckdb_url(folder / "app.duckdb")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=db_url, PYTHONUNBUFFERED="1", APP_NOW=APP_NOW)
    _run_core("migrate", env=env)
    engine = get_engine(db_url)
    manual = clock.ManualClock(dt.datetime(2030, 4, 1, 9))
    with clock.using(manual):
        _passed(engine, manual, dt.date(2030, 5, 1), "CPR and AED", "Dana Wu", "dana@acme.example", "ACME Ltd")
        _passed(engine, manual, dt.date(2028, 5, 22), "First Aid at Work", "Eli Brown", None, "Beta Co")
        _passed(engine, manual, dt.date(2029, 6, 5), "Paediatric First Aid", "Dana Wu", "dana.wu@home.example", None)
        manual.set(dt.datetime(2031, 3, 1, 9))
        today = _session(engine, TODAY, "First Aid at Work")
        ana = book(engine, today.id, contact_name="Pat Office", contact_email="office@acme.example",
                   company="ACME Ltd", seats=2, attendees=[Attendee("Ana Jones", "ana@acme.example")], actor=STAFF)
        offer = _session(engine, dt.date(2031, 4, 10), "CPR and AED", location="Location B")
        assert len(certificates.list_certificates(engine)) == 3
    forget_engine(engine)
    config.get_settings.cache_clear()
    with started_app(folder, env) as url:
        yield RequalifyApp(url=url, today_session=str(today.id), ana_booking=str(ana.id), offer_session=str(offer.id))


def _shot(page, name: str) -> None:
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_a_register_is_marked_from_a_phone_and_completes_the_session(requalify_app, new_page):
    app = requalify_app
    page = new_page(phone=True)
    pw.open_page(page, pw.url(app.url, "/Calendar", course="FAW", **{"from": TODAY, "to": TODAY}))
    page.locator(f".st-key-card_cal_{app.today_session}").get_by_role("button", name="Details").click()
    box = pw.dialog(page)
    expect(box.get_by_role("tab", name="Register")).to_have_attribute("aria-selected", "true")
    expect(box).to_contain_text("0 of 2 marked · 2 to mark")

    ana = box.locator(f".st-key-reg_row_{app.ana_booking}_1")
    pw.wait_settled(page)
    ana.get_by_role("radio", name="Passed", exact=True).click()
    expect(box).to_contain_text(seen_pattern("Ana Jones: passed."))
    expect(ana.get_by_role("radio", name="Passed", exact=True)).to_have_attribute("aria-checked", "true")
    expect(ana).to_contain_text(seen_pattern("Certificate FAW-2031-", r"\w{6}"))
    expect(box).to_contain_text("1 of 2 marked · 1 to mark")

    unnamed = box.locator(f".st-key-reg_row_{app.ana_booking}_2")
    expect(unnamed).to_contain_text("Name to be given")
    unnamed.get_by_label("Attendee name (booked without one)").fill("Cy Okafor")
    unnamed.get_by_label("Attendee name (booked without one)").press("Enter")
    unnamed.get_by_role("radio", name="Absent", exact=True).click()
    expect(box).to_contain_text("The register is complete: the session is marked completed.")
    expect(box).to_contain_text("2 of 2 marked · complete")
    assert pw.no_horizontal_scroll(page)
    _shot(page, "register_phone")


def test_due_to_requalify_lists_the_expiring_certificates_and_books_a_holder_in_one_click(requalify_app, new_page):
    app = requalify_app
    page = new_page()
    page.goto(pw.url(app.url, "/Requalify"))
    pw.wait_settled(page)
    expect(page.get_by_text("2 certificates expiring within 90 days; 0 of them already booked")).to_be_visible()
    dana = page.locator(".st-key-rq_card_" + _card_of(page, "Dana Wu"))
    expect(dana).to_contain_text("expires Thu 1 May 2031 (in 50 days)")
    expect(dana).to_contain_text("earned at Location A")
    eli = page.locator(".st-key-rq_card_" + _card_of(page, "Eli Brown"))
    expect(eli).to_contain_text("expires Thu 22 May 2031 (in 71 days)")
    expect(eli).to_contain_text("No session of this course with places")
    _shot(page, "requalify_desktop")
    dana.get_by_role("button", name=re.compile(r"^Book · Thu 10 Apr · Location B · 12 left")).click()
    expect(page.get_by_text(seen_pattern("Booked Dana Wu on CPR and AED, Thu 10 Apr, Location B, 09:00. "
                                         "Reference: BK-"))).to_be_visible()
    expect(dana).to_contain_text(seen_pattern("Booked on Thu 10 Apr 2031, Location B (BK-"))
    expect(page.get_by_text("1 of them already booked on a later session")).to_be_visible()


def _card_of(page, name: str) -> str:
    """The certificate id of the card showing `name` (cards are keyed by certificate)."""
    card = page.locator("[class*='st-key-rq_card_']", has_text=name).first
    expect(card).to_be_visible()
    key = next(c for c in card.get_attribute("class").split() if c.startswith("st-key-rq_card_"))
    return key.removeprefix("st-key-rq_card_")


def test_two_records_of_one_person_are_merged_from_the_people_page_keeping_both_certificates(requalify_app, new_page):
    app = requalify_app
    page = new_page()
    page.goto(pw.url(app.url, "/People"))
    pw.wait_settled(page)
    search = page.get_by_label("Find a person")
    search.fill("dana")
    search.press("Enter")
    chosen = page.get_by_label("2 found")
    chosen.click()
    page.get_by_role("option", name=re.compile("dana@acme.example")).click()
    expect(page.get_by_test_id("stHtml").filter(has_text="dana@acme.example")).to_be_visible()
    pw.wait_settled(page)
    expect(page.get_by_text("Certificates (1)")).to_be_visible()
    other = page.get_by_label("The other record of this person")
    other.click()
    other.press_sequentially("home.example")   # the box filters its options as one types
    page.get_by_role("option", name=re.compile("dana.wu@home.example")).click()
    page.get_by_text("They are the same person").click()
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page.get_by_text(seen_pattern("Merged Dana Wu into Dana Wu"))).to_be_visible()
    expect(page.get_by_text("Certificates (2)")).to_be_visible()
    expect(page.get_by_text("1 found")).to_be_visible()
    _shot(page, "people_desktop")


def test_the_occupancy_dashboard_shows_certificates_expiring_beside_the_places_scheduled(requalify_app, new_page):
    page = new_page()
    page.goto(pw.url(requalify_app.url, "/Occupancy"))
    pw.wait_live(page)
    expect(page.get_by_text("What to read:").last).to_be_visible()
    read_me = page.get_by_text(re.compile("course-months? \\(red outline\\) have more certificates expiring"))
    expect(read_me).to_be_visible()
    read_me.scroll_into_view_if_needed()
    _shot(page, "occupancy_desktop")
    for name, size in (("requalify_phone", {"width": 390, "height": 844}), ("requalify_narrow", {"width": 600, "height": 900})):
        page.set_viewport_size(size)
        page.goto(pw.url(requalify_app.url, "/Requalify"))
        pw.wait_settled(page)
        expect(page.get_by_text("Due to requalify").first).to_be_visible()
        assert pw.no_horizontal_scroll(page)
        _shot(page, name)
