"""The occupancy dashboard's requalification demand: certificates expiring per month and
course for the next 12 months beside the places scheduled, so a manager sees where demand
will outrun the schedule. A pure function of `core.requalification.demand_by_month`."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.models import CourseType
from core.requalification import MonthDemand
from ui.ops_charts import Chart, _colours, _course_order, _layout

SCHEDULED_GREY = "#6B7280"
SHORT_RED = "#B91C1C"


def demand_frame(rows: Sequence[MonthDemand]) -> pd.DataFrame:
    """month, course, expiring, places, booked, free (places not yet booked), short (expiring
    beyond the free places)."""
    frame = pd.DataFrame([r.__dict__ for r in rows], columns=["month", "course_type", "expiring", "places", "booked"])
    frame["free"] = (frame["places"] - frame["booked"]).clip(lower=0)
    frame["short"] = (frame["expiring"] - frame["free"]).clip(lower=0)
    return frame


def requalification_demand(frame: pd.DataFrame, types: Sequence[CourseType]) -> Chart:
    """One panel per course: bars of certificates expiring each month (outlined red where they
    exceed the month's free places), and the places scheduled as a line."""
    courses = _course_order(types, list(frame["course_type"].unique()))
    colours = _colours(types)
    fig = make_subplots(rows=len(courses), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=courses)
    for n, course in enumerate(courses, start=1):
        part = frame[frame["course_type"] == course]
        months = [m.strftime("%b %Y") for m in part["month"]]
        fig.add_trace(go.Bar(
            x=months, y=part["expiring"], name="Certificates expiring", legendgroup="expiring", showlegend=n == 1,
            marker=dict(color=colours.get(course, SCHEDULED_GREY),
                        line=dict(color=[SHORT_RED if s else "rgba(0,0,0,0)" for s in part["short"]], width=2)),
            customdata=part[["free", "short"]],
            hovertemplate="%{x}: %{y} expiring, %{customdata[0]} places free<br>short by %{customdata[1]}<extra></extra>",
        ), row=n, col=1)
        fig.add_trace(go.Scatter(
            x=months, y=part["places"], name="Places scheduled", legendgroup="places", showlegend=n == 1,
            mode="lines+markers", line=dict(color=SCHEDULED_GREY, width=2),
            hovertemplate="%{x}: %{y} places scheduled<extra></extra>",
        ), row=n, col=1)
    _layout(fig, "Requalification demand: certificates expiring vs places scheduled", "", "",
            height=max(260, 190 * len(courses)))
    short = frame[frame["short"] > 0]
    if short.empty:
        read = "every month has at least as many free places as certificates expiring."
    else:
        worst = short.sort_values("short", ascending=False).iloc[0]
        read = (f"{len(short)} course-month{'s' if len(short) != 1 else ''} (red outline) have more certificates "
                f"expiring than free places; the worst is {worst['course_type']} in {worst['month']:%B %Y}, "
                f"short by {int(worst['short'])}.")
    return Chart("requalification_demand", fig, read)
