"""Input checks shared by the use cases. Each raises InvalidInput naming the field."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from core.errors import InvalidInput
from core.models import LOCATIONS, Attendee

NAME_MAX = 200
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[^@\s<>()\[\]\\,;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{6,30}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Marks that reorder the text around them (LRE, RLE, PDF, LRO, RLO; the isolates LRI, RLI,
# FSI, PDI; LRM, RLM, ALM): a right-to-left override in a company name makes the e-mail
# and times shown after it read backwards. Nobody types them into a name or a note.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def uuid_of(value: object, field: str, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(field, f"{str(value)[:40]!r} is not a valid {what} id.") from None


def text(value: object, field: str, label: str, *, required: bool, max_len: int = NAME_MAX) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(field, f"{label} is required.")
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, f"{label} must be text.")
    cleaned = " ".join(value.split())
    if _CONTROL.search(value.replace("\n", " ").replace("\t", " ").replace("\r", " ")):
        raise InvalidInput(field, f"{label} contains control characters.")
    if _BIDI.search(value):
        raise InvalidInput(field, f"{label} contains invisible marks that reverse the text around them "
                                  "(right-to-left controls): type it again without them.")
    if len(cleaned) > max_len:
        raise InvalidInput(field, f"{label} is too long: {len(cleaned)} characters, at most {max_len}. "
                                  "Shorten it and try again; nothing was saved.")
    return cleaned


def email(value: object, field: str = "contact_email", *, required: bool = True) -> str | None:
    cleaned = text(value, field, "E-mail", required=required, max_len=EMAIL_MAX)
    if cleaned is None:
        return None
    if not _EMAIL.match(cleaned):
        raise InvalidInput(field, f"{cleaned[:60]!r} is not a valid e-mail address (like name@example.co.uk).")
    return cleaned.lower()


def choice(value: object, field: str, label: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInput(field, f"{label}: {str(value)[:40]!r} is not one of {', '.join(allowed)}.")
    return value  # type: ignore[return-value]


def phone(value: object) -> str | None:
    cleaned = text(value, "contact_phone", "Phone", required=False, max_len=40)
    if cleaned is not None and not _PHONE.match(cleaned):
        raise InvalidInput("contact_phone", f"{cleaned!r} is not a phone number (digits, spaces, +, brackets).")
    return cleaned


def whole_number(value: object, field: str, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        else:
            raise InvalidInput(field, f"{label} must be a whole number from {low} to {high}, not {str(value)[:20]!r}.")
    if not low <= value <= high:
        raise InvalidInput(field, f"{label} must be from {low} to {high}, not {value}.")
    return value


def date(value: object, field: str = "session_date") -> dt.date:
    if isinstance(value, dt.datetime):
        raise InvalidInput(field, "Give a date, not a date and time.")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(field, f"{str(value)[:30]!r} is not a real date (use YYYY-MM-DD).") from None


def time(value: object, field: str) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None, microsecond=0)
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(field, f"{str(value)[:30]!r} is not a time of day (use HH:MM).") from None


def location(value: object) -> str:
    if value not in LOCATIONS:
        raise InvalidInput("location", f"{str(value)[:40]!r} is not a location; choose {' or '.join(LOCATIONS)}.")
    return value  # type: ignore[return-value]


def times(start: object, end: object) -> tuple[dt.time, dt.time]:
    start_t, end_t = time(start, "start_time"), time(end, "end_time")
    if end_t <= start_t:
        raise InvalidInput("end_time", f"The session must end after it starts ({start_t:%H:%M}).")
    return start_t, end_t


def attendees(values: object, seats: int, contact_name: str, contact_email: str) -> list[Attendee]:
    """Named attendees (at most one per seat). A single seat with no names is the contact."""
    if values is None or values == []:
        return [Attendee(contact_name, contact_email)] if seats == 1 else []
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise InvalidInput("attendees", "Attendees must be a list of names.")
    people: list[Attendee] = []
    for raw in values:
        if isinstance(raw, Attendee):
            name, mail = raw.name, raw.email
        else:
            name, mail = raw, None
        cleaned = text(name, "attendees", "Attendee name", required=False)
        if cleaned is None:
            continue
        people.append(Attendee(cleaned, email(mail, "attendees", required=False)))
    if len(people) > seats:
        raise InvalidInput("attendees", f"{len(people)} attendee names given for {seats} places.")
    mails = [p.email for p in people if p.email]
    if len(mails) != len(set(mails)):
        raise InvalidInput("attendees", "The same attendee e-mail is given twice.")
    return people


def key(value: object) -> str | None:
    return text(value, "idempotency_key", "Idempotency key", required=False, max_len=100)



NOTES_MAX = 2000


def session_fields(spec: dict, *, limit: int, course_names: set[str] | None = None) -> tuple[dict, list[InvalidInput]]:
    """The one rule for a session's fields (a new session, a series, a row of an import file):
    each field checked on its own, so a caller can list every problem of a row; returns the
    cleaned fields and the InvalidInput of each bad one. The course must be one of
    `course_names` (None: not checked here); capacity is 1 to `limit`."""
    cleaned: dict = {}
    problems: list[InvalidInput] = []

    def check(name: str, rule) -> None:
        try:
            cleaned[name] = rule()
        except InvalidInput as exc:
            problems.append(exc)

    def course() -> str:
        name = text(spec.get("course_type"), "course_type", "Course type", required=True, max_len=100)
        if course_names is not None and name not in course_names:
            raise InvalidInput("course_type", f"{name!r} is not a course type; known: {', '.join(sorted(course_names))}.")
        return name

    check("course_type", course)
    check("session_date", lambda: date(spec.get("session_date")))
    check("start_time", lambda: time(spec.get("start_time"), "start_time"))
    check("end_time", lambda: time(spec.get("end_time"), "end_time"))
    if "start_time" in cleaned and "end_time" in cleaned:
        check("end_time", lambda: times(cleaned["start_time"], cleaned["end_time"])[1])
    check("location", lambda: location(spec.get("location")))
    check("max_capacity", lambda: whole_number(spec.get("max_capacity", limit), "max_capacity", "Capacity", 1, limit))
    check("instructor_notes", lambda: text(spec.get("instructor_notes"), "instructor_notes", "Instructor notes",
                                           required=False, max_len=NOTES_MAX))
    return cleaned, problems


def session(spec: dict, *, limit: int, course_names: set[str] | None = None) -> dict:
    """session_fields, raising the first problem (InvalidInput naming the field)."""
    cleaned, problems = session_fields(spec, limit=limit, course_names=course_names)
    if problems:
        raise problems[0]
    return cleaned
