"""Outbox (staff): every e-mail as its recipient sees it, with its status and attempts,
filtered by booking reference, with resend; admins also set what the e-mails say about
the sites and the courses."""

import streamlit as st

from ui import ops, outbox, page
from ui.auth import can, require_role

page.setup("Outbox")
require_role("staff")
st.title("Outbox")
version = ops.database_or_stop()
outbox.mode_note()
reference, statuses = outbox.filters()
if can("admin"):
    messages_tab, details_tab = st.tabs(["E-mails", "What the e-mails say"])
    with messages_tab:
        outbox.message_list(version, reference, statuses)
    with details_tab:
        outbox.mail_details_editor()
else:
    outbox.message_list(version, reference, statuses)
