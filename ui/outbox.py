"""The Outbox page's pieces: messages as their recipients see them, their status, resend;
the delivery line of a booking; and (admins) what the e-mails say about sites and courses.

No SQL: everything goes through core.mail. People's text reaches the screen through
ui/text.py; a message's HTML (escaped by its template) is drawn by st.html, which
sanitises it again, and only its body: the e-mail's own page frame stays out of the app.
"""

from __future__ import annotations

import re

import streamlit as st

from core import wording
from core.config import get_settings, local_from_utc
from core.errors import CoreError
from core.mail import details, messages
from core.mail.messages import Delivery, MessageView
from core.outbox import consumer_status
from ui import data
from ui import outbox_keys as K
from ui.auth import current_actor
from ui.text import as_text, html_line

SHOWN = 200
STATUS_WORDS = {"queued": "waiting to be sent", "sent": "sent", "failed": "failed", "kept": "kept (not sent)"}
KIND_WORDS = {"confirmation": "Confirmation", "cancelled": "Cancellation", "moved": "Moved", "promoted":
              "Promoted from the waiting list", "session_cancelled": "Session cancelled", "reminder": "Reminder"}
STATUS_ICONS = {"queued": ":material/schedule_send:", "sent": ":material/mark_email_read:",
                "failed": ":material/error:", "kept": ":material/inventory_2:"}
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)




def mode_note() -> None:
    """Say whether e-mails are sent, or kept here; and events the sender could not turn into e-mails."""
    try:
        status = consumer_status(data.engine(), messages.CONSUMER)
    except CoreError:
        status = None
    if status and (status.failing or status.skipped):
        st.warning(f"{wording.count(len(status.failing), 'change')} could not be turned into "
                   f"e-mails yet (retrying), {status.skipped} given up on: see the log of the app.",
                   icon=":material/warning:")
    if get_settings().smtp is None:
        st.info("No mail server is set up (SMTP_URL), so e-mails are kept here and not sent: each shows "
                "as its recipient would see it.", icon=":material/inventory_2:")
    else:
        st.caption("E-mails are sent through the mail server in SMTP_URL, a few seconds after each change.")


def filters() -> tuple[str, tuple[str, ...]]:
    side = st.sidebar
    side.markdown("### Filters")
    reference = side.text_input("Booking reference", key=K.REFERENCE, max_chars=12, placeholder="BK-7F3K2Q")
    statuses = side.multiselect("Status", list(STATUS_WORDS), format_func=STATUS_WORDS.get, key=K.STATUSES,
                                placeholder="Any status")
    return reference.strip().upper(), tuple(statuses)


def _when(m: MessageView) -> str:
    at = local_from_utc(m.sent_at or m.created_at)
    return f"{at:%a} {at.day} {at:%b %Y, %H:%M}"


def _title(m: MessageView) -> str:
    kind = KIND_WORDS.get(m.kind, m.kind)
    return f"{STATUS_WORDS.get(m.status, m.status).upper()} · {kind} · {as_text(m.recipient)} · {as_text(m.subject)}"


def _resend(message_id: str) -> None:
    try:
        again = messages.resend(data.engine(), message_id, actor=current_actor())
    except CoreError as exc:
        st.session_state[K.FEEDBACK] = ("error", str(exc))
        return
    st.session_state[K.FEEDBACK] = ("success", f"Queued again for {again.recipient}.")
    data.forget_mail_messages()


def message_list(version: int, reference: str, statuses: tuple[str, ...]) -> None:
    feedback = st.session_state.pop(K.FEEDBACK, None)
    if feedback:
        (st.success if feedback[0] == "success" else st.error)(as_text(feedback[1]))
    shown = data.mail_messages(version, reference, statuses, SHOWN)
    if not shown:
        st.info("No e-mail matches." if reference or statuses else "No e-mails yet: they appear here as "
                "bookings are made, cancelled and moved.", icon=":material/search_off:")
        return
    st.caption(f"{wording.count(len(shown), 'e-mail')}, newest first"
               + (f" (the newest {SHOWN}: filter by booking reference for older ones)" if len(shown) >= SHOWN else "")
               + ". Times are at the sites.")
    for m in shown:
        with st.expander(_title(m), icon=STATUS_ICONS.get(m.status)):
            _message(m)


def _message(m: MessageView) -> None:
    attempts = wording.count(m.attempts, 'attempt') if m.attempts else None
    st.html(html_line(m.reference or "no booking", _when(m), attempts, m.message_id, muted=True))
    if m.last_error:
        st.error(f"Not delivered: {as_text(m.last_error)}", icon=":material/error:")
    full = messages.get_message(data.engine(), m.id)
    html_tab, text_tab = st.tabs(["As the recipient sees it", "Plain text"])
    with html_tab:
        body = _BODY.search(full.html_body)
        st.html(body.group(1) if body else full.html_body)
        if full.ics:
            st.caption("Attached: course.ics (the session, for the recipient's calendar)")
    with text_tab:
        st.code(full.text_body, language=None, wrap_lines=True)
    if m.status != "queued":
        st.button("Send again", key=K.resend(m.id), on_click=_resend, args=(str(m.id),), icon=":material/send:")


def delivery_note(booking_id, version: int) -> None:
    """One line under a booking: how its e-mails fared; a failure stands out."""
    try:
        found: Delivery | None = data.deliveries(version, (booking_id,)).get(booking_id)
    except CoreError:
        return
    if found is None:
        return
    for recipient, why in found.failed:
        st.warning(f"E-mail to {as_text(recipient)} not delivered: {as_text(why)}. See the Outbox page.",
                   icon=":material/unsubscribe:")
    parts = [f"{n} {word}" for n, word in ((found.sent, "sent"), (found.kept, "kept in the Outbox"),
                                           (found.waiting, "waiting")) if n]
    if parts:
        st.caption("E-mails: " + ", ".join(parts))


# --- admins: what the e-mails say -------------------------------------------------------------


def _save_site(name: str) -> None:
    try:
        details.save_site(data.engine(), name, address=st.session_state[K.site_field(name, "address")],
                          directions=st.session_state[K.site_field(name, "directions")], actor=current_actor())
        st.session_state[K.FEEDBACK] = ("success", f"Saved the address and directions of {name}.")
    except CoreError as exc:
        st.session_state[K.FEEDBACK] = ("error", str(exc))


def _save_course(name: str) -> None:
    try:
        details.save_course_mail(data.engine(), name,
                                 joining_instructions=st.session_state[K.course_field(name, "joining")],
                                 reminder_days=st.session_state[K.course_field(name, "days")], actor=current_actor())
        st.session_state[K.FEEDBACK] = ("success", f"Saved what the e-mails say about {name}.")
    except CoreError as exc:
        st.session_state[K.FEEDBACK] = ("error", str(exc))


def mail_details_editor() -> None:
    """Sites' address and directions; each course's joining instructions and reminder days."""
    feedback = st.session_state.pop(K.FEEDBACK, None)
    if feedback:
        (st.success if feedback[0] == "success" else st.error)(as_text(feedback[1]))
    engine = data.engine()
    st.subheader("Sites")
    for site in details.list_sites(engine):
        with st.form(K.site_field(site.name, "form"), border=True):
            st.markdown(f"**{as_text(site.name)}**")
            st.text_area("Address", value=site.address, key=K.site_field(site.name, "address"), height=90,
                         max_chars=details.LONG_TEXT)
            st.text_area("Directions (parking, entrance)", value=site.directions,
                         key=K.site_field(site.name, "directions"), height=90, max_chars=details.LONG_TEXT)
            st.form_submit_button("Save", on_click=_save_site, args=(site.name,), icon=":material/save:",
                                  key=K.site_field(site.name, "save"))
    st.subheader("Courses")
    courses = details.list_course_mail(engine)
    names = [c.name for c in courses]
    chosen = st.selectbox("Course", names, key=K.COURSE_PICK)
    course = next((c for c in courses if c.name == chosen), None)
    if course is None:
        return
    with st.form(K.course_field(course.name, "form"), border=True):
        st.text_area("Joining instructions (what to bring)", value=course.joining_instructions,
                     key=K.course_field(course.name, "joining"), height=120, max_chars=details.LONG_TEXT)
        st.number_input("Reminder e-mail, days before (0: none)", min_value=0, max_value=60, step=1,
                        value=course.reminder_days, key=K.course_field(course.name, "days"))
        st.form_submit_button("Save", on_click=_save_course, args=(course.name,), icon=":material/save:",
                              key=K.course_field(course.name, "save"))
