"""The sign-in rules without Streamlit (core/auth.py): whether the feeds want a token."""

from __future__ import annotations

from core.auth import feed_token


def test_the_feeds_want_no_token_when_neither_sign_in_nor_a_token_is_configured():
    assert feed_token({}) == (False, None)


def test_the_feeds_want_the_token_set_in_the_environment_before_the_one_in_the_secrets():
    assert feed_token({"FEED_TOKEN": "from-secrets"}, "from-env") == (True, "from-env")
    assert feed_token({"FEED_TOKEN": "from-secrets"}) == (True, "from-secrets")
    assert feed_token({"feed_token": 1234}) == (True, "1234")


def test_with_sign_in_configured_the_feeds_want_a_token_even_when_none_is_set():
    assert feed_token({"users": {}}) == (True, None)
    assert feed_token({"auth": {"client_id": "c", "client_secret": "s"}}) == (True, None)
