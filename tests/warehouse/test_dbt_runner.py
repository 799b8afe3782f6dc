from __future__ import annotations

import os
from pathlib import Path

import pytest

from voc.warehouse.dbt_runner import DbtBuildError, DbtBuildResult, NodeResult, mart_row_counts


def test_dbt_build_passes_every_model_unit_test_and_data_test(built_warehouse):
    # GIVEN the fixture warehouse built once for the session
    warehouse, result = built_warehouse

    # THEN dbt succeeded, including the SLA unit tests and the singular tests
    assert result.success, result.summary() + "\n" + "\n".join(map(str, result.failures))
    assert result.failures == ()
    statuses = result.statuses
    assert statuses["unit_test.voc_loop.fct_ticket_sla.test_fct_ticket_sla__breach_logic"] == "pass"
    assert statuses["test.voc_loop.test_ticket_sla__two_metrics_per_ticket"] == "pass"
    assert statuses["model.voc_loop.fct_ticket_sla"] == "success"
    # AND dbt's target/ and logs/ went beside the warehouse, not into the repo
    assert result.target_path == warehouse.parent / "dbt_target"
    assert (warehouse.parent / "dbt_logs" / "dbt.log").is_file()


def test_dbt_build_leaves_the_environment_as_it_found_it(built_warehouse):
    # GIVEN a build has run in this process
    # THEN VOC_WAREHOUSE is not left pointing at the fixture warehouse
    assert os.environ.get("VOC_WAREHOUSE") != str(built_warehouse[0])


def test_mart_row_counts_lists_every_fct_and_dim_table(built_warehouse):
    # GIVEN the built fixture warehouse
    warehouse, _ = built_warehouse

    # WHEN the marts are counted (dbt must have released the file)
    counts = mart_row_counts(warehouse)

    # THEN every mart is there with the fixture's row counts
    assert counts == {
        "dim_business_calendar": 365 * 3,  # 2025 (the fixture data) to 2027
        "dim_departments": 3,
        "dim_scenarios": 3,
        "fct_alerts": 1,
        "fct_calls": 5,
        "fct_call_queue_daily": 3,  # the five calls fall on 03-01, 03-03 and 03-12
        "fct_contacts": 10,
        "fct_issues": 1,
        "fct_satisfaction": 7,
        "fct_compensations": 0,
        "fct_cx_daily": 12,
        "fct_cx_weekly": 9,
        "fct_journey_breakpoints": 5,
        "fct_sla_backlog_daily": 18,
        "fct_ticket_escalations": 2,  # T-REOPEN: L1 (assigned), L2 (escalated)
        "fct_ticket_metrics": 5,
        "fct_ticket_sla": 11,  # 5 tickets x 2 metrics + T-REOPEN's escalation
    }


def test_build_error_names_the_failing_node_and_the_log_file(tmp_path: Path):
    # GIVEN a build result with one failing test
    result = DbtBuildResult(
        success=False,
        nodes=(
            NodeResult("model.voc_loop.fct_contacts", "model", "success"),
            NodeResult("test.voc_loop.unique_x", "test", "fail", "Got 2 results", 2),
        ),
        target_path=tmp_path / "dbt_target",
        log_path=tmp_path / "dbt_logs",
    )

    # WHEN it is raised
    with pytest.raises(DbtBuildError) as err:
        raise DbtBuildError(result)

    # THEN the message says what failed and where the logs are
    message = str(err.value)
    assert "test.voc_loop.unique_x" in message and "Got 2 results" in message
    assert str(tmp_path / "dbt_logs" / "dbt.log") in message
    assert "fct_contacts" not in message


@pytest.mark.slow  # two dbt builds of its own (~1-2 min)
def test_fct_calls_is_incremental_and_keeps_what_it_built(tmp_path):
    import duckdb

    from tests.warehouse.conftest import _call, build_raw_warehouse, insert_rows, query
    from voc.warehouse.dbt_runner import build_marts

    # GIVEN the fixture warehouse built once
    warehouse = build_raw_warehouse(tmp_path / "wh.duckdb")
    build_marts(warehouse)
    first = {r["call_id"]: r for r in query(warehouse, "SELECT * FROM fct_calls")}
    # WHEN a call that was abandoned in the queue arrives and dbt builds again
    con = duckdb.connect(str(warehouse))
    insert_rows(
        con,
        "calls",
        [_call("call-9", "c9", "03-13 09:00", None, outcome="abandoned_in_queue")],
    )
    con.close()
    build_marts(warehouse, select="fct_calls")
    second = {r["call_id"]: r for r in query(warehouse, "SELECT * FROM fct_calls")}
    # THEN the new call is merged in and the calls built before are kept as they were
    assert set(second) == set(first) | {"call-9"}
    assert all(second[c] == first[c] for c in first)
    assert (second["call-9"]["is_abandoned"], second["call-9"]["is_offered"]) == (True, True)
