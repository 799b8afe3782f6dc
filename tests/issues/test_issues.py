"""Issues: append-only status history, the status machine, and verification
of a released fix by a statistically significant drop in contacts."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb
import pytest
from scipy.stats import binomtest

from tests.alerting.helpers import make_warehouse
from voc.alerting.episodes import sync_episodes
from voc.catalog import load_catalog
from voc.issues.store import IssueError, issue_rows, open_issue, state, update_issue
from voc.issues.verify import rate_ratio_test, replay_checks, verify_all
from voc.warehouse.duck import open_warehouse

CATALOG = load_catalog()
T0 = datetime(2026, 11, 2)


def test_rate_ratio_test_agrees_with_the_exact_conditional_binomial_test():
    # GIVEN 40 contacts over 2.0 (thousand orders) before, 12 over 2.5 after
    t = rate_ratio_test(40, 2.0, 12, 2.5)
    # THEN the ratio is (12/2.5)/(40/2.0) and the one-sided p-value is close to the
    # exact test: after-count ~ Binomial(52, 2.5/4.5) under equal rates
    assert t.rate_ratio == pytest.approx(0.24)
    exact = binomtest(12, 52, 2.5 / 4.5, alternative="less").pvalue
    assert t.p_value < 0.001 and exact < 0.001
    assert t.ci_low < 0.24 < t.ci_high < 1
    # AND equal rates are not a drop
    same = rate_ratio_test(40, 2.0, 50, 2.5)
    assert same.p_value > 0.4 and same.ci_low < 1 < same.ci_high


def _issue_from_episode(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, n_keys=1)
    con = open_warehouse(warehouse)
    sync_episodes(con, CATALOG)
    episode_id, scenario_id = con.execute(
        "SELECT episode_id, scenario_id FROM raw.alert_episodes"
    ).fetchall()[0]
    issue_id, created = open_issue(
        con,
        CATALOG,
        scenario_id=scenario_id,
        source_kind="alert_episode",
        source_ref=episode_id,
        opened_at=T0,
        actor="analyst",
    )
    assert created
    return con, issue_id, scenario_id


def test_an_issue_keeps_an_append_only_history_through_its_status_machine(tmp_path):
    # GIVEN an issue opened from an alert episode
    con, issue_id, scenario_id = _issue_from_episode(tmp_path)
    row = issue_rows(con, issue_id)[0]
    assert row["owner_department"] == CATALOG[scenario_id].owner
    assert row["fix_sla_hours"] > 0 and row["status"] == "open"
    # WHEN it is acknowledged, re-owned, released, and someone tries a bad move
    update_issue(con, issue_id, "acknowledged", T0 + timedelta(hours=1), "ops")
    update_issue(
        con,
        issue_id,
        None,
        T0 + timedelta(hours=2),
        "ops",
        owner="product",
        external_ref="REQ-42",
        catalog=CATALOG,
    )
    with pytest.raises(IssueError, match="needs the release time"):
        update_issue(con, issue_id, "fix_released", T0, "ops")
    update_issue(
        con,
        issue_id,
        "fix_released",
        T0 + timedelta(hours=3),
        "ops",
        release_at=T0 + timedelta(hours=3),
    )
    with pytest.raises(IssueError, match="is fix_released: it can go to .* not acknowledged"):
        update_issue(con, issue_id, "acknowledged", T0, "ops")
    # THEN every step is one more event, earlier events unchanged
    events = con.execute(
        "SELECT seq, status, owner_department, external_ref FROM raw.issue_events"
        " WHERE issue_id = ? ORDER BY seq",
        [issue_id],
    ).fetchall()
    assert [e[1] for e in events] == ["open", "acknowledged", "edited", "fix_released"]
    assert events[0][2] == CATALOG[scenario_id].owner
    st = state(con, issue_id)
    assert (st.status, st.owner_department, st.external_ref) == (
        "fix_released",
        "product",
        "REQ-42",
    )
    # AND opening it again from the same episode adds nothing
    again, created = open_issue(
        con,
        CATALOG,
        scenario_id=scenario_id,
        source_kind="alert_episode",
        source_ref=issue_rows(con, issue_id)[0]["source_ref"],
        opened_at=T0,
        actor="x",
    )
    assert again == issue_id and not created


def _rate_warehouse(
    path, scenario, per_day_before, per_day_after, release_day, days, back_day=None, seed=7
):
    """Contacts of one scenario at a daily rate that changes at the release (and
    optionally comes back), against a steady 400 orders a day of its business."""
    rng = random.Random(seed)
    s = CATALOG[scenario]
    contacts, events = [], []
    n = 0
    for day in range(days):
        rate = per_day_before if day < release_day else per_day_after
        if back_day is not None and day >= back_day:
            rate = per_day_before
        for _ in range(400):
            n += 1
            t = T0 + timedelta(days=day, seconds=rng.randrange(86400))
            events.append([f"e{n}", t, s.domain, f"cu{n}", f"o{n}", s.stage, "order_viewed"])
        k = sum(1 for _ in range(int(rate * 3)) if rng.random() < 1 / 3)
        for _ in range(k):
            n += 1
            t = T0 + timedelta(days=day, seconds=rng.randrange(86400))
            contacts.append(
                [
                    f"c{n}",
                    "call",
                    t,
                    s.domain,
                    "text",
                    s.stage,
                    [],
                    False,
                    scenario,
                    0.9,
                    "keyword",
                    "{}",
                ]
            )
    with open_warehouse(path) as con:
        con.executemany(
            "INSERT INTO raw.app_events (event_id, event_time, domain, customer_id, order_id,"
            " journey_stage, event_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        con.executemany(
            "INSERT INTO raw.contacts (contact_id, channel, event_time, domain, text,"
            " journey_stage, recent_events, is_late, scenario_id, confidence, method, evidence)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            contacts,
        )


@pytest.mark.parametrize(
    ("after", "back_day", "expect_events", "avoided"),
    [
        (4, None, ["open", "fix_released", "verified"], True),  # effective fix
        (20, None, ["open", "fix_released", "reopened"], False),  # decoy: no drop in 7 days
        (4, 8, ["open", "fix_released", "verified", "reopened"], False),  # rate returned
    ],
)
def test_a_released_fix_is_verified_only_by_a_significant_drop(
    tmp_path, after, back_day, expect_events, avoided
):
    # GIVEN 20 contacts a day before a release on day 3, `after` a day after it
    scenario = "ecommerce.presale.product_question"
    warehouse = tmp_path / "w.duckdb"
    _rate_warehouse(warehouse, scenario, 20, after, 3, 11, back_day)
    with duckdb.connect(str(warehouse)) as con:
        issue_id, _ = open_issue(
            con,
            CATALOG,
            scenario_id=scenario,
            source_kind="simulator",
            source_ref="t",
            opened_at=T0,
            actor="t",
        )
        release = T0 + timedelta(days=3)
        update_issue(con, issue_id, "fix_released", release, "t", release_at=release)
        # WHEN checked before the minimum observation period: nothing changes
        early = verify_all(con, release + timedelta(hours=12))
        assert early[0]["verdict"] == "observing" and state(con, issue_id).status == "fix_released"
        # AND then day by day to the end of the data
        replay_checks(con)
        events = [
            r[0]
            for r in con.execute(
                "SELECT status FROM raw.issue_events WHERE issue_id = ? ORDER BY seq", [issue_id]
            ).fetchall()
        ]
        checks = con.execute(
            "SELECT count(*), max(contacts_avoided_per_week) FROM raw.issue_checks"
            " WHERE issue_id = ?",
            [issue_id],
        ).fetchall()[0]
    # THEN the history is the expected one; contacts avoided are claimed only for a drop
    assert events == expect_events
    assert checks[0] >= 2
    if avoided:
        # (20 - 4) contacts a day x 7 days, within Poisson noise
        assert 60 < checks[1] < 170


def test_an_episode_without_a_scenario_asks_for_the_root_cause_and_suggests_one(tmp_path):
    from click.testing import CliRunner

    from voc.cli import main

    # GIVEN a stage-level episode (no scenario of its own) over contacts of one scenario
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, n_keys=1)
    with open_warehouse(warehouse) as con:
        sync_episodes(con, CATALOG)
        episode_id, scenario_id = con.execute(
            "SELECT episode_id, scenario_id FROM raw.alert_episodes"
        ).fetchall()[0]
        con.execute("UPDATE raw.alert_episodes SET scenario_id = NULL")
    cmd = ["issues", "open", "--warehouse", str(warehouse), "--from-episode", episode_id]
    # WHEN an analyst opens an issue from it without naming the root cause
    refused = CliRunner().invoke(main, cmd)
    # THEN it is refused with the scenario its contacts were mostly about as the hint
    assert refused.exit_code != 0
    assert "names no single scenario" in refused.output
    assert f"--scenario {scenario_id}" in refused.output
    # AND naming it opens the issue
    opened = CliRunner().invoke(main, [*cmd, "--scenario", scenario_id, "--json"])
    assert opened.exit_code == 0, opened.output
    with open_warehouse(warehouse) as con:
        assert [r["scenario_id"] for r in issue_rows(con)] == [scenario_id]
