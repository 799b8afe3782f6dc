"""fct_issues: one row per issue from its append-only history and last check."""

from __future__ import annotations

from datetime import datetime

from tests.warehouse.conftest import query


def test_fct_issues_folds_the_history_and_the_last_check(built_warehouse):
    # GIVEN the fixture issue: 24 h fix SLA, released after 50 h, then verified
    warehouse, result = built_warehouse
    assert result.success
    # WHEN the mart is read
    rows = query(warehouse, "SELECT * FROM fct_issues")
    # THEN one row, its status and owner from the latest events
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "verified" and row["is_verified"] and row["is_closed"]
    assert row["owner_department_id"] == "dispatch_ops"
    # AND it was overdue: the fix came 50 h after opening against a 24 h SLA
    assert row["fix_due_at"] == datetime(2025, 3, 2, 8, 0)
    assert row["fix_released_at"] == datetime(2025, 3, 3, 10, 0)
    assert row["is_overdue"] is True
    assert row["closed_at"] == datetime(2025, 3, 10)
    # AND the verification figures are the last check's
    assert (row["contacts_before_fix"], row["contacts_after_fix"]) == (40, 8)
    assert row["contacts_avoided_per_week"] == 12.5
    assert row["scenario_name_en"]
