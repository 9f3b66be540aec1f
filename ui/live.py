"""The live loop: each fragment run asks the change version (one-row read) and reloads
only when it moved. If the database cannot be reached, the page keeps its last data,
says how old it is, and recovers by itself on a later poll.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.config import now_local
from core.errors import CoreError
from ui import data
from ui import keys as K
from ui.push import link_state, live_fragment

log = logging.getLogger(__name__)


# What a poll or a reload may meet while the database is away: the core's own errors
# (DatabaseUnavailable above all) and a connection refused below them. Anything else is a bug.
AWAY = (CoreError, OSError)


@dataclass(frozen=True)
class LiveStatus:
    version: int | None          # the newest version seen (None: never reached the database)
    ok: bool                     # the last poll reached the database
    data_at: dt.datetime | None  # local time of the last successful poll
    error: str | None = None


def poll() -> LiveStatus:
    """Ask the database for the change version; on failure keep the last one."""
    before: LiveStatus | None = st.session_state.get(K.LIVE)
    try:
        status = LiveStatus(data.latest_version(), True, now_local().replace(microsecond=0))
    except AWAY as exc:  # the database away (or misconfigured): keep going on old data
        if before is None or before.ok:
            log.warning("live poll failed: %s", exc)
        status = LiveStatus(before.version if before else None, False,
                            before.data_at if before else None, str(exc) or type(exc).__name__)
    st.session_state[K.LIVE] = status
    return status


def show_status(status: LiveStatus) -> None:
    """'live, updated 14:02:11' (adding when instant updates are paused and the page
    checks by itself instead) or 'reconnecting, data from 14:01'."""
    if status.ok:
        paused = (f" · instant updates paused, checking every {data.poll_seconds():g} s"
                  if link_state() == "reconnecting" else "")
        st.caption(f":green[●] live, updated {status.data_at:%H:%M:%S}{paused}")
    elif status.data_at is not None:
        st.caption(f":orange[●] **reconnecting**, data from {status.data_at:%H:%M}",
                   help=f"The database cannot be reached: {status.error}")
    else:
        st.caption(":red[●] **reconnecting**: the database cannot be reached yet",
                   help=status.error)


def keep_last(page: str, key: object, load):
    """`load()`, remembered per page; if it fails, the last data this page had (or raise)."""
    store: dict = st.session_state.setdefault(K.LAST_DATA, {})
    try:
        value = load()
    except AWAY as exc:
        if page in store:
            log.warning("reload failed, showing last data: %s", exc)
            return store[page][1]
        raise
    store[page] = (key, value)  # replaced, never appended: memory stays flat
    return value


def waiting_for_database(status: LiveStatus) -> bool:
    """True (and says so) while the database has never been reached by this page."""
    if status.version is None:
        show_status(status)
        st.error("The database cannot be reached yet. This page will load by itself once it can.",
                 icon=":material/cloud_off:")
        return True
    return False


def fragment(body: Callable[[LiveStatus], None]) -> Callable[[], None]:
    """`body(status)` as the page's live fragment: rerun at once when a change is pushed (the
    app served by server.py), and polled as the fallback (see ui/push.py). Each run polls the
    change version and shows the status line; `body` runs under it with the status once the
    database has been reached (until then the page says it is waiting)."""

    @functools.wraps(body)  # the fragment is known by the body's module and name
    def part() -> None:
        status = poll()
        if waiting_for_database(status):
            return
        show_status(status)
        body(status)

    return live_fragment(part)
