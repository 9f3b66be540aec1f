"""Every page through Streamlit's AppTest, in this process, against a DuckDB file of its own."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from streamlit.testing.v1 import AppTest

from core import booking
from core.availability import alternatives, find_sessions, move_targets
from core.config import today
from core.db import get_engine
from tests.e2e.conftest import ROOT
from tests.e2e.seen import seen
from ui import keys as K
from tests.actors import STAFF

PAGES = ("Home.py", "pages/1_Calendar.py", "pages/2_Book.py")
TIMEOUT = 30


def run_page(path: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def listed_session_ids(at: AppTest, where: str) -> set[str]:
    prefix = f"book_btn_{where}_"
    return {b.key.removeprefix(prefix) for b in at.button if b.key and b.key.startswith(prefix)}


def sessions_by_id(url: str, days: int = 40) -> dict[str, object]:
    found = find_sessions(get_engine(url), today() - dt.timedelta(days=1), today() + dt.timedelta(days=days),
                          include_cancelled=True)
    return {str(s.id): s for s in found}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_runs_without_exceptions_on_an_empty_database(path, empty_db_url, use_database):
    use_database(empty_db_url)
    at = run_page(path)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_runs_without_exceptions_on_demo_data(path, demo_db_url, use_database):
    use_database(demo_db_url)
    at = run_page(path)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("live, updated" in c.value for c in at.caption)


def test_home_counts_the_week_ahead_and_links_into_the_calendar(demo_db_url, use_database):
    use_database(demo_db_url)
    week = [s for s in sessions_by_id(demo_db_url, days=7).values()
            if s.status == "scheduled" and today() <= s.session_date <= today() + dt.timedelta(days=7)]
    at = run_page("Home.py")
    tiles = next(h.value for h in at.html if 'class="tiles"' in h.value)
    counts = dict(re.findall(r'">([^<]+)</div><div class="tile-value"[^>]*>(\d+)<', tiles))
    assert counts == {
        "Sessions": str(len(week)),
        "Places left": str(sum(s.remaining for s in week)),
        "Full": str(sum(s.remaining == 0 for s in week)),
        "Almost full (3 or fewer)": str(sum(0 < s.remaining <= 3 for s in week)),
    }
    links = {link.label: link for link in at.get("page_link")}
    assert any(label.endswith(" full") for label in links)


def test_the_compact_list_lists_exactly_the_sessions_the_url_filters_ask_for(demo_db_url, use_database):
    use_database(demo_db_url)
    known = sessions_by_id(demo_db_url)
    everything = listed_session_ids(run_page("pages/1_Calendar.py", view="list"), "cal")
    assert everything, "the demo data has sessions in the next two weeks"

    narrowed = listed_session_ids(run_page("pages/1_Calendar.py", view="list", course="EFAW", location="B"), "cal")
    assert narrowed and narrowed < everything
    assert {(known[i].short_code, known[i].location) for i in narrowed} == {("EFAW", "Location B")}

    full = listed_session_ids(run_page("pages/1_Calendar.py", view="list", status="full"), "cal")
    assert full and all(known[i].remaining == 0 for i in full)

    day = min(known[i].session_date for i in everything if known[i].session_date > today())
    one_day = listed_session_ids(run_page("pages/1_Calendar.py", view="list", **{"from": day.isoformat(),
                                                                                 "to": day.isoformat()}), "cal")
    assert one_day and all(known[i].session_date == day for i in one_day)


def test_changing_a_sidebar_filter_changes_the_list_and_the_url(demo_db_url, use_database):
    use_database(demo_db_url)
    known = sessions_by_id(demo_db_url)
    at = run_page("pages/2_Book.py")
    before = listed_session_ids(at, "book")
    at.multiselect(key=K.F_LOCATIONS).set_value(["Location A"]).run()
    after = listed_session_ids(at, "book")
    assert after and after < before
    assert {known[i].location for i in after} == {"Location A"}
    assert at.query_params["location"] in ("A", ["A"])
    at.multiselect(key=K.F_COURSES).set_value(["CPR and AED"]).run()
    assert {known[i].short_code for i in listed_session_ids(at, "book")} <= {"CPR"}
    assert at.query_params["course"] in ("CPR", ["CPR"])


def test_garbage_in_the_url_falls_back_to_the_defaults_with_a_notice(demo_db_url, use_database):
    use_database(demo_db_url)
    at = run_page("pages/1_Calendar.py", view="sideways", course="NOPE", status="half", location="C",
                  **{"from": "2025-13-45", "cancelled": "maybe"})
    assert not at.exception
    notices = " ".join(seen(w.value) for w in at.warning)
    for words in ("'NOPE'", "'half'", "'C'", "'2025-13-45'", "cancelled=maybe", "view=sideways"):
        assert words in notices
    assert at.multiselect(key=K.F_COURSES).value == []
    assert at.date_input(key=K.F_FROM).value is None
    assert not any(v in str(at.query_params) for v in ("NOPE", "half", "2025-13-45"))


# --- the booking form, rendered on its own -------------------------------------------------------


def _form_script(session_id: str) -> None:
    from ui import data, live
    from ui.booking_form import booking_form
    from ui.bookings_list import bookings_list

    status = live.poll()
    session = data.session(session_id, status.version)
    booking_form(session, status.version)
    bookings_list(session, status.version)


def _form(session) -> AppTest:
    return AppTest.from_function(_form_script, args=(str(session.id),), default_timeout=TIMEOUT).run()


def _fill(at: AppTest, session, **values) -> AppTest:
    for field, value in values.items():
        widget = at.number_input(key=K.form_field(session.id, field)) if field == "seats" else (
            at.text_area(key=K.form_field(session.id, field)) if field == "attendees"
            else at.text_input(key=K.form_field(session.id, field)))
        widget.set_value(value)
    return at


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Confirm booking").click()  # keyed, found by its label
    return at.run()


def _error_after(at: AppTest, widget_key: str) -> str | None:
    """The text of an error shown right under the widget with that key, if any."""
    flat = list(at.main)  # depth first, in screen order
    for i, node in enumerate(flat):
        if getattr(node, "key", None) == widget_key:
            following = flat[i + 1] if i + 1 < len(flat) else None
            return seen(following.value) if following is not None and following.type == "error" else None
    raise AssertionError(f"no widget {widget_key}")


@pytest.fixture
def bookable(writable_demo_db_url, use_database):
    """A future session with at least 4 places left, on a database of this test."""
    use_database(writable_demo_db_url)
    found = find_sessions(get_engine(writable_demo_db_url), today() + dt.timedelta(days=2),
                          today() + dt.timedelta(days=60), availability=["available"])
    return found[0]


def test_each_core_error_of_the_booking_form_is_shown_next_to_its_field(bookable):
    at = _form(bookable)
    _submit(at)
    assert _error_after(at, K.form_field(bookable.id, "contact_name")) == "Contact name is required."

    _fill(at, bookable, contact_name="Dana Scully", contact_email="not-an-address")
    _submit(at)
    assert "not a valid e-mail address" in _error_after(at, K.form_field(bookable.id, "contact_email"))
    assert _error_after(at, K.form_field(bookable.id, "contact_name")) is None

    _fill(at, bookable, contact_email="dana@example.co.uk", contact_phone="call me")
    _submit(at)
    assert "is not a phone number" in _error_after(at, K.form_field(bookable.id, "contact_phone"))

    _fill(at, bookable, contact_phone="", seats=2, attendees="One\nTwo\nThree")
    _submit(at)
    assert "3 attendee names given for 2 places" in _error_after(at, K.form_field(bookable.id, "attendees"))
    assert not at.exception


def test_a_double_submit_books_once_and_shows_the_same_reference(bookable, writable_demo_db_url):
    at = _fill(_form(bookable), bookable, contact_name="Fox Mulder", contact_email="fox@example.co.uk", seats=2)
    details = {k: at.text_input(key=K.form_field(bookable.id, k)).value for k in ("contact_name", "contact_email")}
    _submit(at)
    first = next(seen(s.value) for s in at.success if "Reference" in s.value)
    # The same form submitted again with the same details (a double click, a resubmit).
    _fill(at, bookable, seats=2, **details)
    _submit(at)
    second = next(seen(s.value) for s in at.success if "Reference" in s.value)
    assert first == second
    made = [b for b in booking.list_bookings(get_engine(writable_demo_db_url), bookable.id)
            if b.contact_email == "fox@example.co.uk"]
    assert len(made) == 1 and made[0].seats == 2 and made[0].reference in first
    # A new form instance after the success books anew.
    _fill(at, bookable, contact_name="Fox Mulder", contact_email="fox2@example.co.uk", seats=1)
    _submit(at)
    third = next(seen(s.value) for s in at.success if "Reference" in s.value)
    assert third != first


def test_when_the_session_filled_meanwhile_the_form_says_so_and_books_an_alternative_in_one_click(bookable, writable_demo_db_url):
    engine = get_engine(writable_demo_db_url)
    at = _fill(_form(bookable), bookable, contact_name="Walter Skinner", contact_email="walter@example.co.uk", seats=2)
    # Someone else takes all but one place while the form is open.
    booking.book(engine, bookable.id, contact_name="Quick", contact_email="quick@example.co.uk",
                 seats=bookable.remaining - 1, idempotency_key=uuid.uuid4().hex, actor=STAFF)
    _submit(at)
    assert any("Only 1 place left" in seen(e.value) for e in at.error)
    offers = [b for b in at.button if b.label.startswith("Book here:")]
    assert offers and all(bookable.course_type in b.label for b in offers)
    offers[0].click()
    at.run()
    done = next(seen(s.value) for s in at.success if "Reference" in s.value)
    assert "Booked 2 places on" in done
    moved_to = next(b for b in booking.list_bookings(engine, offers[0].key.rsplit("_", 1)[1])
                    if b.contact_email == "walter@example.co.uk")
    assert moved_to.seats == 2 and moved_to.reference in done


def test_a_booking_can_be_cancelled_and_moved_from_the_session_detail(bookable, writable_demo_db_url):
    engine = get_engine(writable_demo_db_url)
    one = booking.book(engine, bookable.id, contact_name="Cancel Me", contact_email="c@example.co.uk", actor=STAFF)
    two = booking.book(engine, bookable.id, contact_name="Move Me", contact_email="m@example.co.uk", actor=STAFF)
    at = _form(bookable)
    at.checkbox(key=K.booking_action(one.id, "sure")).check().run()
    at.button(key=K.booking_action(one.id, "cancel")).click().run()
    assert any(f"Booking {one.reference} cancelled" in seen(s.value) for s in at.success)
    assert booking.get_booking(engine, one.id).status == "cancelled"

    target = move_targets(engine, bookable.id, seats=1)[0]  # the first of the Move to options
    at.selectbox(key=K.booking_action(two.id, "move_to")).select(str(target.id)).run()
    at.button(key=K.booking_action(two.id, "move")).click().run()
    assert any(f"Booking {two.reference} moved to" in seen(s.value) for s in at.success)
    assert booking.get_booking(engine, two.id).session_id == target.id
    assert not at.exception


def test_when_the_database_is_away_the_page_keeps_its_data_says_reconnecting_and_recovers(demo_db_url, use_database, monkeypatch):
    use_database(demo_db_url)
    at = run_page("pages/1_Calendar.py", view="list")
    listed = listed_session_ids(at, "cal")
    assert listed and any("live, updated" in c.value for c in at.caption)

    def unreachable(engine):
        raise ConnectionError("connection refused")

    with monkeypatch.context() as away:
        away.setattr("core.changes.latest_version", unreachable)
        at.run()
        assert not at.exception
        assert any(re.search(r"reconnecting\*\*, data from \d\d:\d\d$", c.value) for c in at.caption)
        assert listed_session_ids(at, "cal") == listed
    at.run()
    assert any("live, updated" in c.value for c in at.caption)
    assert not any("reconnecting" in c.value for c in at.caption)


# --- what the calendar component is given ----------------------------------------------------


def calendar_args(at: AppTest) -> tuple[str, dict]:
    """The calendar component's arguments, as sent to the browser (bytes and parsed)."""
    component = next(n for n in at.main if n.type == "component_instance")
    return component.proto.json_args, json.loads(component.proto.json_args)


def test_the_calendar_gets_byte_identical_arguments_until_something_changes(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    engine = get_engine(writable_demo_db_url)
    at = run_page("pages/1_Calendar.py")
    first, parsed = calendar_args(at)
    assert parsed["key"].startswith(K.CALENDAR) and parsed["options"]["height"] == "auto"  # every session shown
    at.run()
    assert calendar_args(at)[0] == first  # a refresh with no change: the component is left alone

    target = next(s for s in find_sessions(engine, today() + dt.timedelta(days=1), today() + dt.timedelta(days=9),
                                           availability=["available"]))
    booking.book(engine, target.id, contact_name="Ana", contact_email="ana@example.co.uk", actor=STAFF)
    at.run()
    changed, now = calendar_args(at)
    assert changed != first
    before = {e["id"]: e for e in parsed["events"]}
    after = {e["id"]: e for e in now["events"]}
    assert before.keys() == after.keys()
    assert [i for i in after if after[i] != before[i]] == [str(target.id)]
    assert after[str(target.id)]["title"].endswith(f"{target.remaining - 1} left")
    assert now["options"] == parsed["options"]
    at.run()
    assert calendar_args(at)[0] == changed


def test_cancelled_sessions_are_hidden_unless_asked_for_and_then_struck_through(demo_db_url, use_database):
    use_database(demo_db_url)
    cancelled = next(s for s in find_sessions(get_engine(demo_db_url), today(), today() + dt.timedelta(days=120),
                                              include_cancelled=True) if s.status == "cancelled")
    day = {"from": cancelled.session_date.isoformat(), "to": cancelled.session_date.isoformat()}
    hidden = calendar_args(run_page("pages/1_Calendar.py", **day))[1]["events"]
    assert str(cancelled.id) not in {e["id"] for e in hidden}
    shown = {e["id"]: e for e in calendar_args(run_page("pages/1_Calendar.py", cancelled="1", **day))[1]["events"]}
    event = shown[str(cancelled.id)]
    assert event["title"].endswith("CANCELLED") and "ses-cancelled" in event["classNames"]


def test_every_calendar_event_says_its_state_in_words_not_only_in_colour(demo_db_url, use_database):
    use_database(demo_db_url)
    events = calendar_args(run_page("pages/1_Calendar.py"))[1]["events"]
    known = sessions_by_id(demo_db_url, days=45)
    assert events
    for event in events:
        s = known.get(event["id"])
        if s is None or s.status != "scheduled":
            continue
        words = {"full": "FULL", "almost_full": f"only {s.remaining} left", "available": f"{s.remaining} left"}[s.state]
        assert event["title"] == f"{s.short_code} {s.start_time:%H:%M} · {s.location[-1]} · {words}"
        assert f"ses-{s.state.replace('_', '-')}" in event["classNames"]


def test_clicking_a_session_in_the_calendar_opens_its_detail_once(demo_db_url, use_database):
    use_database(demo_db_url)
    at = run_page("pages/1_Calendar.py")
    key, events = calendar_args(at)[1]["key"], calendar_args(at)[1]["events"]
    clicked = next(e for e in events if "ses-available" in e["classNames"])
    at.session_state[key] = {"callback": "eventClick", "eventClick": {"event": {"id": clicked["id"]}, "view": {}}}
    at.run()
    opened = [b for b in at.button if b.label == "Confirm booking" and clicked["id"] in (b.key or "")]
    assert opened, "the session's booking form is shown"
    at.run()  # the same (sticky) value again, as on every poll: the dialog is not opened again
    assert not [b for b in at.button if b.label == "Confirm booking"]
