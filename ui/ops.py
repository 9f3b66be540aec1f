"""Streamlit helpers of the operations pages: the date range a page covers, the cached
occupancy report, and the dashboard's numbers, charts and next-14-days table.

No SQL here: figures come from core.reports, files from core.exports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core import wording
from core.config import today
from core.exports import MIME, ExportScope, export_sessions, load_registers, register_html, register_xlsx
from core.models import CourseType, Session
from core.reports import AT_RISK_DAYS, OccupancyReport
from ui import data, viewport
from ui import ops_charts as charts
from ui import ops_keys as OK
from ui.filters import Filters
from ui.text import as_text

DASHBOARD_WEEKS_BACK = 4
DASHBOARD_WEEKS_AHEAD = 8


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def long_date(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def page_range(filters: Filters, today: dt.date, *, weeks_back: int, weeks_ahead: int) -> tuple[dt.date, dt.date, bool]:
    """The sidebar's From/To, or a default window around this week; True when defaulted."""
    default_start = monday(today) - dt.timedelta(weeks=weeks_back)
    default_end = monday(today) + dt.timedelta(weeks=weeks_ahead, days=-1)
    start = filters.date_from or default_start
    end = filters.date_to or default_end
    if end < start:  # only one end given, on the far side of the default
        end = start + (default_end - default_start)
    return start, end, not (filters.date_from or filters.date_to)


def scope_text(start: dt.date, end: dt.date, filters: Filters, *, defaulted: bool) -> str:
    courses = ", ".join(map(as_text, filters.course_types)) if filters.course_types else "all courses"
    sites = ", ".join(filters.locations) if filters.locations else "both locations"
    text = f"Sessions from **{long_date(start)}** to **{long_date(end)}** · {courses} · {sites}."
    if defaulted:
        text += (f" (Default: {DASHBOARD_WEEKS_BACK} weeks back to {DASHBOARD_WEEKS_AHEAD} weeks ahead; "
                 "set From and To in the sidebar to change it.)")
    return text


# --------------------------------------------------------------------------- cached reads


def report(start: dt.date, end: dt.date, filters: Filters, today: dt.date, version: int) -> OccupancyReport:
    """The occupancy figures, recomputed only when the range, filters, day or version move."""
    return data.report(start, end, filters.course_types, filters.locations, today, version)


# --------------------------------------------------------------------------- dashboard pieces


def render_headline(rep: OccupancyReport) -> None:
    h = rep.headline
    cols = st.columns(6)
    cols[0].metric("Sessions run", f"{h.sessions_run:,}", border=True,
                   help="Sessions in the range that were not cancelled: completed ones and those still to come.")
    cols[1].metric("Places sold", f"{h.places_sold:,}", border=True,
                   help=f"Places booked on those sessions, out of {h.capacity:,} places in all.")
    cols[2].metric("Fill rate", "–" if h.fill_rate is None else f"{h.fill_rate:.0%}", border=True,
                   help="Places sold divided by the places the sessions had.")
    cols[3].metric("Full sessions", f"{h.full_sessions:,}", border=True, help="Sessions with no place left.")
    cols[4].metric("At risk", f"{h.at_risk:,}", border=True,
                   help=f"Scheduled sessions in the range starting today or in the next {AT_RISK_DAYS - 1} days "
                        "that are less than half full: the ⚠ rows of the table below.")
    cols[5].metric("Cancelled", f"{h.cancelled:,}", border=True,
                   help="Sessions in the range that were cancelled (their bookings were marked for rebooking).")
    st.caption(f"{h.places_sold:,} of {h.capacity:,} places sold on {h.sessions_run:,} sessions. "
               f"At risk: starting in the next {AT_RISK_DAYS} days and less than half full.")


def _render_chart(item: charts.Chart | tuple[str, str]) -> None:
    if isinstance(item, tuple):
        title, why = item
        st.markdown(f"**{title}**")
        st.info(why, icon=":material/bar_chart:")
        return
    st.plotly_chart(item.figure, key=item.key, config={"displaylogo": False, "displayModeBar": False})
    st.caption(f"**What to read:** {item.read_me}")


def render_charts(start: dt.date, end: dt.date, filters: Filters, today: dt.date, version: int,
                  types: Sequence[CourseType]) -> None:
    items = data.charts(start, end, filters.course_types, filters.locations, today, version, tuple(types))
    week, site, heat, pace, lead = items
    _render_chart(week)
    left, right = st.columns(2)
    with left:
        _render_chart(site)
    with right:
        _render_chart(heat)
    left, right = st.columns(2)
    with left:
        _render_chart(pace)
    with right:
        _render_chart(lead)


def next_days_table(frame: pd.DataFrame, types: Sequence[CourseType]) -> pd.DataFrame:
    """The next-14-days frame as staff read it (risk first, as core.reports sorted it)."""
    codes = {t.name: t.short_code for t in types}
    return pd.DataFrame({
        "Risk": ["⚠ At risk" if r else "" for r in frame.at_risk],
        "Date": pd.to_datetime(frame.session_date),
        "In": [("today" if d == 0 else "tomorrow" if d == 1 else f"{d} days") for d in frame.days_away],
        "Time": [f"{s:%H:%M}-{e:%H:%M}" for s, e in zip(frame.start_time, frame.end_time)],
        "Course": [f"{c} ({codes.get(c, c)})" for c in frame.course_type],
        "Location": frame.location,
        "Booked": [f"{b} of {c}" for b, c in zip(frame.booked, frame.capacity)],
        "Places left": frame.places_left,
        "Held now": frame.held,
        "Waiting": frame.waiting,
        "Fill": (frame.fill_rate * 100).round(0),
    })


def render_next_days(rep: OccupancyReport, types: Sequence[CourseType]) -> None:
    """The sessions the At risk tile counts (core.reports: the same definition, the same dates)."""
    days = rep.risk_range
    span = f"{long_date(days[0])} to {long_date(days[1])}" if days else ""
    st.markdown(f"**Next {AT_RISK_DAYS} days within the dates chosen{': ' + span if days else ''}** · "
                "sessions and places left, at-risk sessions first")
    frame = rep.next_days
    if days is None:
        st.info(f"The dates chosen do not include today or the next {AT_RISK_DAYS - 1} days, so no session in "
                "them can be at risk. Set From and To in the sidebar to look ahead.", icon=":material/event_note:")
        return
    if frame.empty:
        st.info(f"No scheduled sessions from {span} for these filters.", icon=":material/event_note:")
        return
    st.dataframe(
        next_days_table(frame, types), hide_index=True, width="stretch", key=OK.NEXT_DAYS_TABLE,
        height=min(38 + 35 * len(frame), 560),
        column_order=viewport.phone_columns("Date", "Places left", "Course"),
        column_config={
            "Date": st.column_config.DateColumn("Date", format="ddd D MMM"),
            "Places left": st.column_config.NumberColumn("Places left", format="%d"),
            "Held now": st.column_config.NumberColumn("Held now", format="%d",
                                                      help="Places held for callers right now (they expire)."),
            "Waiting": st.column_config.NumberColumn("Waiting", format="%d", help="People on the waiting list."),
            "Risk": st.column_config.TextColumn("Risk", help="Less than half full", width="small"),
            "Fill": st.column_config.ProgressColumn("Fill", min_value=0, max_value=100, format="%.0f%%"),
        },
    )
    at_risk = int(frame.at_risk.sum())
    if at_risk:
        them = "them" if at_risk > 1 else "it"
        lead = (f"{wording.count(at_risk, 'session')} from {span} "
                f"{'are' if at_risk > 1 else 'is'} less than half full: promote {them}, or move the bookings "
                "and cancel in good time.")
    else:
        lead = f"No session from {span} is less than half full."
    st.caption(f"**What to read:** {lead} Below the at-risk ones: the emptiest sessions first.")


# --------------------------------------------------------------------------- exports


def export_scope(start: dt.date, end: dt.date, filters: Filters) -> ExportScope:
    return ExportScope(start, end, filters.course_types or None, filters.locations or None,
                       filters.states or None, include_cancelled=filters.show_cancelled)


def _export_file(scope: ExportScope, fmt: str):
    """A no-argument callable for st.download_button: the file is made only when clicked."""
    return lambda: export_sessions(data.engine(), scope, fmt).data


def sessions_downloads(start: dt.date, end: dt.date, filters: Filters, version: int, *, defaulted: bool) -> None:
    scope = export_scope(start, end, filters)
    count = len(data.sessions(start, end, filters, version))
    st.subheader("Sessions with availability")
    st.markdown(f"{wording.count(count, 'session')}: {as_text(scope.describe())}."
                + (" (Default range: this week and the next 7; set From and To in the sidebar.)" if defaulted else ""))
    if not count:
        st.info("No sessions match the filters: widen the dates or filters in the sidebar.", icon=":material/info:")
        return
    csv_col, xlsx_col, ics_col = st.columns(3)
    stem = scope.file_stem()
    csv_col.download_button("CSV", _export_file(scope, "csv"), file_name=f"{stem}.csv", mime=MIME["csv"],
                            key=OK.EXP_CSV, icon=":material/table_view:", width="stretch")
    csv_col.caption("One row per session; opens in Excel with accents intact.")
    _xlsx_download(xlsx_col, scope, count, version)
    xlsx_col.caption("Sheets: Summary, Sessions and Bookings (with contacts and attendees).")
    ics_col.download_button("Calendar (.ics)", _export_file(scope, "ics"), file_name=f"{stem}.ics",
                            mime=MIME["ics"], key=OK.EXP_ICS, icon=":material/event:", width="stretch")
    ics_col.caption("For Outlook or Google Calendar: every session, saying its places left, FULL, "
                    "running, over or cancelled; UK time.")


# From this many sessions the workbook is built on the page, with a progress bar, before
# it is offered (a plain download button would give no sign of life for several seconds).
LARGE_EXPORT_SESSIONS = 2_000


def _xlsx_download(col, scope: ExportScope, count: int, version: int) -> None:
    """The Excel download: direct for a small scope; for a large one a Prepare button that
    builds the workbook with progress, kept for this scope and data version, then offered."""
    name = f"{scope.file_stem()}.xlsx"
    options = dict(file_name=name, mime=MIME["xlsx"], key=OK.EXP_XLSX, icon=":material/grid_on:", width="stretch")
    if count < LARGE_EXPORT_SESSIONS:
        col.download_button("Excel workbook", _export_file(scope, "xlsx"), **options)
        return
    made = st.session_state.get(OK.EXP_XLSX_READY)
    if not (made and made[0] == (scope, version)):
        if not col.button(f"Prepare Excel workbook ({count:,} sessions)", key=OK.EXP_XLSX_PREPARE,
                          icon=":material/grid_on:", width="stretch"):
            return
        with col.status("Building the workbook...", expanded=True) as status:
            bar = st.progress(0.0, text="Reading sessions and bookings")

            def progress(done: int, total: int) -> None:
                bar.progress(done / total if total else 1.0, text=f"{done:,} of {total:,} rows written")

            made = ((scope, version), export_sessions(data.engine(), scope, "xlsx", progress=progress).data)
            status.update(label=f"Workbook ready: {len(made[1]) / 1e6:.1f} MB", state="complete", expanded=False)
        st.session_state[OK.EXP_XLSX_READY] = made
    col.download_button("Excel workbook", made[1], **options)


def _register_label(by_id: dict[str, Session]):
    def label(value: str) -> str:
        if value == "all":
            return f"Every session that day ({len(by_id)})"
        s = by_id[value]
        return f"{wording.hours(s.start_time, s.end_time)} · {s.course_type} · {s.location} · {s.current_bookings} booked"

    return label


def register_downloads(filters: Filters, version: int) -> None:
    st.subheader("Attendance register")
    st.caption("One row per person expected, with a column to sign; places booked without a name get a row too.")
    left, right = st.columns([1, 3])
    day = left.date_input("Day", value=today(), key=OK.REG_DAY, format="DD/MM/YYYY")
    on_day = data.sessions(day, day, Filters(course_types=filters.course_types, locations=filters.locations), version)
    by_id = {str(s.id): s for s in on_day}
    if not by_id:
        right.info(f"No sessions on {long_date(day)} for these filters.", icon=":material/event_busy:")
        return
    picked = right.selectbox("Session", ["all", *by_id], key=OK.REG_SESSION, format_func=_register_label(by_id))
    if picked == "all":
        registers = load_registers(data.engine(), day=day, locations=filters.locations or None,
                                   course_types=filters.course_types or None)
        stem = f"register_{day:%Y-%m-%d}"
    else:
        registers = load_registers(data.engine(), session_id=picked)
        s = by_id[picked]
        stem = f"register_{day:%Y-%m-%d}_{s.short_code}_{s.start_time:%H%M}_{s.location.removeprefix('Location ')}"
    page_html = register_html(registers)
    xlsx_col, html_col, _ = st.columns(3)
    xlsx_col.download_button("Register (Excel)", lambda: register_xlsx(registers), file_name=f"{stem}.xlsx",
                             mime=MIME["xlsx"], key=OK.REG_XLSX, icon=":material/grid_on:", width="stretch")
    html_col.download_button("Register (printable page)", page_html.encode("utf-8"), file_name=f"{stem}.html",
                             mime="text/html", key=OK.REG_HTML, icon=":material/print:", width="stretch")
    html_col.caption("Open it in a browser and print, or save as PDF (A4 landscape).")
    with st.expander("Preview the printable register", expanded=False):
        # Every value in the page is HTML-escaped by core.exports.register_html.
        st.iframe(page_html, height=520)


def command_line(start: dt.date, end: dt.date, filters: Filters, types: Sequence[CourseType]) -> str:
    """The `python -m core export` line that gives the same sessions file, for scheduled jobs."""
    codes = {t.name: t.short_code for t in types}
    parts = ["python -m core export --format xlsx", f"--from {start:%Y-%m-%d} --to {end:%Y-%m-%d}"]
    if filters.course_types:
        parts.append("--course-type " + " ".join(codes.get(c, repr(c)) for c in filters.course_types))
    if filters.locations:
        parts.append("--location " + " ".join(loc.removeprefix("Location ") for loc in filters.locations))
    if filters.show_cancelled:
        parts.append("--include-cancelled")
    parts.append(f"--output sessions_{start:%Y-%m-%d}.xlsx")
    return " ".join(parts)


def export_url(start: dt.date, end: dt.date, filters: Filters, types: Sequence[CourseType], base: str) -> str:
    """The app's /api/export address that gives the same sessions file (server.py)."""
    from urllib.parse import urlencode

    codes = {t.name: t.short_code for t in types}
    query = {"format": "xlsx", "from": f"{start:%Y-%m-%d}", "to": f"{end:%Y-%m-%d}"}
    if filters.course_types:
        query["courseType"] = ",".join(codes.get(c, c) for c in filters.course_types)
    if filters.locations:
        query["location"] = ",".join(loc.removeprefix("Location ") for loc in filters.locations)
    if filters.show_cancelled:
        query["includeCancelled"] = "1"
    return f"{base.rstrip('/')}/api/export?{urlencode(query)}"


def _app_address() -> str:
    try:
        url = st.context.url or ""
    except AttributeError:  # an older Streamlit
        url = ""
    parts = url.split("/")
    return "/".join(parts[:3]) if url.startswith("http") else "https://calendar.example.co.uk"


def command_line_hint(start: dt.date, end: dt.date, filters: Filters, types: Sequence[CourseType]) -> None:
    st.subheader("On a schedule")
    st.caption("The same sessions export for a scheduled job (format csv, xlsx or ics). The availability "
               "filter applies on this page only.")
    st.markdown("**While the app runs** (on DuckDB, the default, always this way: the app owns the database "
                "file and the command line cannot open it): ask the app for the file, with the feed token "
                "when sign-in is configured.")
    url = export_url(start, end, filters, types, _app_address())
    st.code(f'curl -fsS -H "Authorization: Bearer $FEED_TOKEN" -o sessions_{start:%Y-%m-%d}.xlsx "{url}"',
            language="bash", wrap_lines=True)  # wrapped: no scrolling box that Tab cannot reach
    st.markdown("**On PostgreSQL, or with the app stopped**: the command line reads the database itself.")
    st.code(command_line(start, end, filters, types), language="bash", wrap_lines=True)


def database_or_stop() -> int:
    """The change version; when the database cannot be reached, say so and stop the page
    (these pages write or export, so they never work on stale data)."""
    from ui import live

    status = live.poll()
    if not status.ok or status.version is None:
        live.show_status(status)
        st.error("The database cannot be reached right now, so nothing can be changed or exported. "
                 "Reload the page in a moment.", icon=":material/cloud_off:")
        st.stop()
    return status.version
