"""Occupancy: the Monday figures. Headline numbers, fill-rate charts, booking pace and lead
time, and the next 14 days riskiest first; all live, for the sidebar's range and filters."""

import streamlit as st

from core.config import today
from ui.auth import require_role
from ui import live, ops, page, requalify
from ui.filters import sidebar_filters

page.setup("Occupancy")
require_role("viewer")
types = page.course_types()
filters = sidebar_filters(types, with_states=False)
start, end, defaulted = ops.page_range(filters, today(), weeks_back=ops.DASHBOARD_WEEKS_BACK,
                                       weeks_ahead=ops.DASHBOARD_WEEKS_AHEAD)
st.title("Occupancy")
st.markdown(ops.scope_text(start, end, filters, defaulted=defaulted))


@live.fragment
def live_dashboard(status: live.LiveStatus) -> None:
    day = today()
    report = live.keep_last("occupancy", (start, end, filters, day, status.version),
                            lambda: ops.report(start, end, filters, day, status.version))
    ops.render_headline(report)
    ops.render_charts(start, end, filters, day, status.version, types)
    ops.render_next_days(report, types)
    requalify.render_demand(day, filters.course_types, status.version, types)


live_dashboard()
