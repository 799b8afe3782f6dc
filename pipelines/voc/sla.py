"""Business-time maths for SLA clocks: a department's working windows on the
Chinese business calendar (voc.calendar), in Asia/Shanghai time.

Pure: no Beam, no warehouse. The simulator uses it to write each ticket's true
breach on the business clock; the marts compute the same thing independently
in SQL (int_department_schedule + fct_ticket_sla), and `voc eval marts`
compares the two.

Times are naive UTC datetimes (the warehouse's convention). Asia/Shanghai has
been UTC+8 without daylight saving since 1991, so the offset is a constant
rather than a time-zone database lookup, in Python and in SQL alike.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from voc import calendar
from voc.paths import DBT_PROJECT_DIR

SHANGHAI_UTC_OFFSET = dt.timedelta(hours=8)
WINDOWS_SEED = DBT_PROJECT_DIR / "seeds" / "department_working_windows.csv"
ALL_DAYS, WORKDAYS = "all", "workdays"


@dataclass(frozen=True)
class WorkingWindow:
    """When a department works: every day or workdays only, from-to local time."""

    department_id: str
    days: str  # "all" or "workdays"
    start_minute: int  # minutes after local midnight
    end_minute: int  # 1440 means midnight at the end of the day

    def __post_init__(self) -> None:
        if self.days not in (ALL_DAYS, WORKDAYS):
            raise ValueError(f"{self.department_id}: days must be 'all' or 'workdays'")
        if not 0 <= self.start_minute < self.end_minute <= 1440:
            raise ValueError(f"{self.department_id}: window must be within one day, start < end")


#: A department with no row in the seed works around the clock (like customer service).
ALWAYS_OPEN = WorkingWindow("*", ALL_DAYS, 0, 1440)


def _minute(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


def load_windows(path: Path = WINDOWS_SEED) -> dict[str, WorkingWindow]:
    """The department_working_windows seed, keyed by department id."""
    windows: dict[str, WorkingWindow] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["timezone"] != "Asia/Shanghai":
                raise ValueError(f"{path}: only Asia/Shanghai windows are supported: {row}")
            window = WorkingWindow(
                row["department_id"],
                row["days"],
                _minute(row["start_local"]),
                _minute(row["end_local"]),
            )
            if window.department_id in windows:
                raise ValueError(f"{path}: department {window.department_id} listed twice")
            windows[window.department_id] = window
    return windows


def working_intervals(
    window: WorkingWindow, start: dt.datetime, end: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The department's working intervals (UTC) that overlap [start, end), clipped."""
    if end <= start:
        return
    day = (start + SHANGHAI_UTC_OFFSET).date()
    last_day = (end + SHANGHAI_UTC_OFFSET).date()
    while day <= last_day:
        if window.days == ALL_DAYS or calendar.is_workday(day):
            local_midnight = dt.datetime.combine(day, dt.time()) - SHANGHAI_UTC_OFFSET
            opens = local_midnight + dt.timedelta(minutes=window.start_minute)
            closes = local_midnight + dt.timedelta(minutes=window.end_minute)
            lo, hi = max(opens, start), min(closes, end)
            if lo < hi:
                yield lo, hi
        day += dt.timedelta(days=1)


def _merged(
    spans: Iterable[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for lo, hi in sorted(s for s in spans if s[0] < s[1]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def business_time(
    window: WorkingWindow,
    start: dt.datetime,
    end: dt.datetime,
    pauses: Iterable[tuple[dt.datetime, dt.datetime]] = (),
) -> dt.timedelta:
    """Working time in [start, end) minus the working time inside pauses
    (e.g. while the ticket waits on the customer). Overlapping pauses count once.
    Summed as timedeltas (whole microseconds), so the clock is exactly additive:
    the time of [a, c) is the time of [a, b) plus the time of [b, c)."""
    total = sum((hi - lo for lo, hi in working_intervals(window, start, end)), dt.timedelta())
    for p_lo, p_hi in _merged(pauses):
        lo, hi = max(p_lo, start), min(p_hi, end)
        total -= sum((b - a for a, b in working_intervals(window, lo, hi)), dt.timedelta())
    return total


def business_seconds(
    window: WorkingWindow,
    start: dt.datetime,
    end: dt.datetime,
    pauses: Iterable[tuple[dt.datetime, dt.datetime]] = (),
) -> float:
    """`business_time` in seconds."""
    return business_time(window, start, end, pauses).total_seconds()


def business_deadline(
    window: WorkingWindow, start: dt.datetime, target: dt.timedelta
) -> dt.datetime:
    """The earliest instant by which `target` working time has passed since
    `start`: the due date a ticketing system stamps on a ticket whose SLA counts
    business hours (no pauses are known when it is stamped). A zero target is
    due at `start`; a clock that starts outside working hours waits for them."""
    left = target
    if left <= dt.timedelta(0):
        return start
    chunk = dt.timedelta(days=31)  # any holiday block is shorter than this
    lo_bound = start
    while True:
        for lo, hi in working_intervals(window, lo_bound, lo_bound + chunk):
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        lo_bound += chunk


def calendar_seconds(
    start: dt.datetime,
    end: dt.datetime,
    pauses: Iterable[tuple[dt.datetime, dt.datetime]] = (),
) -> float:
    """Wall-clock seconds in [start, end) minus the pauses: the calendar-hour clock."""
    return business_seconds(ALWAYS_OPEN, start, end, pauses)
