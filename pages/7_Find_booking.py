"""Find booking (staff): a booking by its reference, a name, an e-mail address, a phone
number or a company; each result shows the booking and its session, and opens the session."""

import streamlit as st

from ui.auth import require_role
from ui import find, live, page
from ui.detail import open_session

page.setup("Find booking")
require_role("staff")
st.title("Find a booking")
words = find.query_box()


@live.fragment
def found(status: live.LiveStatus) -> None:
    clicked = find.results(words, status.version)
    if clicked:
        open_session(clicked)


found()
