"""People (staff): one record per person with their bookings, attendance and certificates;
merge two records of the same person."""

import streamlit as st

from ui import ops, page
from ui import people
from ui.auth import require_role

page.setup("People")
require_role("staff")
st.title("People")
version = ops.database_or_stop()

person = people.choose_person(version)
if person is not None:
    people.show_history(person, version)
    st.divider()
    people.merge_panel(person, version)
