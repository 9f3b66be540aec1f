"""Sign-in settings and their rules, free of Streamlit: the secrets parsed into who may sign
in and with which role, the limit on failed sign-ins, and whether the feeds want a token.
The widgets that use them are in ui/auth.py; server.py asks `feed_token` about the feeds.

Three ways the app can run, chosen by the secrets (`.streamlit/secrets.toml`):

* OpenID Connect: an `[auth]` section (Streamlit's `st.login`, see its docs for the
  provider settings). Roles come from e-mail addresses listed under `[roles]`:

      [roles]
      admin  = ["olu@example.co.uk"]
      staff  = ["sam@example.co.uk", "@example.co.uk"]   # "@domain": everyone there
      viewer = ["mo@example.co.uk"]

  A signed-in address that is not listed may not open anything.

* A local user list for small sites, with bcrypt hashes (`python -m core hash-password`):

      [users.sam]
      name = "Sam Patel"
      role = "staff"
      password_hash = "$2b$12$..."

  Failed sign-ins are limited per user name and per client (5 failures: wait 60 s).

* Neither: local demo mode, bannered on every page. Everyone is an admin under the name
  typed in the sidebar, and only connections from this computer are served.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.access import ROLES
from core.passwords import looks_like_hash

MAX_FAILURES = 5
LOCKOUT_SECONDS = 60.0


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalUser:
    login: str
    name: str
    role: str
    password_hash: str


@dataclass(frozen=True)
class AuthConfig:
    users: Mapping[str, LocalUser] = field(default_factory=dict)   # by login, lower case
    oidc: bool = False
    providers: tuple[str | None, ...] = ()                         # st.login(provider) for each
    roles: Mapping[str, str] = field(default_factory=dict)         # e-mail or "@domain" -> role
    problems: tuple[str, ...] = ()                                 # entries ignored, said to admins
    configured: bool = False                                       # [users] or [auth] present

    @property
    def demo(self) -> bool:
        return not self.configured

    def role_for_email(self, email: str | None) -> str | None:
        """The highest role listed for an address (or its "@domain"); None if not listed."""
        if not email or "@" not in email:
            return None
        email = email.strip().lower()
        found = [self.roles.get(email), self.roles.get("@" + email.rsplit("@", 1)[1])]
        ranked = [r for r in found if r]
        return max(ranked, key=ROLES.index) if ranked else None


def _plain(value: object) -> object:
    """st.secrets sections are mappings of their own kind: make plain dicts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def parse_config(secrets: Mapping) -> AuthConfig:
    """The sign-in settings from the secrets (a pure function: tested on its own)."""
    secrets = _plain(secrets) or {}
    problems: list[str] = []
    users: dict[str, LocalUser] = {}
    raw_users = secrets.get("users")
    if raw_users is not None and not isinstance(raw_users, dict):
        problems.append("[users] must be a table of [users.<login>] sections.")
        raw_users = {}
    for login, entry in (raw_users or {}).items():
        if not isinstance(entry, dict):
            problems.append(f"[users.{login}] is not a section; ignored.")
            continue
        role = str(entry.get("role", "")).strip().lower()
        pw = entry.get("password_hash")
        if role not in ROLES:
            problems.append(f"[users.{login}] role must be one of {', '.join(ROLES)}; this user cannot sign in.")
            continue
        if not looks_like_hash(pw):
            problems.append(f"[users.{login}] password_hash is not a bcrypt hash (make one with "
                            "`python -m core hash-password`); this user cannot sign in.")
            continue
        name = " ".join(str(entry.get("name") or login).split())[:200] or login
        users[login.strip().lower()] = LocalUser(login.strip().lower(), name, role, pw)

    auth = secrets.get("auth")
    oidc = isinstance(auth, dict)
    providers: list[str | None] = []
    if oidc:
        if "client_id" in auth:
            providers.append(None)
        providers += [name for name, value in auth.items() if isinstance(value, dict) and "client_id" in value]
    roles: dict[str, str] = {}
    raw_roles = secrets.get("roles") or {}
    for role in ROLES:  # later (higher) roles win for an address listed twice
        listed = raw_roles.get(role, []) if isinstance(raw_roles, dict) else []
        if isinstance(listed, str):
            listed = [listed]
        for address in listed:
            roles[str(address).strip().lower()] = role
    return AuthConfig(users=users, oidc=oidc, providers=tuple(providers), roles=roles, problems=tuple(problems),
                      configured=raw_users is not None or oidc)


def feed_token(secrets: Mapping, env_token: str | None = None) -> tuple[bool, str | None]:
    """(token required?, the token) for the JSON and ICS feeds: required when sign-in is
    configured or a token is set (`env_token`, the FEED_TOKEN environment variable, wins
    over FEED_TOKEN / feed_token in the secrets)."""
    token = env_token or secrets.get("FEED_TOKEN") or secrets.get("feed_token")
    token = str(token) if token else None
    return parse_config(secrets).configured or token is not None, token


# --- failed sign-ins: limited per user name and per client ------------------------------------


class SignInLimiter:
    """After `max_failures` failed sign-ins for a key, that key waits `lockout` seconds.

    In process memory (one app process per site); bounded: keys whose failures are over
    are dropped.
    """

    def __init__(self, max_failures: int = MAX_FAILURES, lockout: float = LOCKOUT_SECONDS,
                 clock=time.monotonic, max_keys: int = 10_000):
        self.max_failures, self.lockout, self.clock, self.max_keys = max_failures, lockout, clock, max_keys
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Seconds left before any of `keys` may try again (0: may try now)."""
        now = self.clock()
        with self._lock:
            return max([self._locked_until.get(k, now) - now for k in keys] + [0.0])

    def tries_left(self, *keys: str) -> int:
        with self._lock:
            return min(self.max_failures - self._failures.get(k, 0) for k in keys)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            self._prune(now)
            for k in keys:
                n = self._failures.get(k, 0) + 1
                if n >= self.max_failures:
                    self._locked_until[k] = now + self.lockout
                    n = 0
                self._failures[k] = n

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
                self._locked_until.pop(k, None)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self._locked_until.clear()

    def _prune(self, now: float) -> None:
        for k in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[k]
        if len(self._failures) > self.max_keys:
            self._failures = {k: n for k, n in self._failures.items() if k in self._locked_until or n > 1}


def is_loopback(ip: str) -> bool:
    """127.x and ::1, also as a dual-stack server sees them (::ffff:127.0.0.1)."""
    try:
        address = ipaddress.ip_address(ip.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)
