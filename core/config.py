"""Settings from the environment, else `.streamlit/secrets.toml`, else defaults.

DATABASE_URL        any SQLAlchemy URL; default duckdb:///data/availability.duckdb
APP_TIMEZONE        IANA zone of the training sites; default Europe/London
CAPACITY_LIMIT      most places a session may have; default 12
LIVE_POLL_SECONDS   how often open pages ask for changes; default 2
HOLD_MINUTES        how long a hold keeps places for a caller; default 10
APP_NOW             start the app's clock at this time at the sites (2027-02-28T16:30), for a
                    demo or a test run at a chosen date; time runs on from there
REQUALIFY_REMINDER_DAYS  days before a certificate expires that its holder is reminded to
                    requalify, comma-separated; default 90,30
FEED_ALLOWED_ORIGINS  comma-separated origins (https://www.example.co.uk) whose pages may
                    read the feeds from the browser (CORS); none by default
SMTP_URL            where booking e-mails go: smtp://user:pass@host:587?starttls=1 or
                    smtps://user:pass@host:465; none by default (e-mails are kept, shown
                    on the Outbox page)
SMTP_FROM           the e-mails' From: address; default "Course bookings <bookings@localhost>"
PUSH_ALLOWED_ORIGINS  origins besides the page's own host that may open the push link
PUSH_MIN_GAP_SECONDS  a push link sends at most one version this often; default 0.2
PUSH_HEARTBEAT_SECONDS  heartbeat of an idle push link; default 15
FEED_TOKEN          the feeds' token (also taken from Streamlit's secrets: core.auth.feed_token)

Every setting is read here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import urllib.parse
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core import clock
from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "duckdb:///data/availability.duckdb"
DEFAULT_SMTP_FROM = "Course bookings <bookings@localhost>"


@dataclass(frozen=True)
class SmtpServer:
    """SMTP_URL taken apart (core.mail.smtp connects with it)."""

    host: str
    port: int
    tls: bool = False          # smtps://: TLS from the first byte
    starttls: bool = False     # smtp://...?starttls=1: upgrade before login
    user: str | None = None
    password: str | None = None
    timeout: float = 20.0

    def __repr__(self) -> str:  # never a password in a log line
        return f"SmtpServer({self.host}:{self.port}, tls={self.tls}, starttls={self.starttls}, user={self.user!r})"


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: ZoneInfo
    capacity_limit: int
    live_poll_seconds: float
    hold_minutes: float = 10.0
    app_now: dt.datetime | None = None  # naive UTC: the clock starts here (APP_NOW)
    feed_allowed_origins: tuple[str, ...] = ()  # lower case, no trailing slash
    smtp: SmtpServer | None = None              # None: e-mails are kept, not sent
    smtp_from: str = DEFAULT_SMTP_FROM
    push_allowed_origins: tuple[str, ...] = ()  # likewise
    push_min_gap_seconds: float = 0.2
    push_heartbeat_seconds: float = 15.0
    feed_token: str | None = None  # FEED_TOKEN from the environment (the secrets' one: core.auth.feed_token)
    reminder_days: tuple[int, ...] = (90, 30)  # largest first (REQUALIFY_REMINDER_DAYS)


def _secrets() -> dict:
    path = Path(os.environ.get("SECRETS_FILE", PROJECT_ROOT / ".streamlit" / "secrets.toml"))
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from exc


def _setting(name: str, secrets: dict, default: str) -> str:
    value = os.environ.get(name)
    if value is None:
        value = secrets.get(name, secrets.get(name.lower()))
    return default if value in (None, "") else str(value)


def _number(name: str, raw: str, cast, low, high):
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {raw}.")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process. Raises ConfigError naming the bad setting."""
    secrets = _secrets()
    tz_name = _setting("APP_TIMEZONE", secrets, "Europe/London")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"APP_TIMEZONE {tz_name!r} is not a known time zone.") from None
    return Settings(
        database_url=_setting("DATABASE_URL", secrets, DEFAULT_DATABASE_URL),
        timezone=tz,
        capacity_limit=_number("CAPACITY_LIMIT", _setting("CAPACITY_LIMIT", secrets, "12"), int, 1, 1000),
        live_poll_seconds=_number(
            "LIVE_POLL_SECONDS", _setting("LIVE_POLL_SECONDS", secrets, "2"), float, 0.2, 600
        ),
        hold_minutes=_number("HOLD_MINUTES", _setting("HOLD_MINUTES", secrets, "10"), float, 0.05, 24 * 60),
        feed_allowed_origins=_origins(_setting("FEED_ALLOWED_ORIGINS", secrets, ""), "FEED_ALLOWED_ORIGINS"),
        push_allowed_origins=_origins(_setting("PUSH_ALLOWED_ORIGINS", secrets, ""), "PUSH_ALLOWED_ORIGINS"),
        push_min_gap_seconds=_number("PUSH_MIN_GAP_SECONDS", _setting("PUSH_MIN_GAP_SECONDS", secrets, "0.2"),
                                     float, 0.01, 60),
        push_heartbeat_seconds=_number("PUSH_HEARTBEAT_SECONDS", _setting("PUSH_HEARTBEAT_SECONDS", secrets, "15"),
                                       float, 0.01, 3600),
        app_now=_app_now(_setting("APP_NOW", secrets, ""), tz),
        smtp=smtp_server(_setting("SMTP_URL", secrets, "")),
        smtp_from=_setting("SMTP_FROM", secrets, DEFAULT_SMTP_FROM),
        # Streamlit's secrets (which `streamlit run --secrets.files` may point elsewhere) are
        # read by the server through st.secrets; only the environment's token is read here.
        feed_token=os.environ.get("FEED_TOKEN") or None,
        reminder_days=_reminder_days(_setting("REQUALIFY_REMINDER_DAYS", secrets, "90,30")),
    )


def smtp_server(raw: str) -> SmtpServer | None:
    """SMTP_URL (smtp://user:pass@host:587?starttls=1, smtps://host:465) taken apart; None if empty."""
    if not raw:
        return None
    hint = "write it like smtp://user:password@mail.example.co.uk:587?starttls=1 or smtps://user:password@host:465"
    try:
        url = urllib.parse.urlsplit(raw.strip())
        port = url.port
    except ValueError:
        raise ConfigError(f"SMTP_URL is not a URL; {hint}.") from None
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ConfigError(f"SMTP_URL must start smtp:// or smtps:// and name a host; {hint}.")
    query = urllib.parse.parse_qs(url.query)
    flag = (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes")
    unquote = urllib.parse.unquote
    return SmtpServer(
        host=url.hostname, port=port or (465 if url.scheme == "smtps" else 25), tls=url.scheme == "smtps",
        starttls=flag and url.scheme == "smtp", user=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        timeout=_number("SMTP_URL timeout", (query.get("timeout") or ["20"])[0], float, 1, 300),
    )


def _reminder_days(raw: str) -> tuple[int, ...]:
    """'90,30' -> (90, 30): whole days from 1 to 366, largest first, each once."""
    days = {_number("REQUALIFY_REMINDER_DAYS", part.strip(), int, 1, 366) for part in raw.split(",") if part.strip()}
    return tuple(sorted(days, reverse=True))


def _app_now(raw: str, zone: ZoneInfo) -> dt.datetime | None:
    """APP_NOW as naive UTC; a time at the sites unless it carries its own offset."""
    if not raw:
        return None
    try:
        when = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ConfigError(f"APP_NOW must be a date and time like 2027-02-28T16:30, got {raw!r}.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None)


_started_at: list = [None]  # the APP_NOW whose clock is in force


def _clock_from_settings() -> None:
    """Put APP_NOW's clock in force when the setting is (or changes); else the real time."""
    wanted = get_settings().app_now
    if wanted != _started_at[0]:
        _started_at[0] = wanted
        clock.set_default(clock.SystemClock() if wanted is None else clock.ShiftedClock(wanted))


def _origins(raw: str, name: str) -> tuple[str, ...]:
    """'https://a.example, https://b.example/' -> the origins as browsers send them."""
    found = []
    for part in raw.split(","):
        origin = part.strip().rstrip("/").lower()
        if origin and origin != "*" and not re.fullmatch(r"https?://[^/\s?#]+", origin):
            raise ConfigError(f"{name}: {part.strip()!r} is not an origin; "
                              "write scheme and host only, e.g. https://www.example.co.uk.")
        if origin:
            found.append(origin)
    return tuple(dict.fromkeys(found))


def now_local() -> dt.datetime:
    """The wall-clock time at the training sites, naive (no UTC round trip)."""
    return local_from_utc(utc_now())


def local_from_utc(when: dt.datetime) -> dt.datetime:
    """A naive UTC instant as naive wall-clock time at the sites."""
    zone = get_settings().timezone
    return when.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)


def today() -> dt.date:
    return now_local().date()


def utc_now() -> dt.datetime:
    """Timestamps of records (created_at, ...) are stored as naive UTC; from the one clock."""
    _clock_from_settings()
    return clock.utc_now()
