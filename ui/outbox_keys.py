"""Widget and state keys of the Outbox page, named once; every key starts with `outbox_`."""

from __future__ import annotations

REFERENCE = "outbox_reference"
STATUSES = "outbox_statuses"
FEEDBACK = "outbox_feedback"
SITE_FORM = "outbox_site_form"
COURSE_FORM = "outbox_course_form"
COURSE_PICK = "outbox_course_pick"


def resend(message_id: object) -> str:
    return f"outbox_resend_{message_id}"


def view(message_id: object) -> str:
    return f"outbox_view_{message_id}"


def site_field(site: str, field: str) -> str:
    return f"outbox_site_{site}_{field}"


def course_field(course: str, field: str) -> str:
    return f"outbox_course_{course}_{field}"
