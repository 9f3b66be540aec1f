"""Push-first live updates for a page, with polling as the fallback.

Served by `server.py`, the process has a change hub (core.notify) and a WebSocket route
that streams the change version. `live_fragment(body)` then mounts a tiny
`st.components.v2` component that keeps one WebSocket open to that route: when the
version moves it sets a trigger, which reruns this fragment (and so `body`) at once.
`body` itself runs as a nested fragment that still polls: every 60 s while the link is
up, every LIVE_POLL_SECONDS while it is down or never came up (a proxy that drops
WebSockets, say). Under plain `streamlit run Home.py` there is no hub and no route, and
`body` simply polls as before.

Other live parts of the page (the open session window, ui/detail.py) use `live_part`: a
hidden follower component hears the push link's news as a window event and reruns its own
fragment, so the window redraws with the page, from the same socket.

Measured on this stack (issue 5): when the component's `data` changes, its JavaScript module
runs again without the old cleanup (an extra open socket per change), so `data` is the
same bytes on every run; nothing per-run (version, time) goes into it. Triggers are
ignored inside `st.form`: never call this inside a form.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core import notify
from core.config import get_settings
from ui.keys import LIVE as LIVE_KEY

PUSH_PATH = "/push"
LINK_KEY = "push_link"            # the component's key (one live fragment per page)
POLL_WHILE_LIVE_SECONDS = 60.0    # the safety net while pushes (and heartbeats with the version) arrive

HTML = '<div class="push-link" data-state="connecting"><span class="dot"></span><span class="text">instant updates connecting…</span></div>'

CSS = """
.push-link { font-size: 0.8rem; color: rgba(49, 51, 63, 0.65); line-height: 1.4; }
.push-link .dot { display: inline-block; width: 0.55em; height: 0.55em; border-radius: 50%;
                  margin-right: 0.4em; background: #9CA3AF; vertical-align: 0.05em; }
.push-link[data-state="live"] .dot { background: #15803D; }
.push-link[data-state="reconnecting"] .dot { background: #D97706; }
"""
# The link itself is hidden (ui/page.py APP_CSS): the page's one status line says when
# instant updates are paused (ui/live.py show_status), from link_state().

JS = """
// The calendar component (streamlit-calendar, in a same-origin iframe) sends its whole
// value, every event, on FullCalendar's eventsSet, which fires on navigation and again
// after each pushed redraw: a second rerun request per push (measured: ~0.1 s after the
// first, ~19 KB on a month of sessions). The app reads only the view from it
// (ui/calendar_view.py). So the frame's one way out, `window.parent.postMessage`, goes
// through a filter made in the frame's own realm (so Streamlit still sees the frame as the
// message's source): an eventsSet whose view has not changed is dropped, the others are
// sent without their events. Streamlit's own listener cannot be got ahead of in the page.
const QUIET_EVENTS_SET = `
  let lastView = null;
  return { postMessage(msg, origin) {
    const value = msg && msg.type === 'streamlit:setComponentValue' && msg.value;
    if (value && value.callback === 'eventsSet' && value.eventsSet) {
      const view = JSON.stringify(value.eventsSet.view || null);
      if (view === lastView) return;
      lastView = view;
      value.eventsSet = { events: [], view: value.eventsSet.view };
    }
    return real.postMessage(msg, origin);
  } };`;

function quietCalendars() {
  for (const frame of document.querySelectorAll("iframe[title='streamlit_calendar.calendar']")) {
    try {
      const win = frame.contentWindow;
      if (!win || win.__quietEventsSet || win.parent !== window) continue;
      win.__quietEventsSet = true;
      win.parent = new win.Function('real', QUIET_EVENTS_SET)(window);
    } catch (e) { /* not same-origin, or not loaded yet: try again on the next round */ }
  }
}

export default function ({ data, parentElement, setStateValue, setTriggerValue }) {
  const root = parentElement.querySelector('.push-link');
  const text = parentElement.querySelector('.text');
  let socket = null, retry = null, watchdog = null, attempt = 0, stopped = false;
  let shown = null, seen = null;

  const show = (state) => {
    if (state === shown) return;
    shown = state;
    root.dataset.state = state;
    text.textContent = state === 'live' ? 'instant updates live'
      : `instant updates reconnecting… (checking every ${data.poll} s)`;
    setStateValue('link', state);  // reruns the fragment: it picks its poll interval
    setTimeout(() => window.dispatchEvent(new CustomEvent('availability:link', { detail: state })), 0);
  };
  const address = () => {
    const url = new URL(data.path, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  };
  const arm = (ms) => {  // silence for that long: the link is dead (or never came up)
    clearTimeout(watchdog);
    watchdog = setTimeout(() => socket && socket.close(), ms);
  };
  const connect = () => {
    if (stopped) return;
    const ws = socket = new WebSocket(address());
    arm(10000);  // the server sends the version as soon as the link opens
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      let msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      attempt = 0;
      arm(data.heartbeat * 2500);
      const moved = shown === 'live' && msg.version !== seen;
      seen = msg.version;
      if (moved) {
        setTriggerValue('version', msg.version);
        // The page's other live parts (an open session window) follow the same news, in a
        // later task: Streamlit sends the widget changes of one task as one rerun request,
        // of the first one's fragment only (measured: the window's trigger was lost).
        const version = msg.version;
        setTimeout(() => window.dispatchEvent(new CustomEvent('availability:version', { detail: version })), 0);
      } else show('live');  // coming up reruns the fragment anyway
    };
    ws.onclose = () => {
      if (ws !== socket) return;
      socket = null;
      clearTimeout(watchdog);
      if (stopped) return;
      show('reconnecting');
      const delay = Math.min(250 * 2 ** attempt, 5000) * (0.8 + 0.4 * Math.random());
      attempt += 1;
      retry = setTimeout(connect, delay);
    };
  };
  quietCalendars();
  const quieting = setInterval(quietCalendars, 200);
  connect();
  return () => {
    stopped = true;
    clearInterval(quieting);
    clearTimeout(retry);
    clearTimeout(watchdog);
    const ws = socket;
    socket = null;
    if (ws) ws.close(1000);
  };
}
"""

_push_link = st.components.v2.component("availability_push_link", html=HTML, css=CSS, js=JS)

# A live part of the page other than its live fragment (the open session window): it
# reruns when the page's push link hears a new version (a window event), with no socket
# of its own.
FOLLOW_JS = """
// A rerun of this part asked for while the page's own rerun (for the same news) was running
// was measured to be dropped now and then (the server ended it early and never ran it): so
// ask once the page's run is over (seen running, then not), or after WAIT ms if it never
// showed as running, and at the latest after GIVE_UP ms.
const WAIT = 400, GIVE_UP = 3000, EVERY = 25;

export default function ({ setTriggerValue }) {
  let asked = null, timer = null;
  const running = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'running';
  };
  const ask = (name, value) => {
    asked = { name, value, since: performance.now(), seen: false };
    if (timer) return;
    timer = setInterval(() => {
      const waited = performance.now() - asked.since;
      if (running()) asked.seen = true;
      else if (asked.seen || waited > WAIT) return fire();
      if (waited > GIVE_UP) fire();
    }, EVERY);
  };
  const fire = () => {
    clearInterval(timer);
    timer = null;
    setTriggerValue(asked.name, asked.value);
  };
  const moved = (event) => ask('version', event.detail);
  const link = (event) => ask('link', event.detail);
  window.addEventListener('availability:version', moved);
  window.addEventListener('availability:link', link);
  return () => {
    clearInterval(timer);
    window.removeEventListener('availability:version', moved);
    window.removeEventListener('availability:link', link);
  };
}
"""
_follow_push = st.components.v2.component("availability_follow_push", html="<span></span>", js=FOLLOW_JS)


def url_path(path: str) -> str:
    """`path` under the configured server.baseUrlPath."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{path}" if base else path


def _ignore() -> None:
    """State and trigger changes need a callback to exist; the rerun itself is the point."""


def push_link() -> str | None:
    """Mount the link; its state: 'live', 'reconnecting', or None before it has tried."""
    result = _push_link(
        key=LINK_KEY,
        data={"path": url_path(PUSH_PATH), "heartbeat": get_settings().push_heartbeat_seconds, "poll": _poll_seconds()},
        on_link_change=_ignore,
        on_version_change=_ignore,
    )
    return result.get("link")


def _poll_seconds() -> float:
    # As ui.data.poll_seconds; read here so that server.py can import this module without
    # ui.data's caches (created at import, before the runtime exists).
    return get_settings().live_poll_seconds


def _poll_every(link: str | None) -> float:
    """Long while pushes arrive; short when the link is down, or while the page's last poll
    could not reach the database (a returning database pushes nothing: look again soon)."""
    last = st.session_state.get(LIVE_KEY)
    if link == "live" and (last is None or getattr(last, "ok", True)):
        return POLL_WHILE_LIVE_SECONDS
    return _poll_seconds()


def link_state() -> str | None:
    """The link state as last reported, also in runs that do not mount the component."""
    try:
        return (st.session_state.get(LINK_KEY) or {}).get("link")
    except Exception:  # not mounted yet in this session
        return None


def live_fragment(body: Callable[[], None]) -> Callable[[], None]:
    """`body` as the page's live fragment: pushed changes rerun it at once, polling backs it up."""
    if notify.current() is None:
        return st.fragment(run_every=_poll_seconds())(body)

    def with_push_link() -> None:
        every = _poll_every(push_link())

        def polled() -> None:
            # Measured: the rerun of this outer fragment that sends the new interval can be
            # preempted by an inner timer rerun and is then lost, leaving a live page on the
            # 2 s poll. The inner run sees the mismatch and reruns the app once to mend it.
            if _poll_every(link_state()) != every:
                st.rerun(scope="app")
            body()

        polled.__module__, polled.__qualname__ = body.__module__, body.__qualname__
        st.fragment(run_every=every)(polled)()

    with_push_link.__module__ = body.__module__
    with_push_link.__qualname__ = with_push_link.__name__ = f"{body.__qualname__}__push"
    return st.fragment(with_push_link)


def live_part(key: str, body: Callable[[], None]) -> None:
    """Draw `body` now as a live part of its own: it reruns when the page's push link hears a
    new version (no socket of its own), and polls as the page does: every
    POLL_WHILE_LIVE_SECONDS while pushes arrive, LIVE_POLL_SECONDS when they do not. For a
    part outside the page's live fragment (the open session window). Never inside a form."""
    if notify.current() is None:
        st.fragment(run_every=_poll_seconds())(body)()
        return

    def followed() -> None:
        _follow_push(key=key, on_version_change=_ignore, on_link_change=_ignore)
        # A rerun of this outer fragment (a new version, or the link going up or down)
        # draws the inner one again, with the poll interval for the link as it is now.
        polled = st.fragment(run_every=_poll_every(link_state()))(body)
        polled()

    followed.__module__, followed.__qualname__ = body.__module__, f"{body.__qualname__}__{key}"
    st.fragment(followed)()
