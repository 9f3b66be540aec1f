"""Cached engine and cached reads. Reads are keyed by what they depend on: the database,
the date range, the filters and the change version; writes are never cached.

No SQL here either: everything goes through `core`.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st
from sqlalchemy.engine import Engine

from core import audit, availability, booking, catalog, changes, holds, requalification, search, waitlist
from core.config import get_settings
from core.db import get_engine
from core.mail import messages, sender
from core.models import Booking, CourseType, Hold, Session, WaitlistEntry
from core.reports import OccupancyReport, ReportScope, occupancy_report

# Reads are cheap to redo and a page only ever needs the newest few: keep memory flat
# over a day of polling by bounding every cache.
_MAX_ENTRIES = 48


def database_url() -> str:
    return get_settings().database_url


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = get_engine(url)
    holds.start_expiry_sweeper(engine)  # expired holds free their places promptly
    sender.start_sender(engine)  # booking e-mails, after commit
    requalification.start_reminder_finder(engine)  # reminders due today, once each
    return engine


def engine() -> Engine:
    """The one Engine of this process for the configured DATABASE_URL."""
    return _engine_for(database_url())


def poll_seconds() -> float:
    return get_settings().live_poll_seconds


def latest_version() -> int:
    """One-row read; raises when the database cannot be reached."""
    return changes.latest_version(engine())


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def _course_types(url: str, version: int) -> list[CourseType]:
    return catalog.list_course_types(_engine_for(url))


def course_types(version: int) -> list[CourseType]:
    return _course_types(database_url(), version)


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def _sessions(
    url: str,
    start: dt.date,
    end: dt.date,
    courses: tuple[str, ...],
    locations: tuple[str, ...],
    states: tuple[str, ...],
    include_cancelled: bool,
    version: int,
) -> list[Session]:
    return availability.find_sessions(
        _engine_for(url), start, end,
        course_types=courses or None, locations=locations or None,
        availability=states or None, include_cancelled=include_cancelled,
    )


def sessions(start: dt.date, end: dt.date, filters, version: int) -> list[Session]:
    """Sessions in [start, end] matching `filters` (a ui.filters.Filters) at `version`."""
    if end < start:
        return []
    return _sessions(
        database_url(), start, end, filters.course_types, filters.locations,
        filters.states, filters.show_cancelled, version,
    )


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def _session(url: str, session_id: str, version: int) -> Session:
    return availability.get_session(_engine_for(url), session_id)


def session(session_id: object, version: int) -> Session:
    return _session(database_url(), str(session_id), version)


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def _bookings(url: str, session_id: str, version: int) -> list[Booking]:
    return booking.list_bookings(_engine_for(url), session_id)


def bookings(session_id: object, version: int) -> list[Booking]:
    return _bookings(database_url(), str(session_id), version)


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def _alternatives(url: str, session_id: str, seats: int, limit: int, version: int) -> list[Session]:
    return availability.alternatives(_engine_for(url), session_id, seats=seats, limit=limit)


def alternatives(session_id: object, seats: int, version: int, limit: int = 5) -> list[Session]:
    return _alternatives(database_url(), str(session_id), max(int(seats), 1), limit, version)


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def _move_targets(url: str, session_id: str, seats: int, version: int) -> list[Session]:
    return availability.move_targets(_engine_for(url), session_id, seats=seats)


def move_targets(session_id: object, seats: int, version: int) -> list[Session]:
    """Where a booking of `seats` places can move: the same site first, then by date."""
    return _move_targets(database_url(), str(session_id), max(int(seats), 1), version)


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def _waiting_list(url: str, session_id: str, version: int) -> list[WaitlistEntry]:
    return waitlist.list_waitlist(_engine_for(url), session_id)


def waiting_list(session_id: object, version: int) -> list[WaitlistEntry]:
    return _waiting_list(database_url(), str(session_id), version)


# The dashboard and the audit trail: few people, heavy reads.
_FEW = 16


@st.cache_data(max_entries=_FEW, show_spinner=False)
def _report(url: str, start: dt.date, end: dt.date, courses: tuple[str, ...], locations: tuple[str, ...],
            today: dt.date, version: int) -> OccupancyReport:
    scope = ReportScope(start, end, courses or None, locations or None)
    return occupancy_report(_engine_for(url), scope, today=today)


def report(start: dt.date, end: dt.date, courses: tuple[str, ...], locations: tuple[str, ...], today: dt.date,
           version: int) -> OccupancyReport:
    return _report(database_url(), start, end, courses, locations, today, version)


@st.cache_data(max_entries=_FEW, show_spinner=False)
def _charts(url: str, start: dt.date, end: dt.date, courses: tuple[str, ...], locations: tuple[str, ...],
            today: dt.date, version: int, types: tuple[CourseType, ...]) -> list:
    from ui.ops_charts import build_all

    return build_all(_report(url, start, end, courses, locations, today, version), types, today)


def charts(start: dt.date, end: dt.date, courses: tuple[str, ...], locations: tuple[str, ...], today: dt.date,
           version: int, types: tuple[CourseType, ...]) -> list:
    """The dashboard's charts (ui.ops_charts.build_all), built once per range, filters, day and version."""
    return _charts(database_url(), start, end, courses, locations, today, version, types)


@st.cache_data(max_entries=_FEW, show_spinner=False)
def _audit_choices(url: str, version: int) -> tuple[list[str], list[str]]:
    engine = _engine_for(url)
    return audit.audit_actors(engine), audit.audit_actions(engine)


def audit_choices(version: int) -> tuple[list[str], list[str]]:
    """Who has changed anything, and which actions there are, for the audit filters."""
    return _audit_choices(database_url(), version)


@st.cache_data(max_entries=_FEW, show_spinner=False)
def _audit_entries(url: str, version: int, f: audit.AuditFilter, limit: int) -> list[audit.AuditEntry]:
    return audit.audit_entries(_engine_for(url), f, limit=limit)


def audit_entries(version: int, f: audit.AuditFilter, limit: int) -> list[audit.AuditEntry]:
    return _audit_entries(database_url(), version, f, limit)


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def _holds(url: str, session_id: str, version: int) -> list[Hold]:
    return holds.list_holds(_engine_for(url), session_id)


def holds_of(session_id: object, version: int) -> list[Hold]:
    """A session's live holds at `version` (ui.holds_panel.session_now reads again when one ran out)."""
    return _holds(database_url(), str(session_id), version)


@st.cache_data(max_entries=_FEW, show_spinner=False)
def _found_bookings(url: str, words: str, version: int) -> search.SearchResult:
    return search.find_bookings(_engine_for(url), words)


def found_bookings(words: str, version: int) -> search.SearchResult:
    return _found_bookings(database_url(), words, version)


# The outbox: e-mails change without a change version of their own (sending), so a short ttl.
@st.cache_data(max_entries=_FEW, show_spinner=False, ttl=2)
def _mail_messages(url: str, version: int, reference: str, statuses: tuple[str, ...], limit: int) -> list:
    return messages.list_messages(_engine_for(url), reference=reference or None, statuses=statuses, limit=limit)


def mail_messages(version: int, reference: str, statuses: tuple[str, ...], limit: int) -> list:
    return _mail_messages(database_url(), version, reference, statuses, limit)


def forget_mail_messages() -> None:
    """After a resend: the list is read again at once, not after the ttl."""
    _mail_messages.clear()


@st.cache_data(max_entries=32, show_spinner=False, ttl=2)
def _deliveries(url: str, version: int, booking_ids: tuple) -> dict:
    return messages.deliveries(_engine_for(url), booking_ids)


def deliveries(version: int, booking_ids: tuple) -> dict:
    return _deliveries(database_url(), version, booking_ids)
