"""Who is told what when a certificate is due for requalification (issue 18).

requalification.due   "your <course> certificate expires on <date>": the next sessions of
                      the course with places at either site, and how to book. Sent to the
                      holder's e-mail, else to the contact of the booking that earned it.

The event (core.requalification.find_due_reminders) carries everything the message says,
as it stood when the reminder was found due; it is recorded once per certificate and
threshold, and this builder makes one message of it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Connection

from core.mail.messages import Draft, builder
from core.mail.render import header_text, render, short_date
from core.models import Change

NAME_MAX = 100


def _sessions(offers: list[dict]) -> list[dict]:
    return [dict(date=dt.date.fromisoformat(o["date"]), start=dt.time.fromisoformat(o["start"]),
                 end=dt.time.fromisoformat(o["end"]), location=o["location"], places_left=o["places_left"])
            for o in offers]


@builder("requalification.due")
def requalification_due(conn: Connection, change: Change) -> list[Draft]:
    d = change.details
    address = d.get("email") or d.get("contact_email")
    if not address:
        return []
    expires = dt.date.fromisoformat(d["expires_on"])
    subject = header_text(f"Time to requalify: your {d['course']} certificate expires {short_date(expires)}")
    text, html = render("requalify", subject=subject, name=d["name"], course=d["course"], expires=expires,
                        days_left=d["days_left"], number=d["certificate_number"],
                        sessions=_sessions(d.get("next_sessions", [])), for_someone_else=not d.get("email"))
    return [Draft(recipient=address, name=header_text(d["name"], NAME_MAX), kind="requalification",
                  subject=subject, text_body=text, html_body=html)]
