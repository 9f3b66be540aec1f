"""Sign-in and who may open which page: the widgets (the sign-in form, the sidebar status,
the banner of demo mode, the page guard). What the secrets say, who may sign in with which
role, and the limit on failed sign-ins are core/auth.py, which describes the three ways the
app can run (OpenID Connect, a local user list, local demo mode).

Every page calls `require_role(...)` first; `current_actor()` is who the core is told
is writing. The core checks the role again on every write (core/access.py).
"""

from __future__ import annotations

import streamlit as st

from core.access import ROLES, Actor
from core.auth import LOCKOUT_SECONDS, MAX_FAILURES, AuthConfig, SignInLimiter, is_loopback, parse_config
from core.passwords import check_password
from ui import keys as K
from ui.text import as_text

DEMO_BANNER = ("Local demo mode: no sign-in, everyone can change everything; "
               "this app only listens on this computer.")
DEMO_NAME = "Front desk (demo mode)"

# st.session_state keys of this module (plain state, not widgets, except the form fields)
SIGNED_IN = "auth_signed_in"         # login name of the local user signed in, in this browser tab
SIGNIN_FORM = "auth_signin"
SIGNIN_USER = "auth_signin_user"
SIGNIN_PASSWORD = "auth_signin_password"
SIGNIN_MESSAGE = "auth_signin_message"
SIGNOUT = "auth_signout"


# --- configuration --------------------------------------------------------------------------


def config() -> AuthConfig:
    """The sign-in settings of this app's secrets file."""
    try:
        return parse_config({k: st.secrets[k] for k in ("users", "auth", "roles") if k in st.secrets})
    except FileNotFoundError:  # no secrets file at all
        return AuthConfig()
    except Exception as exc:  # a broken secrets file: fail closed, never into demo mode
        return AuthConfig(configured=True, problems=(f"The secrets file could not be read: {exc}",))


# --- failed sign-ins: limited per user name and per client ------------------------------------


LIMITER = SignInLimiter()  # in process memory: one app process per site


def _client() -> str:
    try:
        ip = st.context.ip_address  # None for 127.0.0.1 and ::1
    except Exception:  # no client context
        ip = None
    if not isinstance(ip, str) or not ip or is_loopback(ip):  # (AppTest gives a mock object)
        return "this computer"
    return ip


# --- who is signed in ----------------------------------------------------------------------------


def _demo_actor() -> Actor:
    name = " ".join((st.session_state.get(K.ACTOR) or "").split())[:200]
    return Actor(name or DEMO_NAME, "admin")


def _oidc_actor(cfg: AuthConfig) -> Actor | None:
    try:
        if not st.user.is_logged_in:
            return None
        email = st.user.get("email")
        name = st.user.get("name") or email
    except Exception:
        return None
    role = cfg.role_for_email(email)
    if role is None or not name:
        return None
    label = f"{name} <{email}>" if email and name != email else str(name)
    return Actor(label[:200], role)


def current_actor() -> Actor | None:
    """Who is using this browser tab, with their role; None when nobody (permitted) is."""
    cfg = config()
    if cfg.demo:
        return _demo_actor()
    login = st.session_state.get(SIGNED_IN)
    if login:
        user = cfg.users.get(login)
        if user is None:  # removed from the list (or the list is broken): signed out
            st.session_state.pop(SIGNED_IN, None)
        else:
            return Actor(user.name, user.role)
    if cfg.oidc:
        return _oidc_actor(cfg)
    return None


def can(role: str) -> bool:
    """May the person at this tab do what needs `role`? (Hide buttons with this.)"""
    who = current_actor()
    return who is not None and who.can(role)


# --- the sign-in form and the sidebar --------------------------------------------------------


def _sign_in() -> None:
    """Callback of the sign-in form: check the rate limit, then the password."""
    cfg = config()
    login = " ".join((st.session_state.get(SIGNIN_USER) or "").split()).lower()[:200]
    password = st.session_state.get(SIGNIN_PASSWORD) or ""
    st.session_state[SIGNIN_PASSWORD] = ""
    keys = (f"user:{login}", f"client:{_client()}")
    wait = LIMITER.wait(*keys)
    if wait > 0:
        st.session_state[SIGNIN_MESSAGE] = _wait_text(wait)
        return
    if not login or not password:
        st.session_state[SIGNIN_MESSAGE] = "Enter your user name and your password."
        return
    user = cfg.users.get(login)
    if check_password(password, user.password_hash if user else None) and user is not None:
        LIMITER.succeeded(*keys)
        st.session_state[SIGNED_IN] = user.login
        st.session_state.pop(SIGNIN_MESSAGE, None)
        return
    LIMITER.failed(*keys)
    wait = LIMITER.wait(*keys)
    if wait > 0:
        st.session_state[SIGNIN_MESSAGE] = "User name or password is wrong. " + _wait_text(wait)
    else:
        left = LIMITER.tries_left(*keys)
        st.session_state[SIGNIN_MESSAGE] = (f"User name or password is wrong. {left} more "
                                            f"tr{'y' if left == 1 else 'ies'} before a {LOCKOUT_SECONDS:.0f} s wait.")


def _wait_text(seconds: float) -> str:
    return (f"Too many failed sign-ins: wait {max(1, round(seconds))} s before trying again "
            f"(after {MAX_FAILURES} failures the wait is {LOCKOUT_SECONDS:.0f} s).")


def _sign_out() -> None:
    st.session_state.pop(SIGNED_IN, None)
    st.session_state.pop(K.ACTOR, None)


def sign_in_form(cfg: AuthConfig) -> None:
    """Local user name + password, and/or the identity provider's button(s)."""
    if cfg.oidc:
        for provider in cfg.providers or (None,):
            label = "Sign in with your work account" if provider is None else f"Sign in with {provider.title()}"
            if st.button(label, key=f"auth_oidc_{provider or 'default'}", type="primary", icon=":material/login:"):
                st.login(provider) if provider else st.login()
    if cfg.users:
        message = st.session_state.get(SIGNIN_MESSAGE)
        if message:
            st.error(message, icon=":material/lock:")
        with st.form(SIGNIN_FORM, enter_to_submit=True, border=True):
            st.markdown("**Sign in**")
            st.text_input("User name", key=SIGNIN_USER, max_chars=200, autocomplete="username")
            st.text_input("Password", key=SIGNIN_PASSWORD, type="password", max_chars=200,
                          autocomplete="current-password")
            st.form_submit_button("Sign in", type="primary", on_click=_sign_in, icon=":material/login:")
    if not cfg.oidc and not cfg.users:
        st.error("Sign-in is configured but no account can sign in: ask whoever runs this app to check "
                 "the [users] section of the secrets.", icon=":material/lock:")


def _sidebar(cfg: AuthConfig, who: Actor | None) -> None:
    side = st.sidebar
    if cfg.demo:
        side.text_input("Your name (for the audit trail)", key=K.ACTOR, max_chars=60,
                        placeholder="e.g. Sam at the desk")
        return
    if who is None and not st.session_state.get(SIGNED_IN) and not _oidc_signed_in():
        return
    name = who.name if who else "(no role)"
    role = who.role if who else "not permitted"
    with side.container(key="auth_status"):
        st.markdown(f"Signed in as **{as_text(name)}** ({role})")
        if st.session_state.get(SIGNED_IN):
            st.button("Sign out", key=SIGNOUT, on_click=_sign_out, icon=":material/logout:")
        elif _oidc_signed_in():
            if st.button("Sign out", key=SIGNOUT, icon=":material/logout:"):
                st.logout()


def _oidc_signed_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:
        return False


def require_role(role: str) -> Actor:
    """First thing on every page: the banner or sidebar status; then either the actor
    (who may open this page) or a clear message with the sign-in form, and the page stops."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    cfg = config()
    if cfg.demo:
        if _client() != "this computer":
            st.error("This app is in local demo mode (no sign-in configured), so it only serves this computer.",
                     icon=":material/lock:")
            st.stop()
        st.warning(DEMO_BANNER, icon=":material/science:")
    who = current_actor()
    _sidebar(cfg, who)
    if cfg.problems and who is not None and who.can("admin"):
        for problem in cfg.problems:
            st.sidebar.warning(problem, icon=":material/manage_accounts:")
    if who is not None and who.can(role):
        return who
    article = "an" if role[0] in "aeiou" else "a"
    if who is not None:
        st.error(f"{as_text(who.name)} is signed in as {who.role}; this page needs {article} {role} account. "
                 "Ask an admin if you need it, or sign in with another account.", icon=":material/block:")
    elif _oidc_signed_in():
        st.error("Your account is signed in but has no role in this app yet: ask an admin to add your "
                 "e-mail address.", icon=":material/block:")
    else:
        st.info(f"Sign in to open this page (it needs {article} {role} account).", icon=":material/lock:")
    sign_in_form(cfg)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() ends the script run
