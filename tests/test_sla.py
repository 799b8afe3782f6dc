"""Business-time maths on the Chinese calendar, worked by hand."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
from hypothesis import given

from voc import sla

UTC = dt.datetime
FINANCE = sla.WorkingWindow("finance", "workdays", 9 * 60, 18 * 60)  # 01:00-10:00 UTC
RISK = sla.WorkingWindow("risk_control", "all", 9 * 60, 21 * 60)  # 01:00-13:00 UTC


def test_the_seed_loads_and_names_every_catalog_department():
    from voc.catalog import load_catalog

    windows = sla.load_windows()
    assert windows["customer_service"] == sla.WorkingWindow("customer_service", "all", 0, 1440)
    assert windows["risk_control"] == RISK
    assert set(windows) == set(load_catalog().departments)


def test_a_workday_department_does_not_count_the_national_day_week():
    # GIVEN Tuesday 2025-09-30 17:00 Shanghai (09:00 UTC) to Thursday 2025-10-09
    # 10:00 Shanghai: 1 h on 09-30, 10-01..10-08 off, 1 h on 10-09
    start, end = UTC(2025, 9, 30, 9), UTC(2025, 10, 9, 2)
    assert sla.business_seconds(FINANCE, start, end) == 2 * 3600
    # and the calendar clock counts all of it
    assert sla.calendar_seconds(start, end) == (end - start).total_seconds()


def test_a_makeup_saturday_is_worked():
    # GIVEN Saturday 2025-10-11 (make-up workday) 08:00-12:00 Shanghai
    start, end = UTC(2025, 10, 11, 0), UTC(2025, 10, 11, 4)
    # THEN 09:00-12:00 counts: 3 h; the Saturday before (10-04) is a holiday
    assert sla.business_seconds(FINANCE, start, end) == 3 * 3600
    assert sla.business_seconds(FINANCE, UTC(2025, 10, 4, 0), UTC(2025, 10, 4, 4)) == 0


def test_pauses_stop_the_clock_only_inside_working_hours():
    # GIVEN risk control (09-21 every day), a clock from 10:00 to 20:00 Shanghai on
    # 2026-11-03 and a pause 12:00-22:00 Shanghai (ends after closing)
    start, end = UTC(2026, 11, 3, 2), UTC(2026, 11, 3, 12)
    pause = (UTC(2026, 11, 3, 4), UTC(2026, 11, 3, 14))
    # THEN 10:00-12:00 counts: 2 h; overlapping duplicate pauses count once
    assert sla.business_seconds(RISK, start, end, [pause]) == 2 * 3600
    assert sla.business_seconds(RISK, start, end, [pause, pause]) == 2 * 3600
    assert sla.calendar_seconds(start, end, [pause]) == 2 * 3600


def test_an_empty_or_backwards_span_is_zero():
    t = UTC(2026, 11, 3, 2)
    assert sla.business_seconds(RISK, t, t) == 0
    assert sla.business_seconds(RISK, t, t - dt.timedelta(hours=1)) == 0


@given(
    st.datetimes(min_value=UTC(2025, 1, 1), max_value=UTC(2026, 12, 1)),
    st.integers(min_value=0, max_value=20 * 86400),
    st.integers(min_value=0, max_value=20 * 86400),
)
def test_business_time_is_additive_and_bounded(start, first_s, second_s):
    mid = start + dt.timedelta(seconds=first_s)
    end = mid + dt.timedelta(seconds=second_s)
    whole = sla.business_time(FINANCE, start, end)
    assert whole == sla.business_time(FINANCE, start, mid) + sla.business_time(FINANCE, mid, end)
    assert dt.timedelta(0) <= whole <= end - start


def test_a_business_deadline_skips_the_night_and_the_holiday():
    # GIVEN finance (workdays 09:00-18:00 Shanghai) and a 2 h target from Tuesday
    # 2025-09-30 17:00 Shanghai (09:00 UTC): 1 h that day, 10-01..10-08 off
    start = UTC(2025, 9, 30, 9)
    # THEN the second hour is worked on Thursday 10-09 09:00-10:00 Shanghai
    assert sla.business_deadline(FINANCE, start, dt.timedelta(hours=2)) == UTC(2025, 10, 9, 2)
    # and a 1 h target is due at closing time on the first day
    assert sla.business_deadline(FINANCE, start, dt.timedelta(hours=1)) == UTC(2025, 9, 30, 10)
    # and round the clock, a deadline is plain calendar time
    assert sla.business_deadline(sla.ALWAYS_OPEN, start, dt.timedelta(hours=30)) == UTC(
        2025, 10, 1, 15
    )
    assert sla.business_deadline(FINANCE, start, dt.timedelta(0)) == start


@given(
    st.datetimes(min_value=UTC(2025, 1, 1), max_value=UTC(2026, 12, 1)),
    st.integers(min_value=1, max_value=200 * 3600),
)
def test_a_business_deadline_is_the_first_instant_the_target_is_met(start, target_s):
    target = dt.timedelta(seconds=target_s)
    due = sla.business_deadline(FINANCE, start, target)
    # THEN exactly the target has been worked by the deadline, and less before it
    assert sla.business_time(FINANCE, start, due) == target
    assert sla.business_time(FINANCE, start, due - dt.timedelta(microseconds=1)) < target
