"""Mart contents on the hand-written fixture (see conftest.py for the timeline)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.warehouse.conftest import DEP, NDA, query


@pytest.fixture(scope="module")
def marts(built_warehouse):
    warehouse, result = built_warehouse
    assert result.success, result.summary()
    return warehouse


def _sla(marts) -> dict[tuple[str, str], dict]:
    rows = query(marts, "SELECT * FROM fct_ticket_sla")
    return {(r["ticket_id"], r["metric"]): r for r in rows}


def test_resolution_sla_breach_flags_per_ticket(marts):
    # GIVEN the five fixture tickets
    # WHEN the resolution SLA rows are read
    sla = _sla(marts)
    resolution = {t: r for (t, m), r in sla.items() if m == "resolution"}

    # THEN late and reopened-then-late tickets breach, an open ticket past its deadline
    # (by the last event time) breaches, one still within it is active, one met
    assert {t: (r["is_breached"], r["is_active"]) for t, r in resolution.items()} == {
        "T-CALL": (False, False),
        "T-LATE": (True, False),
        "T-OPEN": (False, True),
        "T-REOPEN": (True, False),
        "T-STALE": (True, False),
    }


def test_resolution_target_precedence_and_clock(marts):
    # GIVEN tickets whose target comes from the scenario, the ticket, and the default
    sla = _sla(marts)

    # THEN the ticket's own sla_due_at beats the scenario (6 h, not DEP's urgent 2 h)
    reopen = sla[("T-REOPEN", "resolution")]
    assert (reopen["target_hours"], reopen["target_source"]) == (6.0, "ticket_sla_due_at")
    assert reopen["completed_at"] == datetime(2025, 3, 6, 12)  # the final resolution
    assert reopen["reopened_count"] == 1
    assert reopen["highest_tier"] == "L2"
    assert reopen["priority"] == "urgent"
    # AND a tagged ticket without a due date takes its scenario's hours for its priority
    late = sla[("T-LATE", "resolution")]
    assert (late["target_hours"], late["target_source"]) == (2.0, "scenario")
    assert late["breach_at"] == datetime(2025, 3, 2, 12)
    assert late["elapsed_hours"] == pytest.approx(3.0)
    # AND an untagged ticket falls back to the default for its priority
    stale = sla[("T-STALE", "resolution")]
    assert (stale["target_hours"], stale["target_source"], stale["scenario_id"]) == (
        48.0,
        "default",
        "untagged",
    )
    # AND open clocks are measured to the last event time in the data, not to now
    open_ = sla[("T-OPEN", "resolution")]
    assert open_["as_of_at"] == datetime(2025, 3, 6, 12, 30)
    assert open_["elapsed_hours"] == pytest.approx(36.5)
    assert open_["completed_at"] is None


def test_first_response_sla(marts):
    # GIVEN the fixture tickets
    sla = _sla(marts)
    first = {t: r for (t, m), r in sla.items() if m == "first_response"}

    # THEN answered-in-time tickets meet it and never-answered ones breach
    assert {t: r["is_breached"] for t, r in first.items()} == {
        "T-CALL": False,
        "T-LATE": False,
        "T-OPEN": True,
        "T-REOPEN": False,
        "T-STALE": True,
    }
    assert first["T-REOPEN"]["target_hours"] == 0.5


def test_contacts_are_tagged_owned_and_scored(marts):
    # GIVEN the ten fixture contacts
    rows = {r["contact_id"]: r for r in query(marts, "SELECT * FROM fct_contacts")}

    # THEN untagged contacts get 'untagged' and the untagged owner
    assert rows["call-4"]["scenario_id"] == "untagged"
    assert rows["call-4"]["department_id"] == "customer_service"
    # AND the department is the scenario's owner
    assert rows["call-2"]["department_id"] == "dispatch_ops"
    assert rows["te-reopen-1"]["department_id"] == "finance"
    # AND the call that opened a ticket links to it but keeps its own survey score
    assert rows["call-1"]["ticket_id"] == "T-CALL"
    assert (rows["call-1"]["satisfaction_score"], rows["call-1"]["satisfaction_score_source"]) == (
        5,
        "call_survey",
    )
    # AND a ticket contact is scored by its ticket's latest rating
    assert rows["te-late-1"]["satisfaction_score"] == 2
    # AND repeats are the same customer and scenario within 7 days, either side
    assert (rows["call-2"]["has_repeat_contact"], rows["call-2"]["is_one_time_resolved"]) == (
        True,
        False,
    )
    assert (rows["call-3"]["is_repeat_contact"], rows["call-3"]["is_one_time_resolved"]) == (
        True,
        True,
    )
    assert rows["call-5"]["is_repeat_contact"] is False  # 9 days later
    # AND contacts without a customer or a scenario cannot be judged
    assert rows["post-1"]["is_one_time_resolved"] is None
    assert rows["call-4"]["is_one_time_resolved"] is None


def test_satisfaction_csat_and_one_time_resolution(marts):
    # GIVEN the satisfaction mart
    rows = {
        (r["scenario_id"], r["channel"]): r for r in query(marts, "SELECT * FROM fct_satisfaction")
    }

    # THEN NDA calls: scores 2, 4, 3 -> one of three satisfied; call-2 had a repeat
    nda_calls = rows[(NDA, "call")]
    assert nda_calls["department_id"] == "dispatch_ops"
    assert (nda_calls["contacts"], nda_calls["rated"], nda_calls["satisfied"]) == (3, 3, 1)
    assert nda_calls["csat"] == pytest.approx(1 / 3)
    assert nda_calls["avg_rating"] == pytest.approx(3.0)
    assert nda_calls["repeat_contacts"] == 1
    assert nda_calls["one_time_resolution_rate"] == pytest.approx(2 / 3)
    # AND DEP tickets: one rated 1, one unrated -> csat 0 over 1 rated
    dep_tickets = rows[(DEP, "ticket")]
    assert (dep_tickets["contacts"], dep_tickets["rated"], dep_tickets["csat"]) == (2, 1, 0.0)
    assert rows[(DEP, "call")]["csat"] == 1.0
    # AND rates with nothing to divide by are null, not zero
    social = rows[(NDA, "social")]
    assert (social["csat"], social["one_time_resolution_rate"]) == (None, None)
    assert rows[("untagged", "call")]["one_time_resolution_rate"] is None


def test_alerts_and_scenario_dimension(marts):
    # GIVEN the alert and the catalog
    alert = query(marts, "SELECT * FROM fct_alerts")[0]
    scenarios = {r["scenario_id"]: r for r in query(marts, "SELECT * FROM dim_scenarios")}

    # THEN the alert carries its scenario's name and owner
    assert (alert["scenario_name_en"], alert["owner_department_id"]) == (
        "No driver accepts the order",
        "dispatch_ops",
    )
    assert alert["lift_over_baseline"] == pytest.approx(4.0)
    # AND the dimension has the catalog's scenarios plus 'untagged'
    assert set(scenarios) == {NDA, DEP, "untagged"}
    assert scenarios["untagged"]["is_untagged"] is True
    assert scenarios[DEP]["owner_department_name_zh"] == "财务结算"
    assert scenarios[NDA]["stage_order"] == 2
