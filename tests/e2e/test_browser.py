"""The app in a real headless Chromium against `streamlit run` on a fresh demo database.

The tests share one server; each picks sessions of its own course type so that a
booking made by one test cannot change what another one expects.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e import pw

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 5_000


def _future(app, code: str, *, at_least: int = 1, after_days: int = 2, month=None):
    """Scheduled sessions of course `code` a few days ahead with room for `at_least`."""
    return [
        s for s in app.sessions
        if s.short_code == code and s.status == "scheduled" and s.remaining >= at_least
        and s.session_date >= app.today + dt.timedelta(days=after_days)
        and (month is None or (s.session_date.year, s.session_date.month) == month)
    ]


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def test_calendar_shows_the_remaining_places_of_known_sessions_in_month_week_and_day_view(app_server, new_page, screenshots):
    app = app_server
    target = _future(app, "CPR", after_days=3)[0]
    same = [s for s in app.sessions if s.short_code == "CPR" and s.location == target.location
            and s.status == "scheduled" and s.session_date >= target.session_date
            and (s.session_date.year, s.session_date.month) == (target.session_date.year, target.session_date.month)]
    month_end = _next_month(target.session_date) - dt.timedelta(days=1)
    page = new_page()
    # Up to the month's end: the month grid also shows the first days of the next month,
    # and whether a session falls there depends on the day the test runs.
    pw.open_calendar(page, pw.url(app.url, "/Calendar", course="CPR", location=target.location[-1],
                                  **{"from": target.session_date, "to": month_end}))

    # Month view: every CPR session at that site from that day to the month's end, each with its own count.
    expect(pw.calendar(page).locator(".fc-event")).to_have_count(len(same))
    assert sorted(pw.event_titles(page)) == sorted(pw.expected_title(s) for s in same)
    page.screenshot(path=screenshots / "calendar_month_desktop.png")

    pw.switch_view(page, "Week")
    expect(pw.event(page, pw.expected_title(target))).to_be_visible()
    page.screenshot(path=screenshots / "calendar_week_desktop.png")

    pw.switch_view(page, "Day")
    expect(pw.calendar(page).locator(".fc-toolbar-title")).to_have_text(f"{target.session_date.day} {target.session_date:%B %Y}")
    expect(pw.event(page, pw.expected_title(target))).to_be_visible()
    assert [t for t in pw.event_titles(page) if t] == [pw.expected_title(s) for s in same if s.session_date == target.session_date]

    pw.switch_view(page, "List")
    expect(pw.calendar(page).locator(".fc-list-event", has_text=pw.expected_title(target))).to_be_visible()


def test_a_booking_in_one_browser_shows_in_the_other_within_5s_and_the_last_place_cannot_be_sold_twice(app_server, new_page, screenshots):
    app = app_server
    target = _future(app, "EFAW", at_least=2)[0]
    left = target.remaining
    address = pw.url(app.url, "/Calendar", course="EFAW", location=target.location[-1],
                     **{"from": target.session_date, "to": target.session_date})
    alice, bob = new_page(), new_page()
    for page in (alice, bob):
        pw.open_calendar(page, address)
        expect(pw.event(page, pw.expected_title(target))).to_be_visible()

    # Bob starts to book one place, while Alice books every place that is left.
    pw.event(bob, pw.expected_title(target)).click()
    pw.fill_booking(bob, name="Bob Late", email="bob@example.co.uk", seats=1)
    pw.event(alice, pw.expected_title(target)).click()
    pw.fill_booking(alice, name="Alice First", email="alice@example.co.uk", seats=left, company="Acme Ltd")
    pw.confirm(alice)
    expect(pw.dialog(alice)).to_contain_text("Reference: BK-")
    alice.screenshot(path=screenshots / "booking_done_desktop.png")

    # Bob's calendar says FULL by itself, without a reload or a click.
    expect(pw.event(bob, pw.expected_title(target, remaining=0))).to_have_count(1, timeout=LIVE_WITHIN_MS)
    expect(pw.dialog(bob)).to_contain_text("FULLY BOOKED", timeout=LIVE_WITHIN_MS)

    # ...and his form follows the live count: no booking of the places that are gone; the
    # waiting list and other dates instead, his caller's details kept.
    expect(pw.dialog(bob).get_by_role("button", name="Confirm booking")).to_have_count(0)
    expect(pw.dialog(bob).get_by_role("button", name="Join the waiting list")).to_be_visible()
    expect(pw.dialog(bob).get_by_label("Contact name *")).to_have_value("Bob Late")
    expect(pw.dialog(bob).get_by_role("button", name=re.compile("^Book here: \u2068?Emergency First Aid at Work")).first).to_be_visible()
    expect(pw.dialog(bob)).not_to_contain_text("Reference: BK-")
    bob.screenshot(path=screenshots / "booking_refused_desktop.png")


def test_the_calendar_stays_on_the_month_navigated_to_when_a_booking_lands_elsewhere(app_server, new_page):
    app = app_server
    month = _next_month(app.today)
    # Past the 10th: outside what was loaded for this month, so seeing it proves the reload.
    target = [s for s in _future(app, "FAW", month=(month.year, month.month)) if s.session_date.day >= 10][0]
    before, after = pw.expected_title(target), pw.expected_title(target, remaining=target.remaining - 1)
    watcher, booker = new_page(), new_page()
    pw.open_calendar(watcher, pw.url(app.url, "/Calendar", course="FAW"))
    title = pw.calendar(watcher).locator(".fc-toolbar-title")
    expect(title).to_have_text(f"{app.today:%B %Y}")
    pw.calendar(watcher).locator(".fc-next-button").click()
    expect(title).to_have_text(f"{month:%B %Y}")
    expect(pw.event(watcher, before).first).to_be_attached()
    had_before, had_after = pw.event(watcher, before).count(), pw.event(watcher, after).count()
    pw.mark_calendar(watcher)

    pw.open_calendar(booker, pw.url(app.url, "/Calendar", course="FAW", location=target.location[-1],
                                    **{"from": target.session_date, "to": target.session_date}))
    pw.event(booker, before).click()
    pw.fill_booking(booker, name="Chris Elsewhere", email="chris@example.co.uk", seats=1)
    pw.confirm(booker)
    expect(pw.dialog(booker)).to_contain_text("Reference: BK-")

    # The watcher's calendar picks the booking up and is still on the month it was moved to.
    expect(pw.event(watcher, after)).to_have_count(had_after + 1, timeout=LIVE_WITHIN_MS)
    expect(pw.event(watcher, before)).to_have_count(had_before - 1)
    expect(title).to_have_text(f"{month:%B %Y}")
    assert pw.calendar_kept(watcher), "the calendar was mounted anew (it would flicker and lose its view)"


def test_a_double_click_on_confirm_books_once(app_server, new_page):
    app = app_server
    target = _future(app, "PFA", at_least=3, after_days=5)[0]
    # All but one of the places left: after the first click the form's limit drops to 1,
    # so a late second click arrives with the caller's details and 1 place (found at a date
    # when the demo's first such session had 3 left: it booked the caller twice).
    seats = target.remaining - 1
    page = new_page()
    pw.open_calendar(page, pw.url(app.url, "/Calendar", course="PFA", location=target.location[-1],
                                  **{"from": target.session_date, "to": target.session_date}))
    pw.event(page, pw.expected_title(target)).click()
    pw.fill_booking(page, name="Dee Double", email="dee@example.co.uk", seats=seats)
    pw.dialog(page).get_by_role("button", name="Confirm booking").dblclick()
    expect(pw.dialog(page)).to_contain_text("Reference: BK-")
    # Two refreshes later every click has been handled: the calendar shows those places gone, no more.
    stamp = pw.dialog(page).get_by_text("live, updated")
    for _ in range(2):
        seen = stamp.inner_text()
        expect(stamp).not_to_have_text(seen)
    expect(pw.event(page, pw.expected_title(target, remaining=1))).to_have_count(1)
    pw.dialog(page).get_by_role("tab", name=re.compile("^Bookings")).click()
    expect(pw.dialog(page).get_by_text(re.compile(f"· \u2068?Dee Double\u2069? · {seats} places"))).to_have_count(1)
    expect(pw.dialog(page).get_by_text(re.compile("· \u2068?Dee Double\u2069? ·"))).to_have_count(1)
    expect(pw.dialog(page)).not_to_contain_text("is required")


def test_an_open_session_shows_a_colleagues_booking_in_its_list_by_itself(app_server, new_page):
    app = app_server
    target = _future(app, "PFA", after_days=20)[0]
    address = pw.url(app.url, "/Calendar", course="PFA", location=target.location[-1],
                     **{"from": target.session_date, "to": target.session_date})
    watcher, booker = new_page(), new_page()
    for page in (watcher, booker):
        pw.open_calendar(page, address)
        pw.event(page, pw.expected_title(target)).click()
    pw.dialog(watcher).get_by_role("tab", name="Bookings").click()
    colleague = pw.dialog(watcher).get_by_text(re.compile("· \u2068?Colin Colleague\u2069? · 1 place$"))
    expect(colleague).to_have_count(0)

    pw.fill_booking(booker, name="Colin Colleague", email="colin@example.co.uk", seats=1)
    pw.confirm(booker)
    expect(pw.dialog(booker)).to_contain_text("Reference: BK-")

    # Nobody touches the watcher's page: the booking appears in the open list.
    expect(colleague).to_have_count(1, timeout=LIVE_WITHIN_MS)
    booked = target.current_bookings + 1
    expect(pw.dialog(watcher)).to_contain_text(f"{booked} place{'s' if booked != 1 else ''} of {target.max_capacity}")


def test_each_sidebar_filter_narrows_the_calendar_and_is_written_to_the_url(app_server, new_page, screenshots):
    app = app_server
    page = new_page()
    pw.open_calendar(page, pw.url(app.url, "/Calendar"))
    expect(pw.calendar(page).locator(".fc-event").first).to_be_attached()

    pw.pick_multiselect(page, "Course type", "Paediatric First Aid (PFA)")
    expect(page).to_have_url(re.compile(r"course=PFA"))
    expect(pw.calendar(page).locator(".fc-event-title").first).to_have_text(re.compile(r"^PFA "))
    assert all(t.startswith("PFA ") for t in pw.event_titles(page))

    pw.pick_multiselect(page, "Location", "Location B")
    expect(page).to_have_url(re.compile(r"location=B"))
    expect(pw.calendar(page).locator(".fc-event-title", has_text=" · A · ")).to_have_count(0)
    assert all(" · B · " in t for t in pw.event_titles(page))

    pw.pick_multiselect(page, "Availability", "Full")
    expect(page).to_have_url(re.compile(r"status=full"))
    expect(pw.calendar(page).locator(".fc-event-title", has_text=" left")).to_have_count(0)
    assert all(t.endswith("FULL") for t in pw.event_titles(page))

    start = app.today + dt.timedelta(days=3)
    pw.set_sidebar_date(page, "From", start)
    expect(page).to_have_url(re.compile(rf"from={start.isoformat()}"))
    page.screenshot(path=screenshots / "calendar_filtered_desktop.png")

    page.get_by_test_id("stSidebar").get_by_text("Show cancelled sessions").click()
    expect(page).to_have_url(re.compile(r"cancelled=1"))


def test_a_bookmarked_url_restores_its_filters_and_garbage_falls_back_with_a_notice(app_server, new_page):
    app = app_server
    # The calendar opens on the month of "from": start at the first session these filters
    # match, so that month shows at least one (which month that is depends on the date).
    matching = sorted(s.session_date for s in app.sessions
                      if s.course_type in ("CPR and AED", "Emergency First Aid at Work") and s.location == "Location A"
                      and s.status == "scheduled" and s.max_capacity - s.current_bookings - s.held > 0
                      and app.today < s.session_date <= app.today + dt.timedelta(days=60))
    assert matching, "the demo data has no session for these filters in the next 60 days"
    start, end = matching[0], matching[0] + dt.timedelta(days=39)
    page = new_page()
    pw.open_calendar(page, pw.url(app.url, "/Calendar", course="CPR,EFAW", location="A",
                                  status="available,almost_full", **{"from": start, "to": end}))
    side = page.get_by_test_id("stSidebar")
    for chip in ("CPR and AED (CPR)", "Emergency First Aid at Work (EFAW)", "Location A", "Available"):
        expect(side.get_by_text(chip, exact=True)).to_be_visible()
    pw.expect_sidebar_date(page, "From", start)
    pw.expect_sidebar_date(page, "To", end)
    expect(pw.calendar(page).locator(".fc-event").first).to_be_attached()
    for title in pw.event_titles(page):
        assert title.split()[0] in ("CPR", "EFAW") and " · A · " in title and not title.endswith("FULL"), title

    pw.open_page(page, app.url + "/Calendar?course=NOPE&from=someday&location=Z")
    expect(page.get_by_text(re.compile("Unknown course '\u2068?NOPE\u2069?'"))).to_be_visible()
    expect(page.get_by_text("is not a date", exact=False)).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"NOPE|someday"))
    expect(pw.calendar(page).locator(".fc-event").first).to_be_attached()


def test_at_phone_width_the_calendar_is_a_bookable_day_list_without_horizontal_scrolling(app_server, new_page, screenshots):
    app = app_server
    page = new_page(phone=True)
    pw.open_page(page, pw.url(app.url, "/Calendar"))
    expect(page.locator(pw.CALENDAR_IFRAME)).to_have_count(0)
    soon = [s for s in app.sessions if app.today <= s.session_date <= app.today + dt.timedelta(days=13)
            and s.status == "scheduled"]
    first_day = min(s.session_date for s in soon)
    expect(page.get_by_role("heading", name=f"{first_day:%A} {first_day.day} {first_day:%B}")).to_be_visible()
    if any(s.remaining == 0 for s in soon):
        expect(page.get_by_text("FULLY BOOKED").first).to_be_visible()
    assert pw.no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "calendar_phone.png")

    page.get_by_role("button", name="Book", exact=True).first.click()
    expect(pw.dialog(page).get_by_role("button", name="Confirm booking")).to_be_visible()
    pw.wait_settled(page)
    assert pw.no_horizontal_scroll(page)
    page.screenshot(path=screenshots / "session_dialog_phone.png")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_screenshots_of_every_page_are_saved(app_server, new_page, screenshots, phone):
    page = new_page(phone=phone)
    suffix = "phone" if phone else "desktop"
    for path, name in (("/", "home"), ("/Calendar", "calendar"), ("/Book", "book")):
        pw.open_page(page, app_server.url + path)
        if name == "calendar" and not phone:
            expect(pw.calendar(page).locator(".fc-event").first).to_be_attached()
        assert pw.no_horizontal_scroll(page), f"{name} scrolls sideways at {suffix} width"
        shot = screenshots / f"{name}_{suffix}.png"
        page.screenshot(path=shot)
        assert shot.stat().st_size > 10_000
    page.get_by_role("button", name="Book", exact=True).first.click()
    expect(pw.dialog(page).get_by_role("button", name="Confirm booking")).to_be_visible()
    pw.wait_settled(page)
    page.screenshot(path=screenshots / f"book_dialog_{suffix}.png")


def test_a_count_on_home_links_into_the_calendar_with_the_matching_filter(app_server, new_page):
    app = app_server
    page = new_page()
    pw.open_page(page, app.url + "/")
    link = page.get_by_role("link", name=re.compile(r"^\d+ full$"))
    full = int(re.search(r"(\d+) full", link.inner_text()).group(1))
    link.click()
    expect(page).to_have_url(re.compile(r"/Calendar\?.*status=full"))
    pw.wait_live(page)
    expect(page.get_by_test_id("stSidebar").get_by_text("Full", exact=True)).to_be_visible()
    pw.expect_sidebar_date(page, "From", app.today)
    pw.expect_sidebar_date(page, "To", app.today + dt.timedelta(days=7))
    if full:
        expect(pw.calendar(page).locator(".fc-event-title", has_text="FULL").first).to_be_attached()
    expect(pw.calendar(page).locator(".fc-event-title", has_text=" left")).to_have_count(0)
