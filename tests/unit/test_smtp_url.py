"""SMTP_URL taken apart (core.config.smtp_server): schemes, ports, STARTTLS, login, mistakes."""

from __future__ import annotations

import pytest

from core.config import smtp_server
from core.errors import ConfigError


def test_an_empty_smtp_url_means_messages_are_kept():
    assert smtp_server("") is None


def test_starttls_login_and_port_come_from_the_url_and_the_password_never_shows_in_its_repr():
    s = smtp_server("smtp://desk%40example.co.uk:p%40ss@mail.example.co.uk:587?starttls=1")
    assert (s.host, s.port, s.starttls, s.tls, s.user, s.password) == (
        "mail.example.co.uk", 587, True, False, "desk@example.co.uk", "p@ss")
    assert "p@ss" not in repr(s)


def test_smtps_is_tls_from_the_start_on_465_by_default_and_plain_smtp_is_on_25():
    assert (smtp_server("smtps://mail.example.co.uk").port, smtp_server("smtps://mail.example.co.uk").tls) == (465, True)
    assert smtp_server("smtp://localhost").port == 25


@pytest.mark.parametrize("raw", ["http://mail.example.co.uk", "mail.example.co.uk:587", "smtp://", "smtp://h:99999"])
def test_a_smtp_url_that_is_not_one_names_the_setting_and_shows_the_form(raw):
    with pytest.raises(ConfigError, match="SMTP_URL") as err:
        smtp_server(raw)
    assert "smtp://" in str(err.value)
