"""A VTIMEZONE that every calendar client reads the same way, from the zone's own rules.

What clients expect (RFC 5545 3.6.5) and what went wrong before: the onset (DTSTART, RDATE)
of each observance is the local time *before* the change, in TZOFFSETFROM (the clocks of
Europe/London go forward at 01:00 GMT and back at 02:00 BST); and Mozilla's ical.js reads
only the first date of an `RDATE:a,b,c` list, so every later summer came out an hour out.

So an observance that recurs as a yearly rule ("last Sunday of March at 01:00") is written
as one `RRULE`, as the published zone files and Outlook do; anything irregular falls back
to one `RDATE` property per date. Transitions are found in `zoneinfo` itself, so any
APP_TIMEZONE works, not only the UK's.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    at_utc: dt.datetime          # naive UTC instant of the change
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str                    # TZNAME after the change
    daylight: bool               # summer time after the change

    @property
    def onset(self) -> dt.datetime:
        """The local wall-clock time of the change, before it (what DTSTART/RDATE say)."""
        return self.at_utc + self.offset_from


def _offset(zone: ZoneInfo, utc: dt.datetime) -> dt.timedelta:
    return utc.replace(tzinfo=UTC).astimezone(zone).utcoffset()


def transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[Transition]:
    """Every change of UTC offset from 1 January `first_year` to 31 December `last_year`.

    Days are stepped at UTC noon, then the day of a change is halved down to the second
    (about 2,000 look-ups for five years)."""
    found = []
    day = dt.datetime(first_year, 1, 1) - dt.timedelta(hours=12)
    end = dt.datetime(last_year + 1, 1, 1, 12)
    before = _offset(zone, day)
    while day < end:
        nxt = day + dt.timedelta(days=1)
        after = _offset(zone, nxt)
        if after != before:
            low, high = day, nxt  # offset(low) == before, offset(high) == after
            while high - low > dt.timedelta(seconds=1):
                mid = low + (high - low) / 2
                if _offset(zone, mid) == before:
                    low = mid
                else:
                    high = mid
            high = high.replace(microsecond=0)
            local = high.replace(tzinfo=UTC).astimezone(zone)
            found.append(Transition(high, before, after, local.tzname() or "", bool(local.dst())))
        before, day = after, nxt
    return found


def _yearly_rule(onsets: list[dt.datetime]) -> str | None:
    """An RRULE for onsets one a year, in consecutive years, on the same weekday of the
    same month at the same time, counted from the end ("-1SU") or the start ("2SU")."""
    if len(onsets) < 2:
        return None
    first = onsets[0]
    same = all(o.month == first.month and o.weekday() == first.weekday() and o.time() == first.time()
               for o in onsets)
    years = [o.year for o in onsets]
    if not same or years != list(range(years[0], years[0] + len(years))):
        return None
    day = _WEEKDAYS[first.weekday()]
    if all(o.day + 7 > calendar.monthrange(o.year, o.month)[1] for o in onsets):
        return f"FREQ=YEARLY;BYMONTH={first.month};BYDAY=-1{day}"
    nth = {(o.day - 1) // 7 + 1 for o in onsets}
    if len(nth) == 1 and (n := nth.pop()) <= 4:
        return f"FREQ=YEARLY;BYMONTH={first.month};BYDAY={n}{day}"
    return None


def _offset_text(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _local(value: dt.datetime) -> str:
    return f"{value:%Y%m%dT%H%M%S}"


def vtimezone_lines(zone: ZoneInfo, first: dt.date, last: dt.date) -> list[str]:
    """The VTIMEZONE of `zone` as content lines, right for every date from `first` to `last`
    (a year of margin either side)."""
    found = transitions(zone, first.year - 1, last.year + 1)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone.key}"]

    def observance(kind: str, start: dt.datetime, off_from, off_to, name: str, extra: list[str]) -> None:
        lines.extend([f"BEGIN:{kind}", f"DTSTART:{_local(start)}", *extra,
                      f"TZOFFSETFROM:{_offset_text(off_from)}", f"TZOFFSETTO:{_offset_text(off_to)}"])
        if name:
            lines.append(f"TZNAME:{name}")
        lines.append(f"END:{kind}")

    if not found:  # a fixed offset (UTC, or a zone without summer time)
        now = dt.datetime(first.year, 1, 1).replace(tzinfo=zone)
        observance("STANDARD", dt.datetime(1970, 1, 1), now.utcoffset(), now.utcoffset(), now.tzname() or "", [])
    groups: dict[tuple, list[Transition]] = {}
    for t in found:
        groups.setdefault((t.offset_from, t.offset_to, t.name, t.daylight), []).append(t)
    for (off_from, off_to, name, daylight), group in groups.items():
        onsets = [t.onset for t in group]
        rule = _yearly_rule(onsets)
        extra = [f"RRULE:{rule}"] if rule else [f"RDATE:{_local(o)}" for o in onsets[1:]]
        observance("DAYLIGHT" if daylight else "STANDARD", onsets[0], off_from, off_to, name, extra)
    lines.append("END:VTIMEZONE")
    return lines


def vtimezone(zone: ZoneInfo, first: dt.date, last: dt.date):
    """The same as an `icalendar` component, to add to a Calendar."""
    from icalendar import Timezone

    return Timezone.from_ical("\r\n".join(vtimezone_lines(zone, first, last)) + "\r\n")
