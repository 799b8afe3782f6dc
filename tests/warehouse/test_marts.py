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
    """The SLA rows applied at creation, by (ticket, metric)."""
    rows = query(marts, "SELECT * FROM fct_ticket_sla WHERE applied_reason = 'created'")
    return {(r["ticket_id"], r["metric"]): r for r in rows}


def test_resolution_sla_on_the_business_clock(marts):
    # GIVEN the five fixture tickets (conftest.py timeline)
    sla = _sla(marts)
    resolution = {t: r for (t, m), r in sla.items() if m == "resolution"}

    # THEN (breached, active): T-CALL met (finance does not work on Saturday:
    # 0 business minutes); T-LATE 180 > 120; T-OPEN running 1,080 of 2,880 business
    # minutes: undecided (null) and active; T-REOPEN 1,620 > 300 (the working
    # time to its own sla_due_at, not the catalog's 120); T-STALE still open but
    # past its 48 h: breached while running
    assert {t: (r["is_breached"], r["is_active"]) for t, r in resolution.items()} == {
        "T-CALL": (False, False),
        "T-LATE": (True, False),
        "T-OPEN": (None, True),
        "T-REOPEN": (True, False),
        "T-STALE": (True, False),
    }
    assert {t: r["business_minutes"] for t, r in resolution.items()} == {
        "T-CALL": 0.0,
        "T-LATE": 180.0,
        "T-OPEN": 1080.0,
        "T-REOPEN": 1620.0,
        "T-STALE": 7950.0,
    }
    assert resolution["T-CALL"]["calendar_minutes"] == 710.0
    assert {t: r["department_id"] for t, r in resolution.items()} == {
        "T-CALL": "finance",  # no assignment: its scenario's owner
        "T-LATE": "dispatch_ops",
        "T-OPEN": "finance",
        "T-REOPEN": "finance",  # assigned
        "T-STALE": "customer_service",  # untagged
    }


def test_resolution_targets_and_reapplied_sla(marts):
    sla = _sla(marts)
    # GIVEN a ticket whose ticketing system stamped its due date (03-04 06:00 UTC,
    # 6 h after creation): finance's working time in between, 01:00-06:00 UTC =
    # 300 minutes, is its target, not the catalog's 120 for DEP urgent
    reopen = sla[("T-REOPEN", "resolution")]
    assert (reopen["target_minutes"], reopen["target_source"]) == (300.0, "ticket")
    # AND a tagged ticket without a due date: the catalog's hours for its
    # priority at creation (NDA high: 2 h)
    late = sla[("T-LATE", "resolution")]
    assert (late["target_minutes"], late["target_source"]) == (120.0, "catalog")
    assert reopen["completed_at"] == datetime(2025, 3, 6, 12)  # the final resolution
    assert (reopen["reopened_count"], reopen["highest_tier"], reopen["priority"]) == (
        1,
        "L2",
        "urgent",
    )
    # AND an untagged ticket falls back to the per-priority default
    stale = sla[("T-STALE", "resolution")]
    assert (stale["target_minutes"], stale["target_source"], stale["scenario_id"]) == (
        2880.0,
        "priority_default",
        "untagged",
    )
    # AND open clocks are measured to the last event time in the data, not to now
    open_ = sla[("T-OPEN", "resolution")]
    assert open_["as_of_at"] == datetime(2025, 3, 6, 12, 30)
    assert open_["completed_at"] is None
    # AND the escalation to L2 at 03-04 09:00 re-applies the resolution SLA:
    # 60 + 540 + 540 business minutes to the final resolution
    [again] = query(
        marts,
        "SELECT * FROM fct_ticket_sla WHERE ticket_id = 'T-REOPEN' AND applied_reason != 'created'",
    )
    assert (again["metric"], again["applied_reason"]) == ("resolution", "escalated_to_L2")
    assert (again["applied_at"], again["business_minutes"]) == (datetime(2025, 3, 4, 9), 1140.0)
    assert again["is_breached"] is True


def test_first_response_sla(marts):
    # GIVEN the fixture tickets
    sla = _sla(marts)
    first = {t: r for (t, m), r in sla.items() if m == "first_response"}

    # THEN answered in time (T-REOPEN answered before finance opens: 0 business
    # minutes) meet it; never-answered ones breach once past the target
    assert {t: r["is_breached"] for t, r in first.items()} == {
        "T-CALL": False,
        "T-LATE": False,
        "T-OPEN": True,
        "T-REOPEN": False,
        "T-STALE": True,
    }
    assert first["T-REOPEN"]["target_minutes"] == 30.0


def test_contacts_are_tagged_owned_scored_and_fcr(marts):
    # GIVEN the ten fixture contacts
    rows = {r["contact_id"]: r for r in query(marts, "SELECT * FROM fct_contacts")}

    # THEN untagged contacts get 'untagged' and the untagged owner
    assert rows["call-4"]["scenario_id"] == "untagged"
    assert rows["call-4"]["department_id"] == "customer_service"
    # AND the department is the ticket's when the contact opened one
    assert rows["call-2"]["department_id"] == "dispatch_ops"
    assert rows["te-reopen-1"]["department_id"] == "finance"
    assert rows["call-1"]["department_id"] == "finance"
    # AND the call survey and the ticket rating are kept apart
    assert rows["call-1"]["ticket_id"] == "T-CALL"
    assert (rows["call-1"]["call_survey_score"], rows["call-1"]["ticket_rating"]) == (5, 4)
    assert (rows["te-late-1"]["call_survey_score"], rows["te-late-1"]["ticket_rating"]) == (
        None,
        2,
    )
    # AND repeats: the same customer within 72 h (orders not different), either side
    assert (rows["call-2"]["has_repeat_contact"], rows["call-3"]["is_repeat_contact"]) == (
        True,
        True,
    )
    assert rows["call-5"]["is_repeat_contact"] is False  # 9 days later
    # (call-3's 72 h look-back runs past the first event: a repeat found, but censored)
    assert (rows["call-3"]["is_repeat_censored"], rows["call-5"]["is_repeat_censored"]) == (
        True,
        False,
    )
    # AND FCR: resolved on the call, no ticket, no repeat after; null when censored
    # (call-5's window runs past the data) or not an assisted contact (post-1)
    assert {c: r["is_first_contact_resolved"] for c, r in rows.items()} == {
        "call-1": False,  # opened a ticket
        "call-2": False,  # not resolved on the call, and came back
        "call-3": True,
        "call-4": True,
        "call-5": None,
        "te-late-1": False,
        "te-open-1": False,
        "te-reopen-1": False,
        "te-stale-1": False,
        "post-1": None,
    }
    assert rows["call-5"]["is_fcr_censored"] is True
    # AND a post whose handle was never seen with a customer stays unresolved
    assert (rows["post-1"]["resolved_customer_id"], rows["post-1"]["identity_source"]) == (
        None,
        None,
    )


def test_satisfaction_call_and_ticket_csat_and_fcr(marts):
    # GIVEN the satisfaction mart
    rows = {
        (r["scenario_id"], r["channel"]): r for r in query(marts, "SELECT * FROM fct_satisfaction")
    }

    # THEN NDA calls: surveys 2, 4, 3 -> one of three satisfied; call-3 is a repeat of
    # call-2, but both are within 72 h of the data's first event, so whether they are
    # repeats is censored: the repeat rate is over call-5 alone (0 of 1);
    # FCR over the two complete windows (call-5 censored) is 1 of 2
    nda_calls = rows[(NDA, "call")]
    assert nda_calls["department_id"] == "dispatch_ops"
    assert (nda_calls["contacts"], nda_calls["call_surveys"], nda_calls["call_satisfied"]) == (
        3,
        3,
        1,
    )
    assert nda_calls["call_csat"] == pytest.approx(1 / 3)
    assert (
        nda_calls["repeat_base_contacts"],
        nda_calls["repeat_contacts"],
        nda_calls["repeat_censored_contacts"],
    ) == (1, 0, 2)
    assert nda_calls["repeat_contact_rate"] == 0.0
    assert (nda_calls["fcr_contacts"], nda_calls["fcr_censored_contacts"]) == (2, 1)
    assert nda_calls["fcr_rate"] == pytest.approx(1 / 2)
    # AND DEP tickets: one rated 1, one unrated -> ticket CSAT 0 over 1 rated
    dep_tickets = rows[(DEP, "ticket")]
    assert (dep_tickets["contacts"], dep_tickets["ticket_ratings"]) == (2, 1)
    assert dep_tickets["ticket_csat"] == 0.0
    # AND the DEP call scores its call (5) and its ticket (4) apart
    assert (rows[(DEP, "call")]["call_csat"], rows[(DEP, "call")]["ticket_csat"]) == (1.0, 1.0)
    # AND rates with nothing to divide by are null, not zero
    social = rows[(NDA, "social")]
    assert (social["call_csat"], social["fcr_rate"]) == (None, None)
