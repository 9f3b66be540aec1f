"""Sign-in and roles: who may open which page and see which buttons (AppTest, in this
process), the rate limit on failed sign-ins, and the password hashes of the user list."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re

import pytest
from streamlit.testing.v1 import AppTest

from core import auth as core_auth
from core import booking
from core.availability import find_sessions
from core.config import today
from core.db import get_engine
from core.passwords import add_hash_password_parser, check_password, hash_password
from tests.actors import STAFF
from tests.e2e.conftest import ROOT
from tests.e2e.seen import seen
from ui import auth

TIMEOUT = 60
PASSWORD = {"sam": "sam-desk-password-1", "mo": "mo-manager-password", "olu": "olu-admin-password!"}
_HASHES = {login: hash_password(pw, rounds=4) for login, pw in PASSWORD.items()}  # quick to check in tests
USERS = {
    "sam": {"name": "Sam Patel", "role": "staff", "password_hash": _HASHES["sam"]},
    "mo": {"name": "Mo Khan", "role": "viewer", "password_hash": _HASHES["mo"]},
    "olu": {"name": "Olu Ade", "role": "admin", "password_hash": _HASHES["olu"]},
}


@pytest.fixture(autouse=True)
def _fresh_limiter():
    auth.LIMITER.reset()
    yield
    auth.LIMITER.reset()


def app(path: str, *, users=USERS) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    if users is not None:
        at.secrets["users"] = users
    return at


def sign_in(at: AppTest, login: str, password: str | None = None) -> AppTest:
    at.text_input(key=auth.SIGNIN_USER).input(login)
    at.text_input(key=auth.SIGNIN_PASSWORD).input(PASSWORD.get(login, "") if password is None else password)
    at.button[[b.label for b in at.button].index("Sign in")].click()
    return at.run()


def texts(at: AppTest) -> str:
    parts = [e.value for kind in (at.markdown, at.info, at.error, at.warning, at.success, at.caption, at.title)
             for e in kind]
    return seen("\n".join(str(p) for p in parts))


# --- configuration and passwords -------------------------------------------------------------


def test_with_no_users_and_no_identity_provider_the_app_is_in_demo_mode():
    assert core_auth.parse_config({}).demo
    assert not core_auth.parse_config({"users": USERS}).demo
    assert not core_auth.parse_config({"auth": {"redirect_uri": "x", "cookie_secret": "y"}}).demo


def test_a_user_without_a_bcrypt_hash_or_a_known_role_cannot_sign_in_and_the_admin_is_told():
    cfg = core_auth.parse_config({"users": {
        "plain": {"name": "P", "role": "staff", "password": "hunter2hunter2"},
        "odd": {"name": "O", "role": "boss", "password_hash": _HASHES["sam"]},
        **USERS}})
    assert set(cfg.users) == {"sam", "mo", "olu"}
    assert any("[users.plain] password_hash is not a bcrypt hash" in p for p in cfg.problems)
    assert any("[users.odd] role must be one of" in p for p in cfg.problems)


def test_a_broken_user_list_never_falls_back_to_demo_mode():
    cfg = core_auth.parse_config({"users": {"x": "not a section"}})
    assert not cfg.demo and not cfg.users


def test_identity_provider_roles_come_from_listed_addresses_and_the_highest_wins():
    cfg = core_auth.parse_config({"auth": {"client_id": "c"}, "roles": {
        "viewer": ["mo@example.co.uk", "@example.co.uk"], "staff": ["Sam@Example.co.uk"], "admin": "olu@example.co.uk"}})
    assert cfg.providers == (None,)
    assert cfg.role_for_email("sam@example.co.uk") == "staff"
    assert cfg.role_for_email("OLU@example.co.uk") == "admin"
    assert cfg.role_for_email("anyone@example.co.uk") == "viewer"
    assert cfg.role_for_email("eve@elsewhere.com") is None
    assert cfg.role_for_email(None) is None


def test_passwords_are_stored_as_bcrypt_hashes_and_checked_against_them():
    made = hash_password("a long enough password", rounds=4)
    assert made.startswith("$2b$04$") and "a long enough password" not in made
    assert check_password("a long enough password", made)
    assert not check_password("a long enough passwort", made)
    assert not check_password("anything", "not-a-hash") and not check_password("anything", None)
    with pytest.raises(Exception, match="at least"):
        hash_password("short")


def test_the_hash_password_command_prints_a_line_for_the_secrets_file(monkeypatch, capsys):
    parser = argparse.ArgumentParser()
    add_hash_password_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["hash-password", "--stdin"])
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    line = args.run(args)
    found = re.fullmatch(r'password_hash = "(\$2b\$12\$.{53})"', line)
    assert found and check_password("correct horse battery", found.group(1))


def test_five_failed_sign_ins_make_that_name_and_client_wait_a_minute():
    clock = [1000.0]
    limiter = core_auth.SignInLimiter(clock=lambda: clock[0])
    keys = ("user:sam", "client:1.2.3.4")
    for n in range(4):
        limiter.failed(*keys)
        assert limiter.wait(*keys) == 0 and limiter.tries_left(*keys) == 4 - n
    limiter.failed(*keys)
    assert limiter.wait("user:sam") == 60 and limiter.wait("client:1.2.3.4") == 60
    assert limiter.wait("user:mo", "client:5.6.7.8") == 0  # others are not held up
    clock[0] += 45
    assert limiter.wait(*keys) == 15
    clock[0] += 15
    assert limiter.wait(*keys) == 0


# --- pages by role ----------------------------------------------------------------------------


def test_nobody_signed_in_sees_a_sign_in_form_and_no_data(demo_db_url, use_database):
    use_database(demo_db_url)
    at = app("Home.py").run()
    assert not at.exception
    assert "Sign in to open this page" in texts(at)
    assert at.text_input(key=auth.SIGNIN_PASSWORD).proto.type == at.text_input(key=auth.SIGNIN_PASSWORD).proto.PASSWORD
    assert not at.dataframe and "live, updated" not in texts(at)
    assert auth.DEMO_BANNER not in texts(at)


def test_a_wrong_password_is_refused_and_says_how_many_tries_are_left(demo_db_url, use_database):
    use_database(demo_db_url)
    at = sign_in(app("Home.py").run(), "sam", "not the password")
    assert "User name or password is wrong. 4 more tries" in texts(at)
    assert not at.dataframe


def test_after_five_failures_even_the_right_password_waits_and_the_wait_is_shown(demo_db_url, use_database):
    use_database(demo_db_url)
    at = app("Home.py").run()
    for _ in range(5):
        at = sign_in(at, "sam", "guessing")
    assert re.search(r"Too many failed sign-ins: wait (59|60) s", texts(at))
    at = sign_in(at, "sam")
    assert re.search(r"Too many failed sign-ins: wait \d+ s", texts(at))
    assert "Signed in as" not in texts(at)


def test_an_unknown_user_name_gets_the_same_answer_as_a_wrong_password(demo_db_url, use_database):
    use_database(demo_db_url)
    at = sign_in(app("Home.py").run(), "nobody", "whatever it is")
    assert "User name or password is wrong." in texts(at)


def test_a_viewer_sees_the_calendar_pages_but_no_booking_buttons(demo_db_url, use_database):
    use_database(demo_db_url)
    at = sign_in(app("Home.py").run(), "mo")
    assert "Signed in as **Mo Khan** (viewer)" in texts(at)
    assert at.dataframe  # the week ahead
    for path in ("pages/1_Calendar.py", "pages/3_Occupancy.py", "pages/5_Exports.py"):
        at.switch_page(path).run()
        assert not at.exception, path
        assert "this page needs" not in texts(at), path
    at.query_params["view"] = "list"
    at.switch_page("pages/1_Calendar.py").run()
    labels = {b.label for b in at.button if b.key and b.key.startswith("book_btn_")}
    assert labels == {"Details"}  # no "Book" button for a viewer
    for path, needs in (("pages/2_Book.py", "staff"), ("pages/4_Schedule.py", "admin"), ("pages/6_Audit.py", "admin")):
        at.switch_page(path).run()
        assert f"Mo Khan is signed in as viewer; this page needs {'an' if needs == 'admin' else 'a'} {needs} account" in texts(at), path
        assert not at.dataframe and not at.tabs


def test_a_viewer_opening_a_session_sees_it_without_the_booking_form_or_cancel_buttons(writable_demo_db_url, use_database):
    use_database(writable_demo_db_url)
    engine = get_engine(writable_demo_db_url)
    session = next(s for s in find_sessions(engine, today(), today() + dt.timedelta(days=30))
                   if s.state == "available")
    booking.book(engine, session.id, contact_name="Ann Lee", contact_email="ann@example.com", actor=STAFF)
    script = f"""
import streamlit as st
from ui.auth import require_role
from ui import data, live
from ui.booking_form import booking_form
from ui.bookings_list import bookings_list
require_role("viewer")
status = live.poll()
s = data.session({str(session.id)!r}, status.version)
booking_form(s, status.version)
bookings_list(s, status.version)
"""
    at = AppTest.from_string(script, default_timeout=TIMEOUT)
    at.secrets["users"] = USERS
    at = sign_in(at.run(), "mo")
    assert "Booking needs a staff account" in texts(at)
    assert not [b for b in at.button if b.label in ("Confirm booking", "Cancel booking", "Move booking")]
    assert any("Ann Lee" in e.label for e in at.expander)
    at.button(key=auth.SIGNOUT).click().run()
    at = sign_in(at, "sam")
    assert "Signed in as **Sam Patel** (staff)" in texts(at)
    assert {"Confirm booking", "Cancel booking", "Move booking"} <= {b.label for b in at.button}


def test_staff_may_book_but_not_change_the_schedule_and_admins_may_do_both(demo_db_url, use_database):
    use_database(demo_db_url)
    at = sign_in(app("Home.py").run(), "sam")
    at.switch_page("pages/2_Book.py").run()
    assert not at.exception
    assert "Book places" in texts(at) and any(b.label == "Book" for b in at.button)
    at.switch_page("pages/4_Schedule.py").run()
    assert "Sam Patel is signed in as staff; this page needs an admin account" in texts(at)
    at.button(key=auth.SIGNOUT).click().run()
    assert "Sign in to open this page" in texts(at)
    at = sign_in(at, "olu")
    assert not at.exception and at.tabs  # the schedule's tabs
    at.switch_page("pages/6_Audit.py").run()
    assert not at.exception and at.dataframe


def test_in_demo_mode_every_page_shows_the_banner_and_writes_as_an_admin_named_in_the_sidebar(demo_db_url, use_database):
    use_database(demo_db_url)
    for path in ("Home.py", "pages/1_Calendar.py", "pages/2_Book.py", "pages/3_Occupancy.py",
                 "pages/4_Schedule.py", "pages/5_Exports.py", "pages/6_Audit.py"):
        at = app(path, users=None).run()
        assert not at.exception, path
        assert auth.DEMO_BANNER in [w.value for w in at.warning], path
        assert at.sidebar.text_input(key="actor").label == "Your name (for the audit trail)"
    at.sidebar.text_input(key="actor").input("Jo at the desk").run()
    assert at.session_state["actor"] == "Jo at the desk"
