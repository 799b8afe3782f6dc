"""dim_business_calendar, as dbt builds it in the warehouse, against the State
Council's 2025 and 2026 notices (the hand transcription in tests/test_calendar.py,
made independently of the chinese-calendar package the model reads)."""

from __future__ import annotations

import datetime as dt

from tests.test_calendar import _official
from tests.warehouse.conftest import query


def test_dim_business_calendar_equals_the_official_2025_2026_schedule(built_warehouse):
    # GIVEN the built fixture warehouse (its data is in 2025)
    warehouse, _ = built_warehouse
    # WHEN every 2025-2026 row of the mart is read
    rows = query(
        warehouse,
        "select date_day, is_workday, holiday_name, is_makeup_workday, makeup_for_holiday,"
        " is_official_schedule from main.dim_business_calendar"
        " where date_day between '2025-01-01' and '2026-12-31' order by date_day",
    )
    # THEN there is one row per day, each published (official schedule)
    assert len(rows) == 365 * 2
    assert rows[0]["date_day"] == dt.date(2025, 1, 1)
    assert all(r["is_official_schedule"] for r in rows)
    # AND workday, holiday and make-up flags equal the notices day by day
    mismatches = []
    for r in rows:
        workday, name, makeup = _official(r["date_day"])
        if (r["is_workday"], r["is_makeup_workday"]) != (workday, makeup):
            mismatches.append(r)
        # a day off carries a holiday name (2025-10-06: Mid-autumn inside National Day)
        if (name is None) != (r["holiday_name"] is None):
            mismatches.append(r)
        if makeup != (r["makeup_for_holiday"] is not None):
            mismatches.append(r)
    assert mismatches == []
    for year in (2025, 2026):
        assert sum(r["is_workday"] for r in rows if r["date_day"].year == year) == 248
