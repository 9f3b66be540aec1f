"""Occupancy figures for the operations dashboard, aggregated by the database.

Every figure is one SQL statement over `course_sessions` (and `bookings` for the booking
pace and lead time); Python only reshapes the few aggregated rows. The same SQL runs on
DuckDB and PostgreSQL.

Definitions (shown to the manager on the dashboard):
- sessions run: sessions in the range that are not cancelled (scheduled or completed);
- places sold: seats booked on those sessions; fill rate = places sold / their capacity;
- full: no place left; at risk: scheduled, in the range and starting today or in the
  next 13 days (`AT_RISK_DAYS` = 14 days in all), and under half full (`risk_range`,
  `_next_days`: the tile counts the at-risk rows of the table below it);
- cancelled: sessions in the range that were cancelled.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

AT_RISK_DAYS = 14
WEEKDAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Lead time buckets, in days between the day a booking was made and the session date.
LEAD_TIME_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("Same day", 0, 0),
    ("1-6 days", 1, 6),
    ("1-2 weeks", 7, 13),
    ("2-4 weeks", 14, 27),
    ("4-8 weeks", 28, 55),
    ("8+ weeks", 56, 10**6),
)


@dataclass(frozen=True)
class ReportScope:
    """What the figures cover: session dates `start`..`end` (inclusive) and filters.

    `course_types` / `locations` of None (or empty) mean all.
    """

    start: dt.date
    end: dt.date
    course_types: tuple[str, ...] | None = None
    locations: tuple[str, ...] | None = None

    @classmethod
    def of(cls, start, end, course_types: Iterable[str] | None = None, locations: Iterable[str] | None = None):
        return cls(start, end, tuple(course_types) if course_types else None,
                   tuple(locations) if locations else None)


@dataclass(frozen=True)
class Headline:
    sessions_run: int
    places_sold: int
    capacity: int
    full_sessions: int
    at_risk: int
    cancelled: int

    @property
    def fill_rate(self) -> float | None:
        """Places sold / capacity of the sessions run (0..1), None when nothing ran."""
        return self.places_sold / self.capacity if self.capacity else None


@dataclass(frozen=True)
class OccupancyReport:
    scope: ReportScope
    today: dt.date
    headline: Headline
    by_week: pd.DataFrame       # week_start, course_type, sessions, places_sold, capacity, fill_rate
    by_location: pd.DataFrame   # location, course_type, sessions, places_sold, capacity, fill_rate
    by_weekday: pd.DataFrame    # weekday (1=Mon), day, course_type, sessions, places_sold, capacity, fill_rate
    pace: pd.DataFrame          # booked_on, course_type, bookings, seats
    lead_time: pd.DataFrame     # bucket, bucket_order, course_type, bookings, seats
    next_days: pd.DataFrame     # the sessions of the next 14 days within the range, riskiest first
    risk_range: tuple[dt.date, dt.date] | None = None  # the days next_days covers; None: none in range


def _scope_sql(scope: ReportScope, alias: str = "s") -> tuple[str, dict, list[sa.BindParameter]]:
    """WHERE fragment (without WHERE) over the session alias, its params and bind params."""
    where = [f"{alias}.session_date BETWEEN :start AND :end"]
    params: dict = {"start": scope.start, "end": scope.end}
    binds: list[sa.BindParameter] = []
    if scope.course_types:
        where.append(f"{alias}.course_type IN :course_types")
        params["course_types"] = list(scope.course_types)
        binds.append(sa.bindparam("course_types", expanding=True))
    if scope.locations:
        where.append(f"{alias}.location IN :locations")
        params["locations"] = list(scope.locations)
        binds.append(sa.bindparam("locations", expanding=True))
    return " AND ".join(where), params, binds


def _frame(conn: Connection, sql: str, params: dict, binds: list, columns: list[str]) -> pd.DataFrame:
    stmt = sa.text(sql).bindparams(*binds) if binds else sa.text(sql)
    rows = conn.execute(stmt, params).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _with_fill_rate(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("sessions", "places_sold", "capacity"):
        df[col] = df[col].astype("int64")
    df["fill_rate"] = (df["places_sold"] / df["capacity"].where(df["capacity"] > 0)).astype("float64")
    return df


_RUN = "s.status <> 'cancelled'"
AT_RISK_SQL = "s.current_bookings * 2 < s.max_capacity"  # under half full (of scheduled sessions in risk_range)


def risk_range(scope: ReportScope, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The days the at-risk figures cover: today and the next 13 days, within the range."""
    first, last = max(scope.start, today), min(scope.end, today + dt.timedelta(days=AT_RISK_DAYS - 1))
    return (first, last) if first <= last else None


def _headline(conn: Connection, scope: ReportScope, today: dt.date, next_days: pd.DataFrame | None = None) -> Headline:
    """The headline; its at-risk count is that of `_next_days` (one definition, one range)."""
    where, params, binds = _scope_sql(scope)
    sql = f"""
        SELECT
          COALESCE(SUM(CASE WHEN {_RUN} THEN 1 ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN {_RUN} THEN s.current_bookings ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN {_RUN} THEN s.max_capacity ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN {_RUN} AND s.current_bookings >= s.max_capacity THEN 1 ELSE 0 END), 0),
          COALESCE(SUM(CASE WHEN s.status = 'cancelled' THEN 1 ELSE 0 END), 0)
        FROM course_sessions s
        WHERE {where}
    """
    stmt = sa.text(sql).bindparams(*binds) if binds else sa.text(sql)
    run, sold, capacity, full, cancelled = (int(v) for v in conn.execute(stmt, params).one())
    if next_days is None:
        next_days = _next_days(conn, scope, today)
    return Headline(run, sold, capacity, full, int(next_days.at_risk.sum()), cancelled)


def _grouped(conn: Connection, scope: ReportScope, key_sql: str, key_cols: list[str]) -> pd.DataFrame:
    where, params, binds = _scope_sql(scope)
    keys = ", ".join(key_sql.split("|"))
    sql = f"""
        SELECT {keys}, s.course_type,
               COUNT(*), SUM(s.current_bookings), SUM(s.max_capacity)
        FROM course_sessions s
        WHERE {where} AND {_RUN}
        GROUP BY {keys}, s.course_type
        ORDER BY {keys}, s.course_type
    """
    df = _frame(conn, sql, params, binds, [*key_cols, "course_type", "sessions", "places_sold", "capacity"])
    return _with_fill_rate(df)


def _by_week(conn: Connection, scope: ReportScope) -> pd.DataFrame:
    # date_trunc('week') is Monday-based in both DuckDB and PostgreSQL.
    df = _grouped(conn, scope, "CAST(date_trunc('week', s.session_date) AS DATE)", ["week_start"])
    df["week_start"] = pd.to_datetime(df["week_start"])
    return df


def _by_location(conn: Connection, scope: ReportScope) -> pd.DataFrame:
    return _grouped(conn, scope, "s.location", ["location"])


def _by_weekday(conn: Connection, scope: ReportScope) -> pd.DataFrame:
    df = _grouped(conn, scope, "CAST(EXTRACT(ISODOW FROM s.session_date) AS INTEGER)", ["weekday"])
    df["weekday"] = df["weekday"].astype("int64")
    df.insert(1, "day", [WEEKDAY_SHORT[d - 1] for d in df["weekday"]])
    return df


# Booking timestamps are stored as naive UTC; the day a booking was made is the local day.
def _local_booked_at(tz_name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", tz_name):  # an IANA key, spliced into SQL
        raise ValueError(f"not a time zone name: {tz_name!r}")
    return f"((b.created_at AT TIME ZONE 'UTC') AT TIME ZONE '{tz_name}')"


def _pace(conn: Connection, scope: ReportScope, tz_name: str) -> pd.DataFrame:
    where, params, binds = _scope_sql(scope)
    day = f"CAST({_local_booked_at(tz_name)} AS DATE)"
    sql = f"""
        SELECT {day}, s.course_type, COUNT(*), SUM(b.seats)
        FROM bookings b JOIN course_sessions s ON s.id = b.session_id
        WHERE {where} AND {_RUN} AND b.status = 'confirmed'
        GROUP BY {day}, s.course_type
        ORDER BY {day}, s.course_type
    """
    df = _frame(conn, sql, params, binds, ["booked_on", "course_type", "bookings", "seats"])
    df["booked_on"] = pd.to_datetime(df["booked_on"])
    df[["bookings", "seats"]] = df[["bookings", "seats"]].astype("int64")
    return df


def _lead_time(conn: Connection, scope: ReportScope, tz_name: str) -> pd.DataFrame:
    where, params, binds = _scope_sql(scope)
    days = f"(s.session_date - CAST({_local_booked_at(tz_name)} AS DATE))"
    cases = " ".join(
        f"WHEN {days} <= {high} THEN {i}" for i, (_, _, high) in enumerate(LEAD_TIME_BUCKETS)
    )
    bucket = f"CASE {cases} ELSE {len(LEAD_TIME_BUCKETS) - 1} END"
    sql = f"""
        SELECT {bucket}, s.course_type, COUNT(*), SUM(b.seats)
        FROM bookings b JOIN course_sessions s ON s.id = b.session_id
        WHERE {where} AND {_RUN} AND b.status = 'confirmed'
        GROUP BY {bucket}, s.course_type
        ORDER BY {bucket}, s.course_type
    """
    df = _frame(conn, sql, params, binds, ["bucket_order", "course_type", "bookings", "seats"])
    df[["bucket_order", "bookings", "seats"]] = df[["bucket_order", "bookings", "seats"]].astype("int64")
    df.insert(0, "bucket", [LEAD_TIME_BUCKETS[i][0] for i in df["bucket_order"]])
    return df


def _next_days(conn: Connection, scope: ReportScope, today: dt.date) -> pd.DataFrame:
    """Scheduled sessions from today for AT_RISK_DAYS days within the range (`risk_range`;
    course and site filters apply): at-risk ones first, then the emptiest, then the soonest.

    Places left are as the calendar shows them: capacity less places booked and places
    held right now; `waiting` counts people on the waiting list.
    """
    from core.config import utc_now

    days = risk_range(scope, today) or (today, today - dt.timedelta(days=1))  # none: an empty range
    near = ReportScope(*days, scope.course_types, scope.locations)
    where, params, binds = _scope_sql(near)
    params["now_utc"] = utc_now()
    at_risk = f"CASE WHEN {AT_RISK_SQL} THEN 1 ELSE 0 END"
    held = ("COALESCE((SELECT SUM(h.seats) FROM holds h WHERE h.session_id = s.id AND h.status = 'active' "
            "AND h.expires_at > :now_utc), 0)")
    waiting = "(SELECT COUNT(*) FROM waitlist_entries w WHERE w.session_id = s.id AND w.status = 'waiting')"
    sql = f"""
        SELECT s.id, s.session_date, s.start_time, s.end_time, s.course_type, s.location,
               s.max_capacity, s.current_bookings, {held}, {waiting}, {at_risk}
        FROM course_sessions s
        WHERE {where} AND s.status = 'scheduled'
        ORDER BY {at_risk} DESC,
                 CAST(s.current_bookings AS DOUBLE PRECISION) / s.max_capacity,
                 s.session_date, s.start_time, s.location
    """
    cols = ["session_id", "session_date", "start_time", "end_time", "course_type", "location",
            "capacity", "booked", "held", "waiting", "at_risk"]
    df = _frame(conn, sql, params, binds, cols)
    for col in ("capacity", "booked", "held", "waiting"):
        df[col] = df[col].astype("int64")
    df.insert(8, "places_left", (df.capacity - df.booked - df.held).clip(lower=0))
    df["at_risk"] = df["at_risk"].astype(bool)
    df["fill_rate"] = (df["booked"] / df["capacity"]).astype("float64")
    df["days_away"] = [(d - today).days for d in df["session_date"]]
    return df


def headline(engine: Engine, scope: ReportScope, *, today: dt.date | None = None) -> Headline:
    """The six headline numbers for the scope (one statement)."""
    from core.config import today as local_today
    from core.db import reading

    with reading(engine) as conn:
        return _headline(conn, scope, today or local_today())


def occupancy_report(engine: Engine, scope: ReportScope, *, today: dt.date | None = None) -> OccupancyReport:
    """Every figure of the dashboard for `scope`, read in one connection.

    Raises DatabaseUnavailable when the database cannot be reached.
    """
    from core.config import get_settings
    from core.config import today as local_today
    from core.db import reading

    today = today or local_today()
    tz_name = get_settings().timezone.key
    with reading(engine) as conn:
        next_days = _next_days(conn, scope, today)
        return OccupancyReport(
            scope=scope,
            today=today,
            headline=_headline(conn, scope, today, next_days),
            by_week=_by_week(conn, scope),
            by_location=_by_location(conn, scope),
            by_weekday=_by_weekday(conn, scope),
            pace=_pace(conn, scope, tz_name),
            lead_time=_lead_time(conn, scope, tz_name),
            next_days=next_days,
            risk_range=risk_range(scope, today),
        )


def count_past_scheduled(engine: Engine, *, today: dt.date | None = None) -> int:
    """How many sessions before `today` are still 'scheduled' (to be marked completed)."""
    from core.config import today as local_today
    from core.db import reading

    with reading(engine) as conn:
        return int(conn.execute(
            sa.text("SELECT COUNT(*) FROM course_sessions WHERE status = 'scheduled' AND session_date < :today"),
            {"today": today or local_today()},
        ).scalar_one())
