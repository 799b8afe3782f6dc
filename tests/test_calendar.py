"""The business calendar against the State Council's published 2025 and 2026
holiday notices (国办发明电〔2024〕12号 and the 2026 notice of November 2025),
transcribed here by hand from the notices, independently of the package."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
import pytest
from hypothesis import given

from voc import calendar as cal

D = dt.date

# Days off for public holidays, (first, last, English name), from the notices.
OFFICIAL_DAYS_OFF = [
    # 2025
    (D(2025, 1, 1), D(2025, 1, 1), "New Year's Day"),
    (D(2025, 1, 28), D(2025, 2, 4), "Spring Festival"),
    (D(2025, 4, 4), D(2025, 4, 6), "Tomb-sweeping Day"),
    (D(2025, 5, 1), D(2025, 5, 5), "Labour Day"),
    (D(2025, 5, 31), D(2025, 6, 2), "Dragon Boat Festival"),
    (D(2025, 10, 1), D(2025, 10, 8), "National Day"),  # with Mid-autumn (10-06)
    # 2026
    (D(2026, 1, 1), D(2026, 1, 3), "New Year's Day"),
    (D(2026, 2, 15), D(2026, 2, 23), "Spring Festival"),
    (D(2026, 4, 4), D(2026, 4, 6), "Tomb-sweeping Day"),
    (D(2026, 5, 1), D(2026, 5, 5), "Labour Day"),
    (D(2026, 6, 19), D(2026, 6, 21), "Dragon Boat Festival"),
    (D(2026, 9, 25), D(2026, 9, 27), "Mid-autumn Festival"),
    (D(2026, 10, 1), D(2026, 10, 7), "National Day"),
]

# Weekend days worked in exchange (调休上班), from the notices.
OFFICIAL_MAKEUP_WORKDAYS = [
    D(2025, 1, 26),
    D(2025, 2, 8),
    D(2025, 4, 27),
    D(2025, 9, 28),
    D(2025, 10, 11),
    D(2026, 1, 4),
    D(2026, 2, 14),
    D(2026, 2, 28),
    D(2026, 5, 9),
    D(2026, 9, 20),
    D(2026, 10, 10),
]


def _days(first: dt.date, last: dt.date):
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _official(day: dt.date) -> tuple[bool, str | None, bool]:
    """(is_workday, holiday_name, is_makeup_workday) straight from the lists above."""
    for first, last, name in OFFICIAL_DAYS_OFF:
        if first <= day <= last:
            # 2025-10-06 is Mid-autumn inside the National Day block; the notice
            # merges them, the package names that one day after Mid-autumn.
            return (False, name, False)
    if day in OFFICIAL_MAKEUP_WORKDAYS:
        return (True, None, True)
    return (day.weekday() < 5, None, False)


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_2025_and_2026_matches_the_official_notice(year):
    # GIVEN every date of the year WHEN the calendar classifies it
    # THEN workday / makeup flags equal the notice, and every day off for a
    # holiday carries a holiday name (the notice's, except the merged Mid-autumn)
    mismatches = []
    for day in _days(D(year, 1, 1), D(year, 12, 31)):
        workday, name, makeup = _official(day)
        row = cal.business_day(day)
        if (row.is_workday, row.is_makeup_workday) != (workday, makeup):
            mismatches.append((day, row))
        if name is None and row.holiday_name is not None:
            mismatches.append((day, row))
        if name is not None:
            expected = {name, "Mid-autumn Festival"} if day == D(2025, 10, 6) else {name}
            if row.holiday_name not in expected:
                mismatches.append((day, row))
    assert mismatches == []


def test_counts_of_2025_and_2026_match_the_notices():
    # 2025: 28 public-holiday days off (1+8+3+5+3+8), 5 make-up Saturdays/Sundays
    days_2025 = list(cal.business_days(D(2025, 1, 1), D(2025, 12, 31)))
    assert sum(d.holiday_name is not None for d in days_2025) == 28
    assert sum(d.is_makeup_workday for d in days_2025) == 5
    # 2026: 33 days off (3+9+3+5+3+3+7), 6 make-up days
    days_2026 = list(cal.business_days(D(2026, 1, 1), D(2026, 12, 31)))
    assert sum(d.holiday_name is not None for d in days_2026) == 33
    assert sum(d.is_makeup_workday for d in days_2026) == 6
    # workdays: 261 Mon-Fri, less the weekdays inside holiday blocks (2025:
    # 1+6+1+3+1+6 = 18; 2026: 2+6+1+3+1+1+5 = 19), plus the make-up days
    assert sum(d.is_workday for d in days_2025) == 261 - 18 + 5 == 248
    assert sum(d.is_workday for d in days_2026) == 261 - 19 + 6 == 248


def test_makeup_workday_names_the_holiday_it_bridges():
    # GIVEN Sunday 2025-09-28 (worked for National Day) THEN named, and a workday
    row = cal.business_day(D(2025, 9, 28))
    assert row.is_workday and row.is_makeup_workday
    assert row.makeup_for_holiday == "National Day"
    assert row.holiday_name is None
    # GIVEN the Spring Festival eve 2026-02-16 THEN a day off with both names
    eve = cal.business_day(D(2026, 2, 16))
    assert not eve.is_workday
    assert (eve.holiday_name, eve.holiday_name_zh) == ("Spring Festival", "春节")


def test_promotion_days_are_the_retail_peaks_every_year():
    assert cal.promotion(D(2026, 11, 11)) == ("double_11", "双11")
    assert cal.promotion(D(2025, 6, 18)) == ("618", "618 年中大促")
    assert cal.promotion(D(2027, 12, 12)) == ("double_12", "双12")
    assert cal.promotion(D(2026, 11, 10)) is None
    # a promotion day is still a workday or not by the holiday calendar alone
    assert cal.business_day(D(2026, 11, 11)).is_workday  # a Wednesday


def test_a_year_without_a_published_notice_is_flagged_and_falls_back_to_weekdays():
    # GIVEN 2027 (not yet published in chinese-calendar 1.11.0)
    friday, saturday = cal.business_day(D(2027, 1, 1)), cal.business_day(D(2027, 1, 2))
    # THEN weekdays are workdays, nothing is named, and the row says it is a guess
    assert friday.is_workday and not saturday.is_workday
    assert friday.holiday_name is None
    assert not friday.is_official_schedule
    assert cal.business_day(D(2026, 12, 31)).is_official_schedule


def test_datetimes_are_read_as_their_date_and_bad_input_is_refused():
    assert cal.is_workday(dt.datetime(2025, 10, 1, 23, 59)) is False
    assert cal.holiday_name(dt.datetime(2025, 10, 1, 0, 0)) == "National Day"
    with pytest.raises(TypeError):
        cal.is_workday("2025-10-01")
    with pytest.raises(ValueError):
        list(cal.business_days(D(2025, 2, 1), D(2025, 1, 1)))


@given(st.dates(min_value=D(2004, 1, 1), max_value=D(2035, 12, 31)))
def test_flags_are_consistent_for_any_date(day):
    row = cal.business_day(day)
    # a named holiday is never a workday; a make-up day is always a weekend workday
    assert not (row.holiday_name and row.is_workday)
    if row.is_makeup_workday:
        assert row.is_workday and day.weekday() >= 5
    # without a holiday or a make-up, a day is a workday iff Mon-Fri
    if row.holiday_name is None and not row.is_makeup_workday:
        assert row.is_workday == (day.weekday() < 5)
    assert cal.is_workday(day) == row.is_workday
