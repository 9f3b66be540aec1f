"""What every page does first: page config, the app's CSS and the search box for staff (then
ui.auth.require_role); live helpers."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.models import CourseType
from ui import data, live, viewport
from ui import keys as K
from ui.find import sidebar_box

APP_CSS = """
<style>
/* Room for the live indicator; no horizontal scrolling at phone width. */
.block-container { padding-top: 2.2rem; padding-bottom: 2rem; }
html, body, [data-testid="stAppViewContainer"] { overflow-x: hidden; }
.session-card { font-size: 1rem; }
/* Streamlit's captions (the "live, updated" line) are grey at 60 % opacity, 2.9:1 on white;
   WCAG AA wants 4.5:1. This grey is 7.6:1. */
[data-testid="stCaptionContainer"] { opacity: 1 !important; color: #4B5563 !important; }
/* The push link runs unseen: the status line under the title says how fresh the page is. */
.st-key-push_link, .st-key-viewport_probe, .st-key-calendar_frame_helper, .st-key-session_live { display: none; }
@media (max-width: 640px) {
  /* Below the header bar (3.75rem, opaque on a phone): the demo banner was hidden under it. */
  .block-container { padding-left: 0.8rem; padding-right: 0.8rem; padding-top: 4.2rem; }
  h1 { font-size: 1.7rem !important; }
}
</style>
"""


# The tab icon is served by the app itself: a `:material/...:` page icon is fetched by the
# browser from a font CDN (fonts.gstatic.com), which fails offline and leaks each page view.
FAVICON = Path(__file__).parent / "assets" / "favicon.svg"


def setup(title: str) -> None:
    st.set_page_config(page_title=f"{title} · First aid courses", page_icon=FAVICON, layout="wide")
    st.html(APP_CSS)
    viewport.watch()  # phone layout by the page's real width
    sidebar_box()  # staff find a booking from every page
    # Who is at the desk (sign-in, or the demo mode's name field): ui.auth.require_role,
    # which every page calls right after this.


def course_types() -> list[CourseType]:
    """The catalogue (colours, short codes); empty when the database cannot be reached."""
    status = st.session_state.get(K.LIVE) or live.poll()
    try:
        return live.keep_last("course_types", status.version,
                              lambda: data.course_types(status.version if status.version is not None else -1))
    except live.AWAY:
        return []
