"""Warehouse tables of the closed loop (issue 12): alert episodes and their
transitions, the delivery outbox, issues with their append-only status events,
and fix verification checks.

They live in the `raw` schema beside the pipeline's tables because dbt reads
them as sources (`fct_issues`), and are created with the warehouse so that a
dbt build on a warehouse that never had an issue still finds them (empty).
Times are UTC, naive TIMESTAMPs, like every other table.
"""

from __future__ import annotations

import duckdb

LOOP_DDL: tuple[str, ...] = (
    # Derived state, rebuilt by `sync_episodes` from raw.alerts + raw.contacts
    # (+ the manual transitions): one row per episode keyed by (kind, key).
    """
    CREATE TABLE IF NOT EXISTS raw.alert_episodes (
        episode_id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        domain VARCHAR,
        journey_stage VARCHAR,
        scenario_id VARCHAR,
        owner_department VARCHAR,
        severity VARCHAR,
        status VARCHAR NOT NULL,
        opened_at TIMESTAMP NOT NULL,
        last_window_end TIMESTAMP NOT NULL,
        resolved_at TIMESTAMP,
        acknowledged_at TIMESTAMP,
        peak_count BIGINT,
        peak_window_start TIMESTAMP,
        contacts_so_far BIGINT,
        expected_so_far DOUBLE,
        threshold DOUBLE,
        alert_ids VARCHAR[],
        evidence JSON,
        link VARCHAR,
        _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )
    """,
    # Append-only: every transition an owner is told about. Ids are derived
    # from (episode, transition), so re-deriving adds nothing.
    """
    CREATE TABLE IF NOT EXISTS raw.alert_transitions (
        transition_id VARCHAR PRIMARY KEY,
        episode_id VARCHAR NOT NULL,
        transition VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL,
        actor VARCHAR,
        payload JSON NOT NULL,
        _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )
    """,
    # One row per (transition, channel): the unit of delivery.
    """
    CREATE TABLE IF NOT EXISTS raw.alert_outbox (
        delivery_id VARCHAR PRIMARY KEY,
        transition_id VARCHAR NOT NULL,
        episode_id VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        channel_type VARCHAR NOT NULL,
        idempotency_key VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMP NOT NULL,
        last_error VARCHAR,
        last_status_code BIGINT,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        sent_at TIMESTAMP
    )
    """,
    # Issue attributes as opened (never updated; changes are status events).
    """
    CREATE TABLE IF NOT EXISTS raw.issues (
        issue_id VARCHAR PRIMARY KEY,
        title VARCHAR NOT NULL,
        scenario_id VARCHAR NOT NULL,
        source_kind VARCHAR NOT NULL,
        source_ref VARCHAR,
        owner_department VARCHAR NOT NULL,
        severity VARCHAR,
        fix_sla_hours DOUBLE NOT NULL,
        rate_unit VARCHAR NOT NULL,
        external_ref VARCHAR,
        opened_at TIMESTAMP NOT NULL,
        opened_by VARCHAR,
        _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )
    """,
    # Append-only status history: open -> acknowledged -> fix_released ->
    # verified | reopened | wont_fix (and edits of owner / external ref).
    """
    CREATE TABLE IF NOT EXISTS raw.issue_events (
        event_id VARCHAR PRIMARY KEY,
        issue_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        status VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL,
        actor VARCHAR,
        note VARCHAR,
        release_at TIMESTAMP,
        owner_department VARCHAR,
        external_ref VARCHAR,
        _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )
    """,
    # Each statistical check of a released fix (before vs after rate).
    """
    CREATE TABLE IF NOT EXISTS raw.issue_checks (
        check_id VARCHAR PRIMARY KEY,
        issue_id VARCHAR NOT NULL,
        checked_through TIMESTAMP NOT NULL,
        release_at TIMESTAMP NOT NULL,
        before_start TIMESTAMP NOT NULL,
        before_end TIMESTAMP NOT NULL,
        after_start TIMESTAMP NOT NULL,
        after_end TIMESTAMP NOT NULL,
        before_contacts BIGINT NOT NULL,
        after_contacts BIGINT NOT NULL,
        before_exposure DOUBLE NOT NULL,
        after_exposure DOUBLE NOT NULL,
        rate_before DOUBLE,
        rate_after DOUBLE,
        rate_ratio DOUBLE,
        ci_low DOUBLE,
        ci_high DOUBLE,
        p_value DOUBLE,
        verdict VARCHAR NOT NULL,
        contacts_avoided_per_week DOUBLE,
        _loaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )
    """,
)


def ensure_loop_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for ddl in LOOP_DDL:
        con.execute(ddl)
