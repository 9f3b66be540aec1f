"""What the schedule screens say after an action: the outcome of the last action taken in
each part of the page, kept in session_state under `ops_keys.FEEDBACK` (the writes run in
button callbacks, before the script reruns, so the page that follows shows it)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core.errors import CoreError
from core.models import Booking
from ui import ops_keys as OK
from ui.text import as_text


def say(where: str, kind: str, text: str, rows: list[dict] | None = None) -> None:
    st.session_state[OK.FEEDBACK] = dict(where=where, kind=kind, text=text, rows=rows)


def failed(where: str, exc: CoreError) -> None:
    """The core's own sentence for what went wrong (its errors are caught by type: a bug is not)."""
    say(where, "error", str(exc))


def show_feedback(where: str) -> None:
    """The outcome of the last action taken in this part of the page, if any."""
    said = st.session_state.get(OK.FEEDBACK)
    if not said or said["where"] != where:
        return
    show = {"success": st.success, "error": st.error, "warning": st.warning}[said["kind"]]
    show(as_text(said["text"]), icon={"success": ":material/check_circle:", "error": ":material/error:",
                             "warning": ":material/warning:"}[said["kind"]])
    if said.get("rows"):
        st.dataframe(pd.DataFrame(said["rows"]), hide_index=True, width="stretch", key=OK.REBOOK_TABLE)



def rebook_rows(bookings: Sequence[Booking]) -> list[dict]:
    return [{"Reference": b.reference, "Contact": b.contact_name, "E-mail": b.contact_email,
             "Phone": b.contact_phone or "", "Company": b.company or "", "Places": b.seats,
             "Attendees": "; ".join(a.name for a in b.attendees)} for b in bookings]
