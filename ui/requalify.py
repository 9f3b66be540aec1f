"""The Due to requalify page: certificates running out in the next N days by course, with
the holder's company and site, the later session they are already booked on, or the next
sessions of the course with places and one click to book them (core.booking.book). Admins
also set how long each course's certificate lasts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import streamlit as st

from core import certificates, certificates_export, requalification
from core.errors import CoreError
from core.models import LOCATIONS
from core.requalification import Due
from ui import data, requal_charts
from ui import requal_keys as RK
from ui.auth import can, current_actor
from ui.events import places_text
from ui.text import as_text, html_line, isolated

MAX_DAYS = 730


@dataclass(frozen=True)
class DueFilters:
    days: int
    courses: tuple[str, ...]
    company: str | None
    sites: tuple[str, ...]


@st.cache_data(max_entries=16, show_spinner=False)
def _due(url: str, f: DueFilters, version: int) -> list[Due]:
    return requalification.due_to_requalify(data.engine(), f.days, course_types=f.courses or None,
                                            company=f.company, locations=f.sites or None)


@st.cache_data(max_entries=16, show_spinner=False)
def _companies(url: str, version: int) -> list[str]:
    return certificates.companies(data.engine())


@st.cache_data(max_entries=16, show_spinner=False)
def _validity(url: str, version: int) -> dict[str, int | None]:
    return certificates.validity_months(data.engine())


def sidebar_filters(version: int) -> DueFilters:
    side = st.sidebar
    side.markdown("### Due to requalify")
    days = side.number_input("Expiring within (days)", min_value=0, max_value=MAX_DAYS,
                             value=requalification.DEFAULT_DAYS, step=30, key=RK.RQ_DAYS)
    courses = side.multiselect("Course", list(_validity(data.database_url(), version)), placeholder="Every course",
                               format_func=isolated, key=RK.RQ_COURSES)
    company = side.selectbox("Company", _companies(data.database_url(), version), index=None,
                             placeholder="Every company", format_func=isolated, key=RK.RQ_COMPANY)
    sites = side.multiselect("Earned at", list(LOCATIONS), placeholder="Both locations", key=RK.RQ_SITES)
    return DueFilters(int(days), tuple(courses), company, tuple(sites))


def due_list(f: DueFilters, version: int) -> list[Due]:
    return _due(data.database_url(), f, version)


def _book(certificate_id: str, session_id: str, name: str, label: str) -> None:
    # One key per certificate and session: a double click books once (the second is a replay).
    idem = RK.requalify_idem(certificate_id, session_id)
    try:
        made = _book_with(certificate_id, session_id, st.session_state.setdefault(idem, _new_key()))
        if made.replayed and made.status != "confirmed":  # booked before and cancelled since: a new booking
            st.session_state[idem] = _new_key()
            made = _book_with(certificate_id, session_id, st.session_state[idem])
    except CoreError as exc:
        st.session_state[RK.RQ_SAID] = ("error", f"{as_text(name)}: {as_text(exc)}")
    else:
        st.session_state[RK.RQ_SAID] = ("success", f"Booked {as_text(name)} on {as_text(label)}. "
                                                   f"Reference: {made.reference}")


def _new_key() -> str:
    return f"requalify-{uuid.uuid4().hex}"


def _book_with(certificate_id: str, session_id: str, key: str):
    return requalification.book_requalification(data.engine(), certificate_id, session_id,
                                                actor=current_actor(), idempotency_key=key)


def _expiry_text(d: Due) -> str:
    c = d.certificate
    when = f"{c.expires_on:%a} {c.expires_on.day} {c.expires_on:%b %Y}"
    left = "today" if d.days_left == 0 else f"in {d.days_left} day{'s' if d.days_left != 1 else ''}"
    return f"expires {when} ({left})"


def render_due(items: list[Due], f: DueFilters) -> None:
    """By course: each certificate with who, company, site, expiry, and what to book."""
    said = st.session_state.pop(RK.RQ_SAID, None)
    if said:
        (st.success if said[0] == "success" else st.error)(said[1])
    booked = sum(d.booked_on is not None for d in items)
    st.caption(f"{len(items)} certificate{'s' if len(items) != 1 else ''} expiring within {f.days} days; "
               f"{booked} of them already booked on a later session.")
    if not items:
        st.info("No certificate expires in this period with these filters.", icon=":material/verified:")
        return
    may_book = can("staff")
    for course in dict.fromkeys(d.certificate.course_type for d in items):
        group = [d for d in items if d.certificate.course_type == course]
        st.markdown(f"#### {as_text(course)} · {len(group)}")
        for d in group:
            _due_card(d, may_book)


def _due_card(d: Due, may_book: bool) -> None:
    c = d.certificate
    with st.container(border=True, key=f"rq_card_{c.id}"):
        st.html(html_line(c.name, c.company, c.email))
        st.html(html_line(_expiry_text(d), f"certificate {c.number}", f"earned at {d.site}"))
        if d.booked_on:
            st.success(f"Booked on {as_text(d.booked_on)}", icon=":material/event_available:")
            return
        if not d.next_sessions:
            st.warning("No session of this course with places in the next year: schedule one.",
                       icon=":material/event_busy:")
            return
        for s in d.next_sessions:
            label = f"{s.label}, {s.start_time:%H:%M}"
            text = f"Book · {s.session_date:%a} {s.session_date.day} {s.session_date:%b} · {s.location} · {places_text(s)}"
            st.button(text, key=RK.requalify_book(c.id, s.id), disabled=not may_book, width="stretch",
                      on_click=_book, args=(str(c.id), str(s.id), c.name, label),
                      help=f"Book {as_text(c.name)} on {as_text(label)}")


def validity_editor(version: int) -> None:
    """Admins: how many months each course's certificate lasts (empty: none)."""
    if not can("admin"):
        return
    with st.expander("Certificate validity per course (admins)"):
        with st.form(RK.RQ_VALIDITY_FORM, border=False):
            current = _validity(data.database_url(), version)
            wanted = {course: st.number_input(f"{as_text(course)} (months, 0 for no certificate)", min_value=0,
                                              max_value=certificates.MAX_MONTHS, value=months or 0,
                                              key=RK.validity_field(course))
                      for course, months in current.items()}
            if st.form_submit_button("Save validity"):
                try:
                    for course, months in wanted.items():
                        if (months or None) != current[course]:
                            certificates.set_validity(data.engine(), course, months or None, actor=current_actor())
                except CoreError as exc:
                    st.error(as_text(exc))
                else:
                    st.success("Saved. Certificates already issued keep their dates.")


@st.cache_data(max_entries=8, show_spinner=False)
def _certificates_file(url: str, fmt: str, company: str | None, version: int):
    return certificates_export.export_certificates(data.engine(), fmt, company=company)


def certificates_downloads(version: int) -> None:
    """The Exports page's certificates section: CSV and Excel, for one company or all."""
    st.subheader("Certificates")
    company = st.selectbox("Company", _companies(data.database_url(), version), index=None,
                           placeholder="Every company", format_func=isolated, key=RK.CERT_COMPANY)
    csv_file = _certificates_file(data.database_url(), "csv", company, version)
    xlsx_file = _certificates_file(data.database_url(), "xlsx", company, version)
    whose = f"{as_text(company)}'s people" if company else "everyone"
    st.caption(f"{csv_file.rows} certificate{'s' if csv_file.rows != 1 else ''} of {whose}, soonest expiry first.")
    left, right = st.columns(2)
    left.download_button("Certificates CSV", csv_file.content, file_name=csv_file.filename, mime=csv_file.mime,
                         icon=":material/download:", key=RK.CERT_CSV, width="stretch")
    right.download_button("Certificates Excel", xlsx_file.content, file_name=xlsx_file.filename, mime=xlsx_file.mime,
                          icon=":material/download:", key=RK.CERT_XLSX, width="stretch")


@st.cache_data(max_entries=8, show_spinner=False)
def _demand(url: str, first: dt.date, courses: tuple[str, ...], version: int):
    rows = requalification.demand_by_month(data.engine(), 12, first=first)
    return [r for r in rows if not courses or r.course_type in courses]


def render_demand(day: dt.date, courses: tuple[str, ...], version: int, types) -> None:
    """The dashboard's next 12 months: certificates expiring beside the places scheduled."""
    rows = _demand(data.database_url(), day, courses, version)
    if not rows:
        st.markdown("**Requalification demand, next 12 months**")
        st.info("No certificate expires and no session is scheduled in the next 12 months.",
                icon=":material/bar_chart:")
        return
    chart = requal_charts.requalification_demand(requal_charts.demand_frame(rows), types)
    st.plotly_chart(chart.figure, key=chart.key, config={"displaylogo": False, "displayModeBar": False})
    st.caption(f"**What to read:** {as_text(chart.read_me)}")
