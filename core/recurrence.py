"""Recurring series: which dates a rule gives, what would clash, then create them at once.

A series is local wall-clock: "every Tuesday 09:00" stays 09:00 at the site across the
clock changes in March and October; nothing here goes through UTC.

    spec = SeriesSpec(course_type="First Aid at Work", first_date=date(2025, 3, 4),
                      weekdays=(1, 3), weeks=10, start_time=time(9), end_time=time(16),
                      location="Location A", skip_dates=(date(2025, 4, 17),))
    preview = preview_series(engine, spec)     # dates, skipped dates, clashes
    sessions = create_series(engine, spec, on_clash="skip", actor=Actor("Office", "admin"))  # all or nothing
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from core import validation
from core.access import Actor
from core.bank_holidays import bank_holiday
from core.db import reading
from core.sessions import clashes_in, create_sessions, overlaps  # noqa: F401  (overlaps is public here too)
from core.errors import InvalidInput
from core.models import Session

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_OCCURRENCES = 200  # a year of three a week, with room: more is almost surely a typo
MAX_WEEKS = 104


@dataclass(frozen=True)
class SeriesSpec:
    """A rule for a series of sessions of one course at one site.

    `weekdays` are 0 = Monday .. 6 = Sunday. The series runs from `first_date` for
    `weeks` weeks (the first week starting on `first_date`), or up to and including
    `last_date`; give exactly one of the two. `skip_dates` are left out (bank holidays,
    the instructor's leave).
    """

    course_type: str
    first_date: dt.date
    weekdays: tuple[int, ...]
    start_time: dt.time
    end_time: dt.time
    location: str
    weeks: int | None = None
    last_date: dt.date | None = None
    max_capacity: int = 12
    instructor_notes: str | None = None
    skip_dates: tuple[dt.date, ...] = ()

    def session_on(self, day: dt.date) -> dict:
        """The fields of the series' session on `day`, as create_sessions takes them."""
        return dict(course_type=self.course_type, session_date=day, start_time=self.start_time,
                    end_time=self.end_time, location=self.location, max_capacity=self.max_capacity,
                    instructor_notes=self.instructor_notes)

    @property
    def until(self) -> dt.date:
        """The last day the series may fall on (inclusive)."""
        if self.last_date is not None:
            return self.last_date
        return self.first_date + dt.timedelta(days=7 * (self.weeks or 0) - 1)


@dataclass(frozen=True)
class PlannedSession:
    """One date of a series, with what it would clash with on the schedule."""

    session_date: dt.date
    start_time: dt.time
    end_time: dt.time
    clashes: tuple[Session, ...] = ()
    in_past: bool = False
    bank_holiday: str | None = None  # 'Christmas Day' when the date is a bank holiday in England

    @property
    def weekday(self) -> str:
        return WEEKDAY_NAMES[self.session_date.weekday()]

    @property
    def clash_text(self) -> str:
        """'EFAW 09:00-16:00; PFA 09:30-16:30' (the clashing sessions), or '' when none."""
        return "; ".join(f"{s.short_code or s.course_type} {s.start_time:%H:%M}-{s.end_time:%H:%M}" for s in self.clashes)


@dataclass(frozen=True)
class SeriesPreview:
    spec: SeriesSpec
    planned: tuple[PlannedSession, ...]
    skipped: tuple[dt.date, ...] = field(default_factory=tuple)

    @property
    def clashing(self) -> tuple[PlannedSession, ...]:
        return tuple(p for p in self.planned if p.clashes)

    @property
    def on_bank_holidays(self) -> tuple[PlannedSession, ...]:
        return tuple(p for p in self.planned if p.bank_holiday)

    @property
    def creatable(self) -> tuple[PlannedSession, ...]:
        return tuple(p for p in self.planned if not p.clashes)


def validate_spec(spec: SeriesSpec, *, capacity_limit: int | None = None) -> None:
    """Raise InvalidInput (naming the field) when the rule cannot give a sensible series."""
    if capacity_limit is None:
        from core.config import get_settings

        capacity_limit = get_settings().capacity_limit
    if not spec.weekdays:
        raise InvalidInput("weekdays", "Pick at least one day of the week for the series.")
    if any(not 0 <= d <= 6 for d in spec.weekdays):
        raise InvalidInput("weekdays", "Days of the week are 0 (Monday) to 6 (Sunday).")
    if (spec.weeks is None) == (spec.last_date is None):
        raise InvalidInput("weeks", "Give either a number of weeks or a last date for the series, not both.")
    if spec.weeks is not None and not 1 <= spec.weeks <= MAX_WEEKS:
        raise InvalidInput("weeks", f"A series runs for 1 to {MAX_WEEKS} weeks; {spec.weeks} was asked for.")
    if spec.last_date is not None and spec.last_date < spec.first_date:
        raise InvalidInput(
            "last_date",
            f"The last date ({spec.last_date:%d/%m/%Y}) is before the first ({spec.first_date:%d/%m/%Y}).",
        )
    if spec.last_date is not None and (spec.last_date - spec.first_date).days >= 7 * MAX_WEEKS:
        raise InvalidInput("last_date", f"A series can span at most {MAX_WEEKS} weeks: pick an earlier last date.")
    validation.session(spec.session_on(spec.first_date), limit=capacity_limit)


def series_dates(spec: SeriesSpec) -> tuple[list[dt.date], list[dt.date]]:
    """The dates the rule gives, and the dates it gives that `skip_dates` leaves out.

    Raises InvalidInput when the rule is unusable or gives no date or too many.
    """
    validate_spec(spec, capacity_limit=10**6)
    wanted = set(spec.weekdays)
    skip = set(spec.skip_dates)
    dates: list[dt.date] = []
    skipped: list[dt.date] = []
    day = spec.first_date
    while day <= spec.until:
        if day.weekday() in wanted:
            (skipped if day in skip else dates).append(day)
        day += dt.timedelta(days=1)
    if not dates:
        raise InvalidInput(
            "weekdays",
            "This rule gives no dates: check the days of the week, the weeks and the skipped dates.",
        )
    if len(dates) > MAX_OCCURRENCES:
        raise InvalidInput(
            "weeks", f"This rule gives {len(dates)} sessions; at most {MAX_OCCURRENCES} can be created at once."
        )
    return dates, skipped


def find_clashes(
    engine: Engine,
    location: str,
    slots: Iterable[tuple[dt.date, dt.time, dt.time]],
) -> dict[tuple[dt.date, dt.time, dt.time], tuple[Session, ...]]:
    """Existing (not cancelled) sessions at `location` overlapping each (date, start, end).

    One range read for all the slots; slots without a clash are left out of the result.
    """
    with reading(engine) as conn:
        return clashes_in(conn, location, slots)


def preview_series(engine: Engine, spec: SeriesSpec, *, today: dt.date | None = None) -> SeriesPreview:
    """What `create_series` would create: each date, its clashes, whether it is a bank
    holiday (a warning: it is still created unless skipped), and the skipped dates."""
    from core.config import get_settings
    from core.config import today as local_today

    validate_spec(spec, capacity_limit=get_settings().capacity_limit)
    today = today or local_today()
    dates, skipped = series_dates(spec)
    slots = [(d, spec.start_time, spec.end_time) for d in dates]
    clashes = find_clashes(engine, spec.location, slots)
    planned = tuple(
        PlannedSession(d, spec.start_time, spec.end_time, clashes.get((d, spec.start_time, spec.end_time), ()), d < today,
                       bank_holiday(d))
        for d in dates
    )
    return SeriesPreview(spec=spec, planned=planned, skipped=tuple(skipped))


def create_series(
    engine: Engine,
    spec: SeriesSpec,
    *,
    on_clash: str = "refuse",
    actor: Actor | None = None,
    today: dt.date | None = None,
) -> list[Session]:
    """Create every session of the series in one transaction, or none.

    `on_clash` says what to do with dates that overlap a session at the same site:
    "refuse" (raise InvalidInput listing them), "skip" (create the other dates) or
    "allow" (create them all: the site has more than one room).
    Raises InvalidInput when the rule is unusable or a date is in the past.
    """
    preview = preview_series(engine, spec, today=today)
    past = [p for p in preview.planned if p.in_past]
    if past:
        raise InvalidInput(
            "first_date",
            f"{len(past)} date(s) of this series are in the past (first: {past[0].session_date:%a %d %b %Y}). "
            "Start the series today or later.",
        )
    if on_clash not in ("refuse", "skip", "allow"):
        raise InvalidInput("on_clash", "on_clash is one of refuse, skip, allow.")
    chosen = preview.creatable if on_clash == "skip" else preview.planned
    if preview.clashing and on_clash == "refuse":
        listed = ", ".join(f"{p.session_date:%a %d %b}" for p in preview.clashing[:6])
        more = "" if len(preview.clashing) <= 6 else f" and {len(preview.clashing) - 6} more"
        raise InvalidInput(
            "start_time",
            f"{len(preview.clashing)} date(s) clash with sessions already at {spec.location}: "
            f"{listed}{more}. Change the time or site, or choose to skip the clashing dates.",
        )
    if not chosen:
        raise InvalidInput("weekdays", "Every date of this series clashes: nothing to create.")
    specs = [spec.session_on(p.session_date) for p in chosen]
    return create_sessions(engine, specs, actor=actor, on_clash=on_clash)
