"""Every st.session_state key and URL query parameter of the app, named once.

Widget keys are constants; keys that depend on an object (a form for one session, a
booking row) are built by the small functions below so that the spelling lives here.
"""

from __future__ import annotations

# --- shared across pages (plain state, not widgets) -------------------------------------
FILTERS = "filters"                  # the current Filters, carried from page to page
FILTERS_QS = "filters_qs"            # the query string we last wrote or adopted
LIVE = "live"                        # LiveStatus of the last poll
LAST_DATA = "last_data"              # {page: (key, data)} kept for when the database is away
ACTOR = "actor"                      # staff name typed in the sidebar (widget)

# --- filter sidebar widgets --------------------------------------------------------------
F_COURSES = "f_courses"
F_FROM = "f_from"
F_TO = "f_to"
F_STATES = "f_states"
F_LOCATIONS = "f_locations"
F_CANCELLED = "f_cancelled"
F_COMPACT = "f_compact"
F_RESET = "f_reset"

# --- finding a booking (ui/find.py) ---------------------------------------------------------
FIND_BOX = "find_box"                # the sidebar's search box (every page, staff)
FIND_GO = "find_go"                  # words sent from the sidebar box, to open the results
FIND_QUERY = "find_query"            # the Find booking page's own box
FIND_ADOPTED = "find_adopted"        # the ?q= words the page's box was last filled from

# --- calendar page -------------------------------------------------------------------------
CALENDAR = "calendar"                # the streamlit-calendar component (constant key)
CAL_HANDLED = "cal_handled"          # last component value acted upon (values are sticky)
CAL_VIEW = "cal_view"                # visible range reported by eventsSet: (start, end)
CAL_LOADED = "cal_loaded"            # range of dates whose sessions are loaded: (start, end)
LIST_WEEKS = "list_weeks"            # the list view's paging: ((from, to) it counts from, weeks)
NARROW = "narrow"                    # the page is phone-wide (as last measured in the browser)
VIEWPORT = "viewport_probe"          # the component that measures it
CALENDAR_FRAME_HELPER = "calendar_frame_helper"  # the script put into the calendar's frame
F_COMPACT_DEVICE = "f_compact_device"  # the phone-or-not answer the Compact toggle last followed

# --- the session window (dialog) -------------------------------------------------------------
SESSION_LIVE = "session_live"        # its follower of the page's push link (a hidden component)

# --- URL query parameters --------------------------------------------------------------------
Q_COURSE = "course"
Q_FROM = "from"
Q_TO = "to"
Q_STATUS = "status"
Q_LOCATION = "location"
Q_CANCELLED = "cancelled"
Q_VIEW = "view"
Q_FIND = "q"                         # the Find booking page's words (not a filter)
QUERY_KEYS = (Q_COURSE, Q_FROM, Q_TO, Q_STATUS, Q_LOCATION, Q_CANCELLED, Q_VIEW)


# --- per-object keys -------------------------------------------------------------------------
def book_button(where: str, session_id: object) -> str:
    return f"book_btn_{where}_{session_id}"


def list_page(where: str, direction: str) -> str:
    return f"list_page_{where}_{direction}"


def form(session_id: object) -> str:
    """Key prefix of the booking form for one session."""
    return f"bookform_{session_id}"


def form_field(session_id: object, field: str) -> str:
    return f"{form(session_id)}_{field}"


def form_submit(session_id: object) -> str:
    return f"{form(session_id)}__submit"


def form_idempotency(session_id: object) -> str:
    """Idempotency key of the form instance: made once, renewed after a success."""
    return f"{form(session_id)}__idem"


def form_errors(session_id: object) -> str:
    return f"{form(session_id)}__errors"


def form_result(session_id: object) -> str:
    return f"{form(session_id)}__result"


def form_full(session_id: object) -> str:
    """The refused request and its alternatives after SessionFull."""
    return f"{form(session_id)}__full"


def form_more(session_id: object) -> str:
    """The offer to add the refused places to the contact's booking (ui/more_places.py)."""
    return f"{form(session_id)}__more"


def form_more_button(session_id: object) -> str:
    return f"{form(session_id)}__more_btn"


def alternative_button(session_id: object, other_id: object) -> str:
    return f"{form(session_id)}__alt_{other_id}"


def booking_action(booking_id: object, action: str) -> str:
    return f"bk_{action}_{booking_id}"


def find_open(booking_id: object) -> str:
    return f"find_open_{booking_id}"


def booking_feedback(session_id: object) -> str:
    return f"bk_feedback_{session_id}"


# --- the home page and the audit trail ------------------------------------------------------
HOME_TABLE = "home_table"
AUDIT_WHO = "audit_who"
AUDIT_WHAT = "audit_what"
AUDIT_FROM = "audit_from"
AUDIT_TO = "audit_to"
AUDIT_SESSION = "audit_session"
AUDIT_BOOKING = "audit_booking"
AUDIT_CSV = "audit_csv"
AUDIT_TABLE = "audit_table"


def waitlist_asking(session_id: object) -> str:
    """Which waiting-list entry the dialog is asking to withdraw."""
    return f"wl_asking_{session_id}"


def waitlist_feedback(session_id: object) -> str:
    return f"wl_feedback_{session_id}"


def waitlist_entry(entry_id: object, action: str) -> str:
    """The withdraw / yes buttons of one waiting-list entry."""
    return f"wl_{action}_{entry_id}"


def day_card(where: str, session_id: object) -> str:
    """A session's card in a day list ('cal', 'book', ...)."""
    return f"card_{where}_{session_id}"


def form_button(session_id: object, action: str) -> str:
    """A button beside a session's booking form: release, hold_btn, wait, wait_refused."""
    return f"{form(session_id)}__{action}"
