"""The business calendar: which days in mainland China are workdays, holidays,
make-up workdays (调休) and e-commerce promotion days.

Pure: no Beam, no warehouse. dbt's ``dim_business_calendar`` (a dbt Python
model) and the detector both read this module, so a date means the same thing
everywhere.

Public holidays and make-up workdays come from the ``chinese-calendar``
package, which transcribes the State Council's yearly notice (国务院办公厅关于
部分节假日安排的通知). It knows the years it has a notice for (2004-2026 in
1.11.0); for a later year the official schedule is not published yet, so a day
is a workday iff it is Monday-Friday and ``is_official_schedule`` is False:
downstream can tell a guessed day from a published one.

Promotion days are not public holidays: they are the retail calendar's peaks
(618, 双11, 双12), fixed month/day each year, listed in ``PROMOTION_DAYS``
below. Only the peak day itself is marked; the pre-sale weeks before it vary by
platform and year and are left to the incident detector's baselines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

import chinese_calendar
from chinese_calendar import constants as _cc

# Chinese names of the holidays the package knows, keyed by its English name.
_HOLIDAY_ZH: dict[str, str] = {h.value: h.chinese for h in _cc.Holiday}

#: (promotion_id, month, day, name_zh): the retail calendar's peak days.
PROMOTION_DAYS: tuple[tuple[str, int, int, str], ...] = (
    ("618", 6, 18, "618 年中大促"),
    ("double_11", 11, 11, "双11"),
    ("double_12", 12, 12, "双12"),
)

#: First and last year the package has an official schedule for.
OFFICIAL_FIRST_YEAR: int = min(_cc.holidays).year
OFFICIAL_LAST_YEAR: int = max(_cc.holidays).year


class BusinessDay(NamedTuple):
    """One row of dim_business_calendar."""

    date_day: dt.date
    is_workday: bool
    holiday_name: str | None  # English name, set only on a day off for a public holiday
    holiday_name_zh: str | None
    is_makeup_workday: bool  # a Saturday/Sunday worked to bridge a holiday (调休上班)
    makeup_for_holiday: str | None
    promotion_id: str | None
    promotion_name_zh: str | None
    is_official_schedule: bool  # False: a year the State Council has not published yet


def _as_date(day: dt.date | dt.datetime) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    raise TypeError(f"expected a date, got {type(day).__name__}: {day!r}")


def has_official_schedule(day: dt.date | dt.datetime) -> bool:
    """True when the package holds the State Council's schedule for this year."""
    return OFFICIAL_FIRST_YEAR <= _as_date(day).year <= OFFICIAL_LAST_YEAR


def is_workday(day: dt.date | dt.datetime) -> bool:
    """A day people work in mainland China: Mon-Fri unless a public holiday,
    plus make-up Saturdays/Sundays. Past the published years: Mon-Fri."""
    d = _as_date(day)
    if has_official_schedule(d):
        return bool(chinese_calendar.is_workday(d))
    return d.weekday() < 5


def _detail(d: dt.date) -> tuple[bool, str | None]:
    if not has_official_schedule(d):
        return (d.weekday() < 5, None)
    on_holiday, name = chinese_calendar.get_holiday_detail(d)
    # get_holiday_detail says "on holiday"; we want "is a workday".
    return (not on_holiday, name)


def holiday_name(day: dt.date | dt.datetime) -> str | None:
    """English name of the public holiday that makes this day a day off, else None."""
    workday, name = _detail(_as_date(day))
    return None if workday else name


def is_makeup_workday(day: dt.date | dt.datetime) -> bool:
    """A weekend day worked in exchange for a holiday (调休上班)."""
    workday, name = _detail(_as_date(day))
    return workday and name is not None


def promotion(day: dt.date | dt.datetime) -> tuple[str, str] | None:
    """(promotion_id, name_zh) when the day is a promotion peak, else None."""
    d = _as_date(day)
    for promo_id, month, dom, name_zh in PROMOTION_DAYS:
        if d.month == month and d.day == dom:
            return (promo_id, name_zh)
    return None


def business_day(day: dt.date | dt.datetime) -> BusinessDay:
    """Everything the calendar knows about one date."""
    d = _as_date(day)
    workday, name = _detail(d)
    off_name = None if workday else name
    makeup_for = name if workday else None
    promo = promotion(d)
    return BusinessDay(
        date_day=d,
        is_workday=workday,
        holiday_name=off_name,
        holiday_name_zh=_HOLIDAY_ZH.get(off_name) if off_name else None,
        is_makeup_workday=makeup_for is not None,
        makeup_for_holiday=makeup_for,
        promotion_id=promo[0] if promo else None,
        promotion_name_zh=promo[1] if promo else None,
        is_official_schedule=has_official_schedule(d),
    )


def business_days(first: dt.date, last: dt.date) -> Iterator[BusinessDay]:
    """One BusinessDay per date from first to last, both included."""
    if last < first:
        raise ValueError(f"last day {last} is before first day {first}")
    for offset in range((last - first).days + 1):
        yield business_day(first + dt.timedelta(days=offset))
