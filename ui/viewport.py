"""Is the page phone-wide? Measured in the browser, not guessed from the User-Agent.

A tiny `st.components.v2` component (no iframe: it runs in the page itself) watches
`matchMedia("(max-width: 640px)")` and reports when the answer differs from the one the
server used, so a desktop window made narrow gets the list by day and a tablet held wide
gets the month grid. Until the browser has answered (the first run of a new tab) the
User-Agent decides; the one correcting rerun comes right after, and none when the guess
was right. The answer is kept in session_state, so page switches do not ask again.

The report waits while a session window is open: the rerun it causes would close it (a
phone turned sideways crosses 640 px). As in ui/push.py: the component's JavaScript
module runs again (without the old cleanup) when its `data` changes, which happens here
when the answer flips; one listener is kept on `window` and replaced each time, so a
resize reports once.
"""

from __future__ import annotations

import streamlit as st

from ui import keys as K

PHONE_MAX_PX = 640  # as the app's CSS (ui/page.py) and the calendar's (ui/events.py)

JS = """
export default function ({ data, setStateValue }) {
  const query = window.matchMedia(`(max-width: ${data.max}px)`);
  let assumed = data.assumed, later = null;
  const report = () => {
    clearTimeout(later);
    if (query.matches === assumed) return;
    // The rerun would close an open session window (and the caller's details with it):
    // the layout changes once it is closed.
    if (document.querySelector('[role="dialog"]')) { later = setTimeout(report, 500); return; }
    assumed = query.matches;
    setStateValue('narrow', query.matches);
  };
  const previous = window.__availabilityViewport;
  if (previous) {
    previous.query.removeEventListener('change', previous.report);
    previous.cancel();
  }
  window.__availabilityViewport = { query, report, cancel: () => clearTimeout(later) };
  query.addEventListener('change', report);
  report();
}
"""

_probe = st.components.v2.component("availability_viewport", html="<span></span>", js=JS)


def agent_is_phone() -> bool:
    """A first guess from the browser's User-Agent, before it has measured itself."""
    try:
        agent = st.context.headers.get("User-Agent", "") or ""
    except Exception:  # no browser (AppTest) or headers unavailable
        return False
    return any(word in agent for word in ("Mobi", "iPhone", "Android"))


def is_narrow() -> bool:
    """The page is at most PHONE_MAX_PX wide (as last measured; the User-Agent's guess before)."""
    known = st.session_state.get(K.NARROW)
    return agent_is_phone() if known is None else known


def _measured() -> None:
    reported = (st.session_state.get(K.VIEWPORT) or {}).get("narrow")
    if isinstance(reported, bool):
        st.session_state[K.NARROW] = reported


def watch() -> None:
    """Mount the probe (hidden by the app's CSS); call once per page, before the layout."""
    _probe(key=K.VIEWPORT, data={"max": PHONE_MAX_PX, "assumed": is_narrow()}, on_narrow_change=_measured)


def phone_columns(*names: str) -> tuple[str, ...] | None:
    """A table's `column_order` on a phone-wide page (the columns that fit in 390 px, the
    one that matters first), or None (all of them) on a wider one: no sideways scrolling
    to find the places left."""
    return names if is_narrow() else None
