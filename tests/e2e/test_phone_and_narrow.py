"""The app at the widths people use it: a phone (390 x 844, a phone browser), a desktop
window made narrow (600 x 900, a desktop browser) and a wide desk (1440 x 900).

The layout follows the width the page really has; the calendar's list shows the chosen
dates and pages by week; a busy day shows every session's places without a popover; the
calendar is used by keyboard; nothing is fetched from another site.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from playwright.sync_api import expect

from tests.e2e import pw
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 900}


def _scheduled_between(app, first: dt.date, last: dt.date) -> list:
    return [s for s in app.sessions if s.status == "scheduled" and first <= s.session_date <= last]


def _window_line(first: dt.date, last: dt.date, count: int) -> re.Pattern:
    return re.compile(rf"^{first.day} {first:%b} to {last.day} {last:%b}: {count} sessions?")


PLACES = re.compile(r" · (only )?\d+ left| · FULL")


def _label(s) -> str:
    """The calendar's label of a session without its places ("EFAW 09:00 · A")."""
    return pw.expected_title(s).rsplit(" · ", 1)[0]


def _busiest_day(app) -> tuple[dt.date, list]:
    ahead = sorted((s for s in app.sessions if s.status == "scheduled" and s.session_date > app.today),
                   key=lambda s: s.session_date)
    day, group = max(((d, list(g)) for d, g in itertools.groupby(ahead, key=lambda s: s.session_date)),
                     key=lambda item: (len(item[1]), -item[0].toordinal()))
    return day, group


def test_the_phone_list_starts_at_the_chosen_from_date_and_pages_a_week_at_a_time(app_server, new_page):
    app = app_server
    start = app.today + dt.timedelta(days=22)
    page = new_page(phone=True)
    pw.open_page(page, pw.url(app.url, "/Calendar", **{"from": start}))
    expect(page.locator(pw.CALENDAR_IFRAME)).to_have_count(0)

    last = start + dt.timedelta(days=13)
    expect(page.get_by_text(_window_line(start, last, len(_scheduled_between(app, start, last))))).to_be_visible()
    first_day = min(s.session_date for s in _scheduled_between(app, start, last))
    expect(page.get_by_role("heading", name=f"{first_day:%A} {first_day.day} {first_day:%B}")).to_be_visible()
    expect(page.get_by_role("button", name="Previous week").first).to_be_disabled()  # From is where it starts
    assert pw.no_horizontal_scroll(page)

    page.get_by_role("button", name="Next week").first.click()
    later, later_last = start + dt.timedelta(days=7), last + dt.timedelta(days=7)
    expect(page.get_by_text(_window_line(later, later_last, len(_scheduled_between(app, later, later_last))))).to_be_visible()
    page.get_by_role("button", name="Previous week").first.click()
    expect(page.get_by_text(_window_line(start, last, len(_scheduled_between(app, start, last))))).to_be_visible()


def test_the_compact_list_on_a_desktop_shows_the_chosen_dates_up_to_the_to_date(app_server, new_page):
    app = app_server
    start = app.today + dt.timedelta(days=30)
    end = start + dt.timedelta(days=23)  # a week forward, then the rest of the way to To (10 days)
    page = new_page(viewport=WIDE)
    pw.open_page(page, pw.url(app.url, "/Calendar", view="list", **{"from": start, "to": end}))
    expect(page.locator(pw.CALENDAR_IFRAME)).to_have_count(0)
    last = start + dt.timedelta(days=13)
    expect(page.get_by_text(_window_line(start, last, len(_scheduled_between(app, start, last))))).to_be_visible()

    page.get_by_role("button", name="Next week").first.click()
    week, week_last = start + dt.timedelta(days=7), last + dt.timedelta(days=7)
    expect(page.get_by_text(_window_line(week, week_last, len(_scheduled_between(app, week, week_last))))).to_be_visible()
    page.get_by_role("button", name="Next week").first.click()  # a week would pass To: stops at To
    tail = end - dt.timedelta(days=13)
    expect(page.get_by_text(_window_line(tail, end, len(_scheduled_between(app, tail, end))))).to_be_visible()
    expect(page.get_by_role("button", name="Next week").first).to_be_disabled()


@pytest.mark.parametrize("width", [390, 600], ids=["390px", "600px"])
def test_a_desktop_browser_at_phone_width_gets_the_list_by_day_with_the_places_left(app_server, new_page, width):
    app = app_server
    page = new_page(viewport={"width": width, "height": 900})  # a desktop browser's User-Agent
    pw.open_page(page, app.url + "/")
    soon = _scheduled_between(app, app.today, app.today + dt.timedelta(days=7))
    day = min(s.session_date for s in soon)
    expect(page.get_by_role("heading", name=f"{day:%A} {day.day} {day:%B}")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    expect(page.locator(".session-card .places").first).to_have_text(re.compile(r"left|BOOKED|FREE|booked|CANCELLED"))
    assert pw.no_horizontal_scroll(page)

    pw.open_page(page, app.url + "/Calendar")
    expect(page.locator(pw.CALENDAR_IFRAME)).to_have_count(0)
    expect(page.get_by_role("button", name="Next week").first).to_be_visible()

    page.set_viewport_size(WIDE)  # the window made wide again: the month grid
    expect(pw.calendar(page).locator(".fc-event").first).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"view="))


def test_an_open_session_window_stays_open_when_the_window_turns_narrow_and_the_list_comes_after(app_server, new_page):
    page = new_page(viewport=WIDE)
    pw.open_calendar(page, app_server.url + "/Calendar")
    pw.calendar(page).locator(".fc-event").first.click()
    expect(pw.dialog(page)).to_be_visible()
    stamp = page.get_by_text("live, updated").first.inner_text()
    page.set_viewport_size(PHONE)  # a phone turned upright, a window made narrow
    expect(page.get_by_text("live, updated").first).not_to_have_text(stamp)  # the page has run again since
    expect(pw.dialog(page)).to_be_visible()
    expect(page.get_by_role("button", name="Next week")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(pw.dialog(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Next week").first).to_be_visible()  # now the list by day
    expect(page.locator(pw.CALENDAR_IFRAME)).to_have_count(0)


def test_the_occupancy_table_on_a_phone_shows_the_places_left_without_scrolling_sideways(app_server, new_page):
    page = new_page(phone=True)
    pw.open_page(page, app_server.url + "/Occupancy")
    headers = page.get_by_test_id("stDataFrame").locator("[role=columnheader]")
    expect(headers).to_have_text(["Date", "Places left", "Course"])


def test_on_a_busy_day_every_session_shows_its_places_in_month_and_week_view(app_server, new_page):
    app = app_server
    day, sessions = _busiest_day(app)
    assert len(sessions) >= 4, "the demo data has busy days"
    page = new_page(viewport=WIDE)
    pw.open_calendar(page, pw.url(app.url, "/Calendar", **{"from": day, "to": day}))
    cell = pw.calendar(page).locator(f"td.fc-daygrid-day[data-date='{day.isoformat()}']")
    expect(cell.locator(".fc-event")).to_have_count(len(sessions))
    expect(pw.calendar(page).locator(".fc-more-link, .fc-daygrid-more-link")).to_have_count(0)
    for s in sessions:  # other tests may book meanwhile: the session's label, then its places
        expect(cell.locator(".fc-event-title", has_text=_label(s))).to_have_text(PLACES)
    _assert_frame_shows_the_whole_calendar(page)

    pw.switch_view(page, "Week")
    titles = pw.calendar(page).locator(".fc-event-title")
    expect(titles).to_have_count(len(sessions))
    for title in titles.all():  # each label whole: not cut to "FAW 09: · A · FUL"
        assert title.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1"), \
            title.inner_text()
    shown = sorted(t.strip() for t in titles.all_inner_texts())
    assert [t.rsplit(" · ", 1)[0] for t in shown] == sorted(_label(s) for s in sessions)
    assert all(PLACES.search(t) for t in shown), shown
    _assert_frame_shows_the_whole_calendar(page)


def _assert_frame_shows_the_whole_calendar(page) -> None:
    """The frame grows to the calendar's height (the wait fails when it stays cut off)."""
    page.wait_for_function(
        """sel => { const f = document.querySelector(sel); const cal = f && f.contentDocument.querySelector('.fc');
                    return cal && f.getBoundingClientRect().height >= cal.getBoundingClientRect().bottom; }""",
        arg=pw.CALENDAR_IFRAME)


def test_a_session_in_the_calendar_is_reached_with_tab_and_opened_with_enter(app_server, new_page):
    app = app_server
    day, sessions = _busiest_day(app)
    page = new_page(viewport=WIDE)
    pw.open_calendar(page, pw.url(app.url, "/Calendar", **{"from": day, "to": day}))
    pw.calendar(page).locator(".fc-prev-button").focus()
    frame = page.locator(pw.CALENDAR_IFRAME).element_handle().content_frame()
    focused = ""
    for _ in range(60):  # the toolbar, then day numbers (links too): Tab on until a session has the focus
        page.keyboard.press("Tab")
        focused = frame.evaluate("() => { const e = document.activeElement;"
                                 " return e && e.classList.contains('fc-event') ? e.textContent.trim() : ''; }")
        if focused:
            break
    chosen = next(s for s in sessions if focused.startswith(_label(s) + " · "))
    page.keyboard.press("Enter")
    expect(pw.dialog(page)).to_be_visible()
    expect(pw.dialog(page).get_by_text(chosen.course_type).first).to_be_visible()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_demo_banner_is_below_the_header_bar_and_no_page_fetches_from_another_site(app_server, new_page, phone):
    page = new_page(phone=phone, viewport=None if phone else WIDE)
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith((app_server.url, "data:", "blob:")) else None)
    for path in ("/", "/Calendar", "/Book", "/Occupancy"):
        pw.open_page(page, app_server.url + path)
        banner = page.get_by_test_id("stAlert").filter(has_text="Local demo mode")
        # what is drawn at the banner's first line is the banner, not the header bar over it
        on_top = banner.evaluate("b => { const r = b.getBoundingClientRect();"
                                 " return b.contains(document.elementFromPoint(r.left + 20, r.top + 6)); }")
        assert on_top, f"{path}: the demo banner is under the header bar"
    assert page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href").startswith(("data:", app_server.url))
    assert not elsewhere, f"fetched from another site: {elsewhere}"


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_chart_legends_never_cover_the_axis_titles_or_the_dates(app_server, new_page, phone):
    page = new_page(phone=phone, viewport=None if phone else WIDE)
    pw.open_page(page, app_server.url + "/Occupancy")
    charts = page.locator(".js-plotly-plot")
    expect(charts).to_have_count(6)  # five occupancy charts and the expiring certificates beside the places scheduled
    overlaps = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(plot => {
        const legend = plot.querySelector('.legend');
        if (!legend) return [];
        const a = legend.getBoundingClientRect();
        return [...plot.querySelectorAll('.g-xtitle, .g-ytitle, .xtick, .gtitle')].filter(el => {
            const b = el.getBoundingClientRect();
            return b.width && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        }).map(el => el.textContent);
    })""")
    assert not overlaps, f"legends cover: {overlaps}"
