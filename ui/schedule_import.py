"""Schedule: import sessions from a CSV file. Every row is checked first; nothing is
imported unless every row is good."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import importer
from core.config import get_settings
from core.errors import CoreError
from ui import data
from ui import ops_keys as OK
from ui.auth import current_actor
from ui.schedule_feedback import failed, say, show_feedback


def _upload_key() -> str:
    return f"{OK.IMP_UPLOAD}_{st.session_state.get(OK.IMP_UPLOAD + '_n', 0)}"


def _import(data_bytes: bytes, name: str) -> None:
    try:
        report = importer.import_sessions_csv(data.engine(), data_bytes, actor=current_actor())
    except CoreError as exc:  # shown to the user; nothing was saved
        failed("import", exc)
        return
    if report.problems:
        say("import", "error", f"Nothing was imported: {len(report.problems)} problem(s) appeared since the check. "
                               "See the list below.")
        return
    st.session_state[OK.IMP_UPLOAD + "_n"] = st.session_state.get(OK.IMP_UPLOAD + "_n", 0) + 1
    say("import", "success", f"Imported {len(report.created)} sessions from {name}.")


_PROBLEM_COLUMNS = {
    "Line": st.column_config.NumberColumn("Line", width="small"),
    "Column": st.column_config.TextColumn("Column", width="small"),
    "Problem": st.column_config.TextColumn("Problem", width="large"),
}


def _problem_frame(problems) -> pd.DataFrame:
    return pd.DataFrame([{"Line": p.line, "Column": p.column or "(whole row)", "Problem": p.message}
                         for p in problems])


def import_panel() -> None:
    show_feedback("import")
    st.markdown("Fill in the template (one session per row), save it as CSV and upload it. Every row is "
                "checked first; **nothing is imported unless every row is good**.")
    st.download_button("Download the template CSV", importer.template_csv(), file_name="sessions_template.csv",
                       mime="text/csv", key=OK.IMP_TEMPLATE, icon=":material/download:")
    st.caption("Columns: course_type (name or code, e.g. EFAW), session_date (YYYY-MM-DD or DD/MM/YYYY), "
               "start_time and end_time (HH:MM), location (Location A / B, or A / B), max_capacity (empty = "
               f"{get_settings().capacity_limit}), instructor_notes (optional).")
    upload = st.file_uploader("CSV file of sessions", type=["csv"], key=_upload_key(),
                              max_upload_size=max(importer.MAX_BYTES // 1_000_000, 1))
    if upload is None:
        return
    raw = upload.getvalue()
    report = importer.check_sessions_csv(data.engine(), raw)
    if report.problems:
        rows = len({p.line for p in report.problems})
        st.error(f"{len(report.problems)} problem(s) on {rows} line(s): nothing will be imported. Fix them in the "
                 "file and upload it again.", icon=":material/error:")
        st.dataframe(_problem_frame(report.problems), hide_index=True, width="stretch", key=OK.IMP_PROBLEMS_TABLE,
                     column_config=_PROBLEM_COLUMNS)
        return
    if report.warnings:
        st.warning(f"{len(report.warnings)} row(s) overlap another session at the same location. They can be "
                   "imported if the site has room for both.", icon=":material/warning:")
        st.dataframe(_problem_frame(report.warnings), hide_index=True, width="stretch", key=OK.IMP_WARNINGS_TABLE,
                     column_config=_PROBLEM_COLUMNS)
    st.success(f"All {len(report.rows)} rows are good.", icon=":material/check_circle:")
    st.button(f"Import {len(report.rows)} sessions", type="primary", key=OK.IMP_IMPORT, on_click=_import,
              args=(raw, upload.name), icon=":material/upload:")
