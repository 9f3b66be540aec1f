"""Audit (admins): who did what, when, to which session or booking, with before and after
values for edits; filtered in the sidebar, newest first, and downloadable as CSV."""

import datetime as dt

import pandas as pd
import streamlit as st

from core import audit
from core.config import today
from core.wording import count, plural
from ui.auth import require_role
from ui import data, ops, page, viewport
from ui import keys as K

SHOWN = 1000

page.setup("Audit")
require_role("admin")
st.title("Audit trail")
version = ops.database_or_stop()


actors, actions = data.audit_choices(version)
side = st.sidebar
side.markdown("### Filters")
who = side.selectbox("Who", actors, index=None, placeholder="Anyone", key=K.AUDIT_WHO)
what = side.multiselect("What", actions, format_func=lambda a: audit.ACTION_LABELS.get(a, a),
                        placeholder="Every action", key=K.AUDIT_WHAT)
first = side.date_input("From", value=today() - dt.timedelta(days=30), format="DD/MM/YYYY", key=K.AUDIT_FROM)
last = side.date_input("To", value=today(), format="DD/MM/YYYY", key=K.AUDIT_TO)
session_id = side.text_input("Session id", key=K.AUDIT_SESSION, max_chars=40, placeholder="from a session's link")
booking = side.text_input("Booking reference", key=K.AUDIT_BOOKING, max_chars=40, placeholder="BK-7F3K2Q")

if first and last and last < first:
    st.warning("'To' is before 'From': showing the single day of 'From'.")
    last = first
filters = audit.AuditFilter(actor=who, actions=tuple(what), date_from=first or None, date_to=last or None,
                            session_id=session_id.strip() or None, booking=booking.strip() or None)
entries = data.audit_entries(version, filters, audit.MAX_ROWS)

st.caption(f"{count(len(entries), 'change')} {plural(len(entries), 'matches', 'match')}, newest first"
           + (f" (the newest {audit.MAX_ROWS}: narrow the filters for older ones)" if len(entries) >= audit.MAX_ROWS else "")
           + ". Times are at the sites.")
st.download_button("Download CSV", audit.audit_csv(entries), file_name=f"audit_{today():%Y%m%d}.csv",
                   mime="text/csv", icon=":material/download:", key=K.AUDIT_CSV, disabled=not entries)

if not entries:
    st.info("No change matches these filters.", icon=":material/search_off:")
else:
    frame = pd.DataFrame([{
        "When": e.at, "Who": e.actor, "What": e.what, "Session": e.session,
        "Booking": e.booking, "Before → after": e.changes_text, "Details": e.details_text,
    } for e in entries[:SHOWN]])
    st.dataframe(frame, hide_index=True, width="stretch", key=K.AUDIT_TABLE,
                 column_order=viewport.phone_columns("When", "What", "Session"),
                 column_config={"When": st.column_config.DatetimeColumn("When", format="D MMM YYYY, HH:mm:ss")})
    if len(entries) > SHOWN:
        st.caption(f"The table shows the newest {SHOWN}; the CSV has all {len(entries)}.")
