"""Due to requalify (staff): certificates expiring in the next N days by course, company and
site, each with the next sessions of its course that have places, and one click to book."""

import streamlit as st

from ui import ops, page
from ui import requalify
from ui.auth import require_role

page.setup("Due to requalify")
require_role("staff")
st.title("Due to requalify")
version = ops.database_or_stop()

filters = requalify.sidebar_filters(version)
requalify.render_due(requalify.due_list(filters, version), filters)
requalify.validity_editor(version)
