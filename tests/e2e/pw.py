"""Small Playwright helpers for the Streamlit pages (no fixed sleeps: every wait is on a condition)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from core.models import Session

CALENDAR_IFRAME = "iframe[title='streamlit_calendar.calendar']"


def expected_title(s: Session, remaining: int | None = None) -> str:
    """What the calendar must say for a session, written out independently of the app."""
    left = s.remaining if remaining is None else remaining
    places = "FULL" if left <= 0 else (f"only {left} left" if left <= 3 else f"{left} left")
    return f"{s.short_code} {s.start_time:%H:%M} · {s.location[-1]} · {places}"


def url(base: str, path: str, **query: object) -> str:
    query = {k: (v.isoformat() if isinstance(v, dt.date) else str(v)) for k, v in query.items()}
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def wait_settled(page: Page) -> None:
    """Every widget has replaced its loading placeholder."""
    expect(page.locator("[data-testid=stSkeleton], [data-testid=stSkeletonElement]")).to_have_count(0)


def wait_live(page: Page) -> None:
    """The page has data ('live, updated ...') and every widget is drawn."""
    expect(page.get_by_text("live, updated").first).to_be_visible()
    wait_settled(page)


def open_page(page: Page, address: str) -> None:
    page.goto(address)
    wait_live(page)


def calendar(page: Page):
    return page.frame_locator(CALENDAR_IFRAME)


def open_calendar(page: Page, address: str) -> None:
    open_page(page, address)
    expect(calendar(page).locator(".fc-toolbar-title")).to_be_visible()


def event(page: Page, text: str):
    return calendar(page).locator(".fc-event", has_text=text)


def event_titles(page: Page) -> list[str]:
    """Titles of every event the calendar holds (including those behind '+n more')."""
    return [t.strip() for t in calendar(page).locator(".fc-event-title").all_text_contents()]


def switch_view(page: Page, name: str) -> None:
    """Month / Week / Day / List from the calendar's own toolbar."""
    button = calendar(page).get_by_role("button", name=name, exact=True)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")


def dialog(page: Page):
    return page.get_by_role("dialog")


def fill_booking(page: Page, *, name: str, email: str, seats: int, company: str = "") -> None:
    box = dialog(page)
    box.get_by_label("Contact name *").fill(name)
    box.get_by_label("E-mail *").fill(email)
    if company:
        box.get_by_label("Company").fill(company)
    box.get_by_label("Places *", exact=False).fill(str(seats))


def confirm(page: Page) -> None:
    dialog(page).get_by_role("button", name="Confirm booking").click()


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate(
        "() => [document.documentElement, document.body, ...document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stAppViewContainer], [data-testid=stMainBlockContainer]')]"
        ".every(el => el.scrollWidth <= el.clientWidth + 1)"
    )


def pick_multiselect(page: Page, label: str, option: str) -> None:
    """Choose `option` in the sidebar multiselect labelled `label`."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text=label)
    box.locator("input").click()
    wanted = page.get_by_role("option", name=option, exact=True)
    if not wanted.is_visible():  # focus came back from another list: the click may not open it
        page.keyboard.press("ArrowDown")
    wanted.click()
    page.keyboard.press("Escape")


def set_sidebar_date(page: Page, label: str, day: dt.date) -> None:
    """Type a date into the sidebar's date field (day, month and year segments)."""
    side = page.get_by_test_id("stSidebar")
    side.get_by_role("spinbutton", name=f"day, {label}").click()
    page.keyboard.type(f"{day:%d%m%Y}")
    page.keyboard.press("Escape")  # close the date picker; leaving the field commits the value
    side.get_by_role("heading", name="Filters").click()


def expect_sidebar_date(page: Page, label: str, day: dt.date) -> None:
    side = page.get_by_test_id("stSidebar")
    for part, value in (("day", day.day), ("month", day.month), ("year", day.year)):
        expect(side.get_by_role("spinbutton", name=f"{part}, {label}")).to_have_attribute("aria-valuenow", str(value))


def mark_calendar(page: Page) -> None:
    """Tag the calendar's DOM so that a remount (new iframe or new FullCalendar) shows."""
    page.locator(CALENDAR_IFRAME).evaluate("f => { f.dataset.kept = '1'; }")
    calendar(page).locator(".fc").first.evaluate("el => { el.dataset.kept = '1'; }")


def calendar_kept(page: Page) -> bool:
    same_iframe = page.locator(CALENDAR_IFRAME).evaluate("f => f.dataset.kept === '1'")
    same_grid = calendar(page).locator(".fc").first.evaluate("el => el.dataset.kept === '1'")
    return same_iframe and same_grid
