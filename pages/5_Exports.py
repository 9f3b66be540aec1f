"""Exports: the filtered sessions as CSV, Excel or a calendar feed; attendance registers for
a session or a day; and how to get the same file on a schedule (the app's export route, or
the command line)."""

import streamlit as st

from core.config import today
from ui.auth import require_role
from ui import ops, page, requalify
from ui.filters import sidebar_filters

page.setup("Exports")
require_role("viewer")
types = page.course_types()
filters = sidebar_filters(types)
start, end, defaulted = ops.page_range(filters, today(), weeks_back=0, weeks_ahead=8)
st.title("Exports")
version = ops.database_or_stop()

ops.sessions_downloads(start, end, filters, version, defaulted=defaulted)
st.divider()
ops.register_downloads(filters, version)
st.divider()
requalify.certificates_downloads(version)
st.divider()
ops.command_line_hint(start, end, filters, types)
