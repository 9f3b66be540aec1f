"""Holds and the waiting list in a real headless Chromium, two members of staff at once.

The app runs with HOLD_MINUTES=0.5 (a hold lasts 30 s) on a demo database of its own, so
that a hold can be seen to run out within the test.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from core import booking, holds, waitlist
from core.availability import find_sessions, get_session
from core.config import today
from core.db import forget_engine, get_engine
from core.models import Session
from tests.actors import STAFF
from tests.e2e import pw
from tests.e2e.seen import seen_pattern
from tests.e2e.conftest import DEMO_SEED, _run_core, duckdb_url, started_app

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 5_000
HOLD_SECONDS = 30
HOLD_ENDS_WITHIN_MS = (HOLD_SECONDS + 30) * 1000  # the hold's 30 s, and a loaded machine


@dataclass(frozen=True)
class HoldApp:
    url: str
    race: Session   # 2 places left: the last places two colleagues go for
    shown: Session  # full: 2 places held by a colleague for an hour, 3 on the waiting list


def _book(engine, session: Session, seats: int, tag: str) -> None:
    if seats > 0:
        booking.book(engine, session.id, contact_name=f"Early {tag}", contact_email=f"early-{tag}@example.co.uk",
                     seats=seats, actor=STAFF)


@pytest.fixture(scope="module")
def hold_app(tmp_path_factory, browser):
    folder = tmp_path_factory.mktemp("holds_server")
    db_url = duckdb_url(folder / "app.duckdb")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=db_url, PYTHONUNBUFFERED="1", HOLD_MINUTES=str(HOLD_SECONDS / 60))
    _run_core("migrate", env=env)
    _run_core("seed-demo", "--seed", str(DEMO_SEED), env=env)

    # Set the two sessions up, then let go of the file: the server process owns it (DuckDB).
    engine = get_engine(db_url)
    roomy = find_sessions(engine, today() + dt.timedelta(days=3), today() + dt.timedelta(days=40),
                          availability=["available"])
    race = next(s for s in roomy if s.short_code == "FAW")
    # within the phone's day list (two weeks from today), another course or day than the race
    shown = next(s for s in roomy if s.session_date <= today() + dt.timedelta(days=12)
                 and (s.short_code, s.session_date) != (race.short_code, race.session_date))
    _book(engine, race, race.remaining - 2, "race")
    _book(engine, shown, shown.remaining - 2, "shown")
    holds.place_hold(engine, shown.id, 2, actor=STAFF, note="caller from Acme Ltd", minutes=60)
    for name, seats in (("Ann Lee", 2), ("Bo Chan", 1), ("Cy Patel", 3)):
        waitlist.join_waitlist(engine, shown.id, name=name, email=f"{name.split()[0].lower()}@example.co.uk",
                               phone="01632 960123", seats=seats, actor=STAFF)
    race, shown = get_session(engine, race.id), get_session(engine, shown.id)
    forget_engine(engine)

    with started_app(folder, env) as url:
        yield HoldApp(url=url, race=race, shown=shown)


def _address(app: HoldApp, s: Session) -> str:
    return pw.url(app.url, "/Calendar", course=s.short_code, location=s.location[-1],
                  **{"from": s.session_date, "to": s.session_date})


def _sign_as(page: Page, name: str) -> None:
    """The demo mode's name field in the sidebar (the audit trail and the holds show it)."""
    field = page.get_by_test_id("stSidebar").get_by_label(re.compile("^Your name"))
    field.fill(name)
    field.press("Enter")
    pw.wait_live(page)


def _title(s: Session, places: str) -> str:
    return f"{s.short_code} {s.start_time:%H:%M} · {s.location[-1]} · {places}"


def test_a_colleagues_hold_is_seen_within_5s_blocks_the_last_places_and_frees_them_when_it_runs_out(hold_app, new_page, screenshots):
    app, s = hold_app, hold_app.race
    alice, bob = new_page(), new_page()
    for page in (alice, bob):
        pw.open_calendar(page, _address(app, s))
        expect(pw.event(page, _title(s, "only 2 left"))).to_be_visible()
    _sign_as(alice, "Alice at the desk")

    # Alice holds the last 2 places while she takes her caller's details.
    pw.event(alice, _title(s, "only 2 left")).click()
    pw.dialog(alice).get_by_label("Places *", exact=False).fill("2")
    pw.dialog(alice).get_by_role("button", name=re.compile(r"^Hold places")).click()
    expect(pw.dialog(alice)).to_contain_text("Holding 2 places for this caller")

    # Bob's calendar says so by itself within 5 s; his detail names Alice and the time left.
    expect(pw.event(bob, _title(s, "FULL · 2 held"))).to_have_count(1, timeout=LIVE_WITHIN_MS)
    pw.event(bob, _title(s, "FULL · 2 held")).click()
    box = pw.dialog(bob)
    expect(box).to_contain_text(re.compile(r"2 places held by Alice at the desk · \d+ s left"))
    expect(box).to_contain_text("Every place left is held for a caller")
    pw.wait_settled(bob)
    bob.screenshot(path=screenshots / "hold_seen_by_a_colleague_desktop.png")

    # He cannot book them while the hold lasts...
    pw.fill_booking(bob, name="Bob Later", email="bob.later@example.co.uk", seats=2)
    pw.confirm(bob)
    expect(box).to_contain_text("no places left")
    expect(box).not_to_contain_text("Reference: BK-")

    # ...and when it runs out (nobody does anything), the places are his to book.
    expect(box.get_by_text(re.compile(r"^Almost full: 2 places left$"))).to_be_visible(timeout=HOLD_ENDS_WITHIN_MS)
    expect(box).not_to_contain_text("held by Alice")
    pw.confirm(bob)
    expect(box).to_contain_text(seen_pattern("Booked 2 places for Bob Later. Reference: BK-"))

    # Alice's window says by itself that her hold ran out, and offers no booking of places
    # that are gone: the session is full.
    expect(pw.dialog(alice)).to_contain_text("Your hold of 2 places ran out at")
    expect(pw.dialog(alice).get_by_role("button", name="Book the held places")).to_have_count(0)
    expect(pw.dialog(alice)).to_contain_text("FULLY BOOKED")
    expect(pw.dialog(alice)).not_to_contain_text("Reference: BK-")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_screenshots_of_a_session_with_holds_and_a_waiting_list_are_saved(hold_app, new_page, screenshots, phone):
    app, s = hold_app, hold_app.shown
    page = new_page(phone=phone)
    suffix = "phone" if phone else "desktop"
    pw.open_page(page, _address(app, s))
    if phone:
        page.get_by_role("button", name="Details", exact=True).first.click()
    else:
        expect(pw.calendar(page).locator(".fc-event").first).to_be_attached()
        pw.event(page, _title(s, "FULL · 2 held + 3 waiting")).click()
    box = pw.dialog(page)
    expect(box).to_contain_text("2 places held by Sam at the desk")
    expect(box).to_contain_text(seen_pattern("1. Ann Lee"))
    expect(box.get_by_role("button", name="Join the waiting list")).to_be_visible()
    pw.wait_settled(page)
    if phone:
        assert pw.no_horizontal_scroll(page)
    shot = screenshots / f"session_holds_waitlist_{suffix}.png"
    page.screenshot(path=shot)
    assert shot.stat().st_size > 10_000
