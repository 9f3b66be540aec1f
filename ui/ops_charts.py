"""Plotly figures of the occupancy dashboard, and the sentence that says what to read in
each. Pure functions of the aggregated frames of `core.reports` (no Streamlit here, so
they are easy to test); course colours come from the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import pandas as pd
import plotly.graph_objects as go

from core.catalog import UNKNOWN_COLOUR
from core.models import CourseType
from core.reports import LEAD_TIME_BUCKETS, WEEKDAY_SHORT

ALL_COURSES_COLOUR = "#374151"
TITLE_BAND_PX = 40
FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=13, color="#111827")


@dataclass(frozen=True)
class Chart:
    """A figure with the one line under it that tells the manager what to look for."""

    key: str
    figure: go.Figure
    read_me: str


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _colours(types: Sequence[CourseType]) -> dict[str, str]:
    return {t.name: t.colour for t in types}


def _course_order(types: Sequence[CourseType], present: Sequence[str]) -> list[str]:
    known = [t.name for t in types if t.name in set(present)]
    return known + sorted(set(present) - set(known))


def _short(types: Sequence[CourseType]) -> dict[str, str]:
    return {t.name: t.short_code for t in types}


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, *, height: int = 380, legend: bool = True) -> go.Figure:
    # The legend sits in its own band under the title, placed in the figure's pixels
    # (yref container) so that plotly grows the top margin to fit it: under the plot, at a
    # fraction of the plot's height, it covered the x axis title and, on a phone where the
    # dates turn upright, the dates too.
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=17), yref="container", y=1, yanchor="top",
                   pad=dict(t=8)),
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        margin=dict(l=10, r=10, t=48, b=10),
        font=FONT,
        legend=dict(title_text="", orientation="h", yref="container", yanchor="top", y=1 - TITLE_BAND_PX / height,
                    xanchor="left", x=0),
        showlegend=legend,
        plot_bgcolor="#FFFFFF",
        hoverlabel=dict(font_size=13),
    )
    fig.update_xaxes(showgrid=False, linecolor="#9CA3AF")
    fig.update_yaxes(gridcolor="#E5E7EB", zeroline=False)
    return fig


def fill_by_week(by_week: pd.DataFrame, types: Sequence[CourseType]) -> Chart:
    colours = _colours(types)
    fig = go.Figure()
    for course in _course_order(types, by_week.course_type.unique()):
        rows = by_week[by_week.course_type == course]
        fig.add_trace(go.Scatter(
            x=rows.week_start, y=rows.fill_rate * 100, name=course, mode="lines+markers",
            line=dict(color=colours.get(course, UNKNOWN_COLOUR), width=2), marker=dict(size=7),
            customdata=list(zip(rows.places_sold, rows.capacity, rows.sessions)),
            hovertemplate="Week of %{x|%d %b}<br>" + course
                          + ": %{y:.0f}% (%{customdata[0]} of %{customdata[1]} places, %{customdata[2]} sessions)"
                            "<extra></extra>",
        ))
    weekly = by_week.groupby("week_start", as_index=False)[["places_sold", "capacity"]].sum()
    weekly["fill_rate"] = weekly.places_sold / weekly.capacity
    fig.add_trace(go.Scatter(
        x=weekly.week_start, y=weekly.fill_rate * 100, name="All courses", mode="lines",
        line=dict(color=ALL_COURSES_COLOUR, width=3, dash="dash"),
        hovertemplate="Week of %{x|%d %b}<br>All courses: %{y:.0f}%<extra></extra>",
    ))
    fig.add_hline(y=50, line=dict(color="#DC2626", width=1, dash="dot"),
                  annotation_text="half full", annotation_position="bottom right")
    _layout(fig, "Fill rate by week and course", "Week starting (Monday)", "Places sold (% of capacity)")
    fig.update_yaxes(range=[0, 105], ticksuffix="%")
    if len(weekly) <= 16:  # one tick per week, on the Mondays (plotly's default weeks start on Sunday)
        fig.update_xaxes(tickformat="%d %b", dtick=7 * 24 * 3600 * 1000, tick0=weekly.week_start.min())
    else:
        fig.update_xaxes(tickformat="%d %b")
    best, worst = weekly.loc[weekly.fill_rate.idxmax()], weekly.loc[weekly.fill_rate.idxmin()]
    read = (f"The dashed line is all courses together. Fullest week: w/c {best.week_start:%d %b} "
            f"({_pct(best.fill_rate)}); emptiest: w/c {worst.week_start:%d %b} ({_pct(worst.fill_rate)}). "
            "Weeks below the red half-full line need promoting.")
    return Chart("chart_fill_by_week", fig, read)


def by_location(frame: pd.DataFrame, types: Sequence[CourseType]) -> Chart:
    colours = _colours(types)
    fig = go.Figure()
    for course in _course_order(types, frame.course_type.unique()):
        rows = frame[frame.course_type == course]
        fig.add_trace(go.Bar(
            x=rows.location, y=rows.fill_rate * 100, name=course,
            marker_color=colours.get(course, UNKNOWN_COLOUR),
            text=[f"{r:.0%}" for r in rows.fill_rate], textposition="outside",
            customdata=list(zip(rows.places_sold, rows.capacity, rows.sessions)),
            hovertemplate="%{x}<br>" + course
                          + ": %{y:.0f}% (%{customdata[0]} of %{customdata[1]} places, %{customdata[2]} sessions)"
                            "<extra></extra>",
        ))
    _layout(fig, "Location A vs Location B: fill rate by course", "Location", "Places sold (% of capacity)")
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(range=[0, 115], ticksuffix="%")
    sites = frame.groupby("location")[["places_sold", "capacity"]].sum()
    summary = "; ".join(f"{loc}: {_pct(r.places_sold / r.capacity)} of {r.capacity:,} places sold"
                        for loc, r in sites.iterrows() if r.capacity)
    read = f"{summary}. A course much fuller at one site than the other may need more dates there."
    return Chart("chart_by_location", fig, read)


def weekday_heatmap(frame: pd.DataFrame, types: Sequence[CourseType]) -> Chart:
    colours, codes = _colours(types), _short(types)
    courses = _course_order(types, frame.course_type.unique())
    days = [d for d in range(1, 8) if d <= 5 or d in set(frame.weekday)]
    rate = frame.pivot_table(index="course_type", columns="weekday", values="fill_rate").reindex(index=courses, columns=days)
    count = frame.pivot_table(index="course_type", columns="weekday", values="sessions").reindex(index=courses, columns=days)
    text = [["" if pd.isna(r) else f"{r:.0%}" for r in rate_row] for rate_row in rate.values]
    labels = [f"<span style='color:{colours.get(c, UNKNOWN_COLOUR)}'>■</span> {codes.get(c, c)}" for c in courses]
    fig = go.Figure(go.Heatmap(
        z=rate.values * 100, x=[WEEKDAY_SHORT[d - 1] for d in days], y=labels, text=text,
        customdata=count.fillna(0).astype(int).values,
        texttemplate="%{text}", textfont=dict(size=14), colorscale="Teal", zmin=0, zmax=100, xgap=3, ygap=3,
        colorbar=dict(title=dict(text="Fill rate"), ticksuffix="%"),
        hovertemplate="%{y} on %{x}: %{z:.0f}% full over %{customdata} sessions<extra></extra>",
        hoverongaps=False,
    ))
    _layout(fig, "Fill rate by weekday and course", "Day of the week", "Course", legend=False,
            height=max(300, 130 + 70 * len(courses)))
    fig.update_yaxes(autorange="reversed", gridcolor=None)
    read = ("Darker cells fill better; blank cells have no sessions. Schedule each course on the days "
            "where its row is darkest.")
    return Chart("chart_weekday_heatmap", fig, read)


def booking_pace(pace: pd.DataFrame, types: Sequence[CourseType], today=None) -> Chart:
    colours = _colours(types)
    fig = go.Figure()
    for course in _course_order(types, pace.course_type.unique()):
        rows = pace[pace.course_type == course]
        fig.add_trace(go.Bar(
            x=rows.booked_on, y=rows.seats, name=course, marker_color=colours.get(course, UNKNOWN_COLOUR),
            customdata=rows.bookings,
            hovertemplate="%{x|%a %d %b}<br>" + course + ": %{y} places in %{customdata} bookings<extra></extra>",
        ))
    daily = pace.groupby("booked_on").seats.sum()
    daily = daily.reindex(pd.date_range(daily.index.min(), daily.index.max(), freq="D"), fill_value=0)
    average = daily.rolling(7, min_periods=1).mean()
    fig.add_trace(go.Scatter(
        x=average.index, y=average.values, name="7-day average (all courses)", mode="lines",
        line=dict(color=ALL_COURSES_COLOUR, width=2),
        hovertemplate="%{x|%a %d %b}: %{y:.1f} places a day on average<extra></extra>",
    ))
    _layout(fig, "Booking pace: places booked per day", "Day the booking was made", "Places booked")
    fig.update_layout(barmode="stack", bargap=0.15)
    fig.update_xaxes(tickformat="%d %b")
    last = pd.Timestamp(today) if today is not None else daily.index.max()
    recent = int(daily[(daily.index > last - pd.Timedelta(days=7)) & (daily.index <= last)].sum())
    read = (f"Places booked each day for the sessions in this range (cancelled bookings left out): "
            f"{recent} in the last 7 days. A falling 7-day average ahead of busy weeks is the cue "
            "to chase sales.")
    return Chart("chart_booking_pace", fig, read)


def lead_time(frame: pd.DataFrame, types: Sequence[CourseType]) -> Chart:
    colours = _colours(types)
    order = [b[0] for b in LEAD_TIME_BUCKETS]
    fig = go.Figure()
    for course in _course_order(types, frame.course_type.unique()):
        rows = frame[frame.course_type == course].set_index("bucket").reindex(order)
        fig.add_trace(go.Bar(
            x=order, y=rows.seats.fillna(0), name=course, marker_color=colours.get(course, UNKNOWN_COLOUR),
            hovertemplate="%{x} before: " + course + " %{y} places<extra></extra>",
        ))
    totals = frame.groupby("bucket").seats.sum().reindex(order).fillna(0)
    share = totals / totals.sum()
    fig.add_trace(go.Scatter(
        x=order, y=totals, mode="text", text=[f"{s:.0%}" if t else "" for s, t in zip(share, totals)],
        textposition="top center", showlegend=False, hoverinfo="skip",
    ))
    _layout(fig, "How far ahead people book (lead time)", "Booked this long before the course", "Places booked")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(categoryorder="array", categoryarray=order)
    fig.update_yaxes(range=[0, max(float(totals.max()), 1.0) * 1.18])
    within_two_weeks = share[order[:3]].sum()
    read = (f"{within_two_weeks:.0%} of places are booked less than two weeks ahead. The more that book late, "
            "the longer a quiet session is worth keeping open and promoting.")
    return Chart("chart_lead_time", fig, read)


def build_all(rep, types: Sequence[CourseType], today) -> list[Chart | tuple[str, str]]:
    """The dashboard's five charts of an OccupancyReport, in order; (title, why) for an empty one."""
    plan = (
        ("by_week", fill_by_week, "Fill rate by week and course"),
        ("by_location", by_location, "Location A vs Location B: fill rate by course"),
        ("by_weekday", weekday_heatmap, "Fill rate by weekday and course"),
        ("pace", partial(booking_pace, today=today), "Booking pace: places booked per day"),
        ("lead_time", lead_time, "How far ahead people book (lead time)"),
    )
    built: list[Chart | tuple[str, str]] = []
    for attr, build, title in plan:
        frame = getattr(rep, attr)
        built.append(build(frame, types) if not frame.empty else (title, "Nothing to show for this range and filters."))
    return built
