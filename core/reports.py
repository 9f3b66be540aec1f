"""Occupancy figures for the operations dashboard, aggregated by the database.

Every figure is one SQL statement over `course_sessions` (SQLAlchemy Core, bound
parameters); the booking pace and the lead time are both summed from one grouped statement
over `bookings` (per day booked, session date and course). Python only reshapes the few
aggregated rows. The same statements run on DuckDB and PostgreSQL.

Definitions (shown to the manager on the dashboard):
- sessions run: sessions in the range that are not cancelled (scheduled or completed);
- places sold: seats booked on those sessions; fill rate = places sold / their capacity;
- full: no place left; at risk: scheduled, in the range and starting today or in the
  next 13 days (`AT_RISK_DAYS` = 14 days in all), and under half full (`risk_range`,
  `_next_days`: the tile counts the at-risk rows of the table below it);
- cancelled: sessions in the range that were cancelled.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.schema import bookings as bk
from core.schema import course_sessions as cs
from core.schema import holds as hd
from core.schema import waitlist_entries as wl
from core.scope import running, sessions_in

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


def _frame(conn: Connection, stmt: sa.Select, columns: list[str], params: dict | None = None) -> pd.DataFrame:
    rows = conn.execute(stmt, params or {}).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _with_fill_rate(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("sessions", "places_sold", "capacity"):
        df[col] = df[col].astype("int64")
    df["fill_rate"] = (df["places_sold"] / df["capacity"].where(df["capacity"] > 0)).astype("float64")
    return df


def _total(condition: sa.ColumnElement[bool], value: sa.ColumnElement | int = 1) -> sa.ColumnElement:
    """SUM(value) over the rows where `condition` holds, 0 when none does."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def risk_range(scope: ReportScope, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The days the at-risk figures cover: today and the next 13 days, within the range."""
    first, last = max(scope.start, today), min(scope.end, today + dt.timedelta(days=AT_RISK_DAYS - 1))
    return (first, last) if first <= last else None


def _headline(conn: Connection, scope: ReportScope, today: dt.date, next_days: pd.DataFrame | None = None) -> Headline:
    """The headline; its at-risk count is that of `_next_days` (one definition, one range)."""
    run = running()
    stmt = sa.select(
        _total(run),
        _total(run, cs.c.current_bookings),
        _total(run, cs.c.max_capacity),
        _total(sa.and_(run, cs.c.current_bookings >= cs.c.max_capacity)),
        _total(cs.c.status == "cancelled"),
    ).where(sessions_in(scope))
    run_, sold, capacity, full, cancelled = (int(v) for v in conn.execute(stmt).one())
    if next_days is None:
        next_days = _next_days(conn, scope, today)
    return Headline(run_, sold, capacity, full, int(next_days.at_risk.sum()), cancelled)


def _grouped(conn: Connection, scope: ReportScope, key: sa.ColumnElement, key_col: str) -> pd.DataFrame:
    """Sessions, places sold and capacity of the sessions run, per `key` and course. The key is
    worked out in a subquery, so GROUP BY names a plain column (PostgreSQL would not match an
    expression carrying bound parameters in SELECT to the same one in GROUP BY)."""
    rows = (sa.select(key.label("k"), cs.c.course_type, cs.c.current_bookings, cs.c.max_capacity)
            .where(sessions_in(scope), running()).subquery())
    stmt = (sa.select(rows.c.k, rows.c.course_type, sa.func.count(), sa.func.sum(rows.c.current_bookings),
                      sa.func.sum(rows.c.max_capacity))
            .group_by(rows.c.k, rows.c.course_type).order_by(rows.c.k, rows.c.course_type))
    df = _frame(conn, stmt, [key_col, "course_type", "sessions", "places_sold", "capacity"])
    return _with_fill_rate(df)


def _by_week(conn: Connection, scope: ReportScope) -> pd.DataFrame:
    # date_trunc('week') is Monday-based in both DuckDB and PostgreSQL.
    df = _grouped(conn, scope, sa.cast(sa.func.date_trunc("week", cs.c.session_date), sa.Date), "week_start")
    df["week_start"] = pd.to_datetime(df["week_start"])
    return df


def _by_location(conn: Connection, scope: ReportScope) -> pd.DataFrame:
    return _grouped(conn, scope, cs.c.location, "location")


def _by_weekday(conn: Connection, scope: ReportScope) -> pd.DataFrame:
    df = _grouped(conn, scope, sa.cast(sa.extract("isodow", cs.c.session_date), sa.Integer), "weekday")
    df["weekday"] = df["weekday"].astype("int64")
    df.insert(1, "day", [WEEKDAY_SHORT[d - 1] for d in df["weekday"]])
    return df


def _bookings_by_day(conn: Connection, scope: ReportScope, tz_name: str) -> pd.DataFrame:
    """Live bookings on the sessions run, per local day booked, session date and course: the
    one grouped query that both the booking pace and the lead time are summed from.

    Booking timestamps are stored as naive UTC; the day a booking was made is the local day
    (the zone is a bound parameter)."""
    local = sa.func.timezone(sa.bindparam("tz", tz_name, type_=sa.String),
                             sa.func.timezone(sa.literal_column("'UTC'"), bk.c.created_at))
    rows = (sa.select(sa.cast(local, sa.Date).label("booked_on"), cs.c.session_date, cs.c.course_type, bk.c.seats)
            .select_from(bk.join(cs, cs.c.id == bk.c.session_id))
            .where(sessions_in(scope), running(), bk.c.status == "confirmed").subquery())
    keys = (rows.c.booked_on, rows.c.session_date, rows.c.course_type)
    stmt = sa.select(*keys, sa.func.count(), sa.func.sum(rows.c.seats)).group_by(*keys)
    df = _frame(conn, stmt, ["booked_on", "session_date", "course_type", "bookings", "seats"])
    df[["bookings", "seats"]] = df[["bookings", "seats"]].astype("int64")
    return df


def _pace(by_day: pd.DataFrame) -> pd.DataFrame:
    df = (by_day.groupby(["booked_on", "course_type"], as_index=False, sort=True)[["bookings", "seats"]].sum())
    df["booked_on"] = pd.to_datetime(df["booked_on"])
    df[["bookings", "seats"]] = df[["bookings", "seats"]].astype("int64")
    return df.reset_index(drop=True)


def _lead_time(by_day: pd.DataFrame) -> pd.DataFrame:
    highs = [high for _, _, high in LEAD_TIME_BUCKETS]
    days = [(s - b).days for s, b in zip(by_day["session_date"], by_day["booked_on"])]
    order = [min(bisect.bisect_left(highs, d), len(highs) - 1) for d in days]
    df = (by_day.assign(bucket_order=pd.Series(order, index=by_day.index, dtype="int64"))
          .groupby(["bucket_order", "course_type"], as_index=False, sort=True)[["bookings", "seats"]].sum())
    df[["bucket_order", "bookings", "seats"]] = df[["bucket_order", "bookings", "seats"]].astype("int64")
    df.insert(0, "bucket", [LEAD_TIME_BUCKETS[i][0] for i in df["bucket_order"]])
    return df.reset_index(drop=True)


def _next_days(conn: Connection, scope: ReportScope, today: dt.date) -> pd.DataFrame:
    """Scheduled sessions from today for AT_RISK_DAYS days within the range (`risk_range`;
    course and site filters apply): at-risk ones first, then the emptiest, then the soonest.

    Places left are as the calendar shows them: capacity less places booked and places
    held right now; `waiting` counts people on the waiting list.
    """
    from core.config import utc_now

    days = risk_range(scope, today) or (today, today - dt.timedelta(days=1))  # none: an empty range
    near = ReportScope(*days, scope.course_types, scope.locations)
    at_risk = sa.case((cs.c.current_bookings * 2 < cs.c.max_capacity, 1), else_=0)  # under half full
    held = sa.func.coalesce(
        sa.select(sa.func.sum(hd.c.seats))
        .where(hd.c.session_id == cs.c.id, hd.c.status == "active", hd.c.expires_at > utc_now())
        .scalar_subquery(), 0)
    waiting = (sa.select(sa.func.count()).select_from(wl)
               .where(wl.c.session_id == cs.c.id, wl.c.status == "waiting").scalar_subquery())
    stmt = (sa.select(cs.c.id, cs.c.session_date, cs.c.start_time, cs.c.end_time, cs.c.course_type, cs.c.location,
                      cs.c.max_capacity, cs.c.current_bookings, held, waiting, at_risk)
            .where(sessions_in(near), cs.c.status == "scheduled")
            .order_by(at_risk.desc(), sa.cast(cs.c.current_bookings, sa.Double) / cs.c.max_capacity,
                      cs.c.session_date, cs.c.start_time, cs.c.location))
    cols = ["session_id", "session_date", "start_time", "end_time", "course_type", "location",
            "capacity", "booked", "held", "waiting", "at_risk"]
    df = _frame(conn, stmt, cols)
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
        by_day = _bookings_by_day(conn, scope, tz_name)
        next_days = _next_days(conn, scope, today)
        return OccupancyReport(
            scope=scope,
            today=today,
            headline=_headline(conn, scope, today, next_days),
            by_week=_by_week(conn, scope),
            by_location=_by_location(conn, scope),
            by_weekday=_by_weekday(conn, scope),
            pace=_pace(by_day),
            lead_time=_lead_time(by_day),
            next_days=next_days,
            risk_range=risk_range(scope, today),
        )


def count_past_scheduled(engine: Engine, *, today: dt.date | None = None) -> int:
    """How many sessions before `today` are still 'scheduled' (to be marked completed)."""
    from core.config import today as local_today
    from core.db import reading

    with reading(engine) as conn:
        return int(conn.execute(
            sa.select(sa.func.count()).select_from(cs)
            .where(cs.c.status == "scheduled", cs.c.session_date < (today or local_today()))
        ).scalar_one())
