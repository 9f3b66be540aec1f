"""Schedule: create one session or a recurring series (with a preview of clashes), edit,
resize or cancel a session, mark past sessions completed, and import sessions from CSV."""

import streamlit as st

from ui.auth import require_role
from ui import ops, page, schedule_edit, schedule_import, schedule_new, schedule_series
from ui import ops_keys as OK
from ui.filters import sidebar_filters

page.setup("Schedule")
require_role("admin")
types = page.course_types()
filters = sidebar_filters(types, with_states=False)
st.title("Schedule")
version = ops.database_or_stop()

one, series, edit, upload = st.tabs(["New session", "Recurring series", "Edit, resize or cancel", "Import from CSV"],
                                    key=OK.SCHEDULE_TABS)
with one:
    schedule_new.one_session_form(types)
with series:
    schedule_series.series_builder(types)
with edit:
    schedule_edit.edit_panel(types, filters, version)
with upload:
    schedule_import.import_panel()
