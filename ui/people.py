"""The People page: find a person, see their bookings, attendance and certificates, and
merge two records of the same person (every certificate is kept)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import people
from core.errors import CoreError
from core.people import History, Person
from ui import data
from ui import requal_keys as RK
from ui.auth import can, current_actor
from ui.text import as_text, html_line, isolated


@st.cache_data(max_entries=16, show_spinner=False)
def _found(url: str, search: str, version: int) -> list[Person]:
    return people.find_people(data.engine(), search)


@st.cache_data(max_entries=16, show_spinner=False)
def _history(url: str, person_id: str, version: int) -> History:
    return people.history(data.engine(), person_id)


def _label(p: Person) -> str:
    return isolated(" · ".join(v for v in (p.name, p.email, p.company) if v))


def choose_person(version: int) -> Person | None:
    search = st.text_input("Find a person", key=RK.PP_SEARCH, max_chars=100,
                           placeholder="name, e-mail or company")
    found = _found(data.database_url(), search, version)
    if not found:
        st.info("Nobody matches. People appear here once a register they are on is marked.",
                icon=":material/person_search:")
        return None
    return st.selectbox(f"{len(found)} found", found, format_func=_label, key=RK.PP_CHOSEN)


def show_history(person: Person, version: int) -> None:
    h = _history(data.database_url(), str(person.id), version)
    st.html(html_line(h.person.name, h.person.email, h.person.company))
    st.markdown(f"**Certificates** ({len(h.certificates)})")
    if h.certificates:
        st.dataframe(pd.DataFrame([{"Course": isolated(c.course_type), "Number": c.number, "Issued": c.issued_on,
                                    "Expires": c.expires_on} for c in h.certificates]),
                     hide_index=True, width="stretch", key=f"pp_certs_{person.id}",
                     column_config={"Issued": st.column_config.DateColumn(format="D MMM YYYY"),
                                    "Expires": st.column_config.DateColumn(format="D MMM YYYY")})
    st.markdown(f"**Attendance** ({len(h.attendance)})")
    if h.attendance:
        st.dataframe(pd.DataFrame([{
            "Date": a.session_date, "Course": isolated(a.course_type), "Location": a.location,
            "Attended": "yes" if a.attended else "absent",
            "Result": {True: "passed", False: "not passed", None: ""}[a.passed]} for a in h.attendance]),
            hide_index=True, width="stretch", key=f"pp_attendance_{person.id}",
            column_config={"Date": st.column_config.DateColumn(format="D MMM YYYY")})
    st.markdown(f"**Bookings** ({len(h.bookings)})")
    if h.bookings:
        st.dataframe(pd.DataFrame([{"Date": b.session_date, "Course": isolated(b.course_type), "Location": b.location,
                                    "Reference": b.reference, "Status": b.status} for b in h.bookings]),
                     hide_index=True, width="stretch", key=f"pp_bookings_{person.id}",
                     column_config={"Date": st.column_config.DateColumn(format="D MMM YYYY")})


def _merge(keep: Person, other: Person) -> None:
    try:
        kept = people.merge_people(data.engine(), keep.id, other.id, actor=current_actor())
    except CoreError as exc:
        st.session_state[RK.PP_SAID] = ("error", as_text(exc))
    else:
        st.session_state[RK.PP_SAID] = ("success", f"Merged {as_text(other.name)} into {as_text(kept.name)}: "
                                                   "every booking, mark and certificate is now on one record.")
        st.session_state.pop(RK.PP_MERGE_OTHER, None)
        st.session_state.pop(RK.PP_MERGE_SURE, None)


def merge_panel(person: Person, version: int) -> None:
    """Staff: merge another record of the same person into this one."""
    said = st.session_state.pop(RK.PP_SAID, None)
    if said:
        (st.success if said[0] == "success" else st.error)(said[1])
    if not can("staff"):
        return
    st.markdown("**Merge a duplicate into this record**")
    others = [p for p in _found(data.database_url(), "", version) if p.id != person.id]
    other = st.selectbox("The other record of this person", others, index=None, format_func=_label,
                         placeholder="search by name, e-mail or company", key=RK.PP_MERGE_OTHER)
    sure = st.checkbox("They are the same person: keep this record, move everything of the other here and "
                       "remove it", key=RK.PP_MERGE_SURE)
    st.button("Merge", key=RK.PP_MERGE_BUTTON, type="primary", disabled=other is None or not sure,
              on_click=_merge, args=(person, other) if other else None)
