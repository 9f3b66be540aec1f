"""Widget and state keys of the operations pages (Occupancy, Schedule, Exports), named once.

Kept apart from ui/keys.py (the calendar and booking pages) so the two can change
independently; every key here starts with `ops_`.
"""

from __future__ import annotations

# --- occupancy dashboard -------------------------------------------------------------------
NEXT_DAYS_TABLE = "ops_next_days_table"

# --- schedule: one session -------------------------------------------------------------------
ONE_FORM = "ops_one_form"
ONE_COURSE = "ops_one_course"
ONE_DATE = "ops_one_date"
ONE_START = "ops_one_start"
ONE_END = "ops_one_end"
ONE_LOCATION = "ops_one_location"
ONE_CAPACITY = "ops_one_capacity"
ONE_NOTES = "ops_one_notes"
ONE_ALLOW_CLASH = "ops_one_allow_clash"
ONE_SUBMIT = "ops_one_submit"

# --- schedule: recurring series ----------------------------------------------------------------
SER_COURSE = "ops_ser_course"
SER_FIRST = "ops_ser_first"
SER_DAYS = "ops_ser_days"
SER_UNTIL_MODE = "ops_ser_until_mode"
SER_WEEKS = "ops_ser_weeks"
SER_LAST = "ops_ser_last"
SER_START = "ops_ser_start"
SER_END = "ops_ser_end"
SER_LOCATION = "ops_ser_location"
SER_CAPACITY = "ops_ser_capacity"
SER_NOTES = "ops_ser_notes"
SER_SKIP = "ops_ser_skip"
SER_ON_CLASH = "ops_ser_on_clash"
SER_CREATE = "ops_ser_create"
SER_PREVIEW_TABLE = "ops_ser_preview_table"

# --- schedule: edit, capacity, cancel, complete ---------------------------------------------------
EDIT_PICK = "ops_edit_pick"
EDIT_FORM = "ops_edit_form"
CAP_FORM = "ops_cap_form"
CANCEL_FORM = "ops_cancel_form"
CANCEL_REASON = "ops_cancel_reason"
CANCEL_CONFIRM = "ops_cancel_confirm"
CANCEL_SUBMIT = "ops_cancel_submit"
COMPLETE_BUTTON = "ops_complete_button"
REBOOK_TABLE = "ops_rebook_table"


def edit_field(session_id: object, field: str) -> str:
    """Edit widgets are keyed per session so that picking another session shows its values."""
    return f"ops_edit_{field}_{session_id}"


# --- schedule: import ------------------------------------------------------------------------------
IMP_TEMPLATE = "ops_imp_template"
IMP_UPLOAD = "ops_imp_upload"
IMP_IMPORT = "ops_imp_import"
IMP_PROBLEMS_TABLE = "ops_imp_problems_table"
IMP_WARNINGS_TABLE = "ops_imp_warnings_table"

# --- schedule: feedback of the last action (survives the rerun after a write) ----------------------
FEEDBACK = "ops_feedback"

# --- exports ------------------------------------------------------------------------------------------
EXP_CSV = "ops_exp_csv"
EXP_XLSX = "ops_exp_xlsx"
EXP_XLSX_PREPARE = "ops_exp_xlsx_prepare"
EXP_XLSX_READY = "ops_exp_xlsx_ready"  # (scope, version), bytes of the last large workbook built
EXP_ICS = "ops_exp_ics"
REG_DAY = "ops_reg_day"
REG_SESSION = "ops_reg_session"
REG_XLSX = "ops_reg_xlsx"
REG_HTML = "ops_reg_html"
REG_PREVIEW = "ops_reg_preview"

# --- schedule: the confirm-first preview of a cut or a cancellation -----------------------------
PREVIEW = "ops_preview"              # {"kind": "capacity" | "cancel", "session_id", "capacity", "reason"}
PREVIEW_CONFIRM = "ops_preview_confirm"
PREVIEW_DISCARD = "ops_preview_discard"
PREVIEW_BOX = "ops_preview_box"

# --- schedule page tabs --------------------------------------------------------------------------------
SCHEDULE_TABS = "ops_schedule_tabs"


def preview_move(booking_id: object) -> str:
    """Where the preview of a cut or a cancellation moves this booking."""
    return f"ops_preview_move_{booking_id}"
