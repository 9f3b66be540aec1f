"""Widget and state keys of the register, the Due to requalify page and the People page,
named once (beside ui/keys.py and ui/ops_keys.py)."""

from __future__ import annotations

# --- Due to requalify page ----------------------------------------------------------------
RQ_DAYS = "rq_days"
RQ_COURSES = "rq_courses"
RQ_COMPANY = "rq_company"
RQ_SITES = "rq_sites"
RQ_SAID = "rq_said"                    # (kind, text) of the last booking made from the page
RQ_VALIDITY_FORM = "rq_validity_form"

# --- People page ---------------------------------------------------------------------------
PP_SEARCH = "pp_search"
PP_CHOSEN = "pp_chosen"
PP_MERGE_OTHER = "pp_merge_other"
PP_MERGE_SURE = "pp_merge_sure"
PP_MERGE_BUTTON = "pp_merge_button"
PP_SAID = "pp_said"

# --- Exports page --------------------------------------------------------------------------
CERT_COMPANY = "cert_company"
CERT_CSV = "cert_csv"
CERT_XLSX = "cert_xlsx"


def register_outcome(booking_id: object, seat_no: int, outcome: str | None) -> str:
    """The outcome control of one seat; a new control once the seat's outcome changes
    (marked here or by a colleague), so it always starts from what is saved."""
    return f"reg_{booking_id}_{seat_no}_{outcome or 'unmarked'}"


def register_name(booking_id: object, seat_no: int) -> str:
    return f"reg_name_{booking_id}_{seat_no}"


def register_said(session_id: object) -> str:
    return f"reg_said_{session_id}"


def requalify_book(certificate_id: object, session_id: object) -> str:
    return f"rq_book_{certificate_id}_{session_id}"


def requalify_idem(certificate_id: object, session_id: object) -> str:
    """The idempotency key of booking this holder on this session (kept until it books)."""
    return f"rq_idem_{certificate_id}_{session_id}"


def validity_field(course: str) -> str:
    return f"rq_validity_{course}"
