"""What every page does first: page config, the app's CSS and the search box for staff (then
ui.auth.require_role); live helpers."""

from __future__ import annotations

import streamlit as st

from core.models import CourseType
from ui import data, live
from ui import keys as K
from ui.find import sidebar_box

APP_CSS = """
<style>
/* Room for the live indicator; no horizontal scrolling at phone width. */
.block-container { padding-top: 2.2rem; padding-bottom: 2rem; }
html, body, [data-testid="stAppViewContainer"] { overflow-x: hidden; }
.session-card { font-size: 1rem; }
/* The push link runs unseen: the status line under the title says how fresh the page is. */
.st-key-push_link { display: none; }
@media (max-width: 640px) {
  .block-container { padding-left: 0.8rem; padding-right: 0.8rem; }
  h1 { font-size: 1.7rem !important; }
}
</style>
"""


def setup(title: str, icon: str) -> None:
    st.set_page_config(page_title=f"{title} · First aid courses", page_icon=icon, layout="wide")
    st.html(APP_CSS)
    sidebar_box()  # staff find a booking from every page
    # Who is at the desk (sign-in, or the demo mode's name field): ui.auth.require_role,
    # which every page calls right after this.


def course_types() -> list[CourseType]:
    """The catalogue (colours, short codes); empty when the database cannot be reached."""
    status = st.session_state.get(K.LIVE) or live.poll()
    try:
        return live.keep_last("course_types", status.version,
                              lambda: data.course_types(status.version if status.version is not None else -1))
    except Exception:
        return []


def waiting_for_database(status: live.LiveStatus) -> bool:
    """True (and says so) while the database has never been reached by this page."""
    if status.version is None:
        live.show_status(status)
        st.error("The database cannot be reached yet. This page will load by itself once it can.",
                 icon=":material/cloud_off:")
        return True
    return False
