"""Issues: a root cause as a tracked object, with an append-only status history.

An issue is opened from an alert episode or from a cluster of untagged
contacts, for one root-cause scenario. Its attributes as opened are one row
of `raw.issues`; everything that happens to it afterwards is a row of
`raw.issue_events` (never updated, never deleted), so the history is
auditable and `fct_issues` is a pure function of it.

Status machine (ITIL problem management, plus verification by contacts):

    open -> acknowledged -> fix_released -> verified
      \\          \\               \\-> reopened -> acknowledged | fix_released ...
       \\          \\-> wont_fix       (verified -> reopened when the rate returns)
        \\-> fix_released | wont_fix

`edited` events change the owner or the external reference without changing
the status.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from voc.catalog import Catalog

STATUSES = ("open", "acknowledged", "fix_released", "verified", "reopened", "wont_fix")
ALLOWED: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "fix_released", "wont_fix"}),
    "acknowledged": frozenset({"fix_released", "wont_fix"}),
    "fix_released": frozenset({"verified", "reopened", "wont_fix", "fix_released"}),
    "verified": frozenset({"reopened"}),
    "reopened": frozenset({"acknowledged", "fix_released", "wont_fix"}),
    "wont_fix": frozenset({"reopened"}),
}
# The catalog's SLA for a scenario is per ticket priority; an issue's fix SLA
# is the scenario's SLA at the priority its severity maps to.
SEVERITY_PRIORITY = {"critical": "urgent", "high": "high", "medium": "normal", "low": "low"}
# What a scenario's contact rate is counted per (x 1,000), by business.
RATE_UNIT = {
    "freight": "orders",
    "express": "shipments",
    "ecommerce": "orders",
    "common": "active_customers",
}


class IssueError(ValueError):
    """A request the issue tracker refuses, with the reason."""


@dataclass(frozen=True, slots=True)
class IssueState:
    issue_id: str
    status: str
    owner_department: str
    external_ref: str | None
    release_at: datetime | None
    seq: int


def issue_id_for(source_kind: str, source_ref: str, scenario_id: str) -> str:
    digest = hashlib.blake2b(
        f"{source_kind}|{source_ref}|{scenario_id}".encode(), digest_size=6
    ).hexdigest()
    return f"iss-{digest}"


def fix_sla_hours(catalog: Catalog, scenario_id: str, severity: str) -> float:
    scenario = catalog[scenario_id]
    priority = SEVERITY_PRIORITY.get(severity, "normal")
    return float(scenario.sla_hours.get(priority, 48.0))


def open_issue(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    *,
    scenario_id: str,
    source_kind: str,
    source_ref: str | None,
    opened_at: datetime,
    actor: str,
    title: str | None = None,
    owner: str | None = None,
    severity: str | None = None,
    external_ref: str | None = None,
) -> tuple[str, bool]:
    """Open an issue (idempotent per source and scenario). Returns (id, created)."""
    if scenario_id not in catalog:
        raise IssueError(
            f"{scenario_id!r} is not a catalog scenario: an issue needs a root-cause scenario"
            " (pass --scenario)"
        )
    scenario = catalog[scenario_id]
    owner = owner or scenario.owner
    if owner not in catalog.departments:
        raise IssueError(f"owner {owner!r} is not a catalog department")
    severity = severity or scenario.severity
    issue_id = issue_id_for(source_kind, source_ref or "", scenario_id)
    exists = con.execute("SELECT count(*) FROM raw.issues WHERE issue_id = ?", [issue_id])
    if exists.fetchall()[0][0]:
        return issue_id, False
    con.execute(
        "INSERT INTO raw.issues (issue_id, title, scenario_id, source_kind, source_ref,"
        " owner_department, severity, fix_sla_hours, rate_unit, external_ref, opened_at,"
        " opened_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            issue_id,
            title or f"{scenario.name_zh} / {scenario.name_en}",
            scenario_id,
            source_kind,
            source_ref,
            owner,
            severity,
            fix_sla_hours(catalog, scenario_id, severity),
            RATE_UNIT.get(scenario.domain, "active_customers"),
            external_ref,
            opened_at,
            actor,
        ],
    )
    _append(con, issue_id, 1, "open", opened_at, actor, None, None, owner, external_ref)
    return issue_id, True


def state(con: duckdb.DuckDBPyConnection, issue_id: str) -> IssueState:
    rows = con.execute(
        "SELECT seq, status, owner_department, external_ref, release_at FROM raw.issue_events"
        " WHERE issue_id = ? ORDER BY seq",
        [issue_id],
    ).fetchall()
    if not rows:
        raise IssueError(f"no issue {issue_id!r} (see `voc issues list`)")
    status, owner, ref, release = "open", "", None, None
    for _seq, st, own, ext, rel in rows:
        if st != "edited":
            status = st
        owner = own or owner
        ref = ext if ext is not None else ref
        release = rel or release
    return IssueState(issue_id, status, owner, ref, release, rows[-1][0])


def update_issue(
    con: duckdb.DuckDBPyConnection,
    issue_id: str,
    status: str | None,
    at: datetime,
    actor: str,
    *,
    note: str | None = None,
    release_at: datetime | None = None,
    owner: str | None = None,
    external_ref: str | None = None,
    catalog: Catalog | None = None,
) -> IssueState:
    """Append one status event (or an `edited` one when status is None)."""
    current = state(con, issue_id)
    if status is not None and status not in STATUSES:
        raise IssueError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    if status is not None and status not in ALLOWED[current.status]:
        allowed = ", ".join(sorted(ALLOWED[current.status])) or "nothing"
        raise IssueError(f"{issue_id} is {current.status}: it can go to {allowed}, not {status}")
    if status == "fix_released" and release_at is None:
        raise IssueError("fix_released needs the release time (--release-at)")
    if owner is not None and catalog is not None and owner not in catalog.departments:
        raise IssueError(f"owner {owner!r} is not a catalog department")
    if status is None and owner is None and external_ref is None and note is None:
        raise IssueError("nothing to update: give --status, --owner, --external-ref or --note")
    _append(
        con,
        issue_id,
        current.seq + 1,
        status or "edited",
        at,
        actor,
        note,
        release_at,
        owner,
        external_ref,
    )
    return state(con, issue_id)


def _append(
    con: duckdb.DuckDBPyConnection,
    issue_id: str,
    seq: int,
    status: str,
    at: datetime,
    actor: str,
    note: str | None,
    release_at: datetime | None,
    owner: str | None,
    external_ref: str | None,
) -> None:
    con.execute(
        "INSERT INTO raw.issue_events (event_id, issue_id, seq, status, occurred_at, actor, note,"
        " release_at, owner_department, external_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            f"{issue_id}:{seq}",
            issue_id,
            seq,
            status,
            at,
            actor,
            note,
            release_at,
            owner,
            external_ref,
        ],
    )


def issue_rows(con: duckdb.DuckDBPyConnection, issue_id: str | None = None) -> list[dict[str, Any]]:
    """Issues with their current status and latest check, from the raw tables
    (the CLI works without a dbt build; fct_issues is the mart)."""
    rows = con.execute(
        """
        WITH ev AS (
            SELECT issue_id,
                   arg_max(status, seq) FILTER (WHERE status <> 'edited') AS status,
                   arg_max(owner_department, seq) FILTER (WHERE owner_department IS NOT NULL)
                       AS owner_department,
                   arg_max(external_ref, seq) FILTER (WHERE external_ref IS NOT NULL)
                       AS external_ref,
                   max(release_at) AS release_at,
                   count(*) AS events
            FROM raw.issue_events GROUP BY 1
        ),
        chk AS (
            SELECT issue_id, arg_max(verdict, checked_through) AS verdict,
                   arg_max(rate_ratio, checked_through) AS rate_ratio,
                   arg_max(p_value, checked_through) AS p_value,
                   arg_max(contacts_avoided_per_week, checked_through) AS avoided
            FROM raw.issue_checks GROUP BY 1
        )
        SELECT i.issue_id, i.title, i.scenario_id, i.source_kind, i.source_ref,
               ev.owner_department, i.severity, ev.status, i.opened_at, i.fix_sla_hours,
               ev.release_at, ev.external_ref, chk.verdict, chk.rate_ratio, chk.p_value,
               chk.avoided, ev.events
        FROM raw.issues i JOIN ev USING (issue_id) LEFT JOIN chk USING (issue_id)
        WHERE ? IS NULL OR i.issue_id = ?
        ORDER BY i.opened_at, i.issue_id
        """,
        [issue_id, issue_id],
    ).fetchall()
    cols = (
        "issue_id",
        "title",
        "scenario_id",
        "source_kind",
        "source_ref",
        "owner_department",
        "severity",
        "status",
        "opened_at",
        "fix_sla_hours",
        "release_at",
        "external_ref",
        "last_verdict",
        "rate_ratio",
        "p_value",
        "contacts_avoided_per_week",
        "events",
    )
    return [dict(zip(cols, r, strict=True)) for r in rows]


# An episode that names no scenario (a stage-level alert such as a step
# failure, or an untagged spike) is given the root cause an analyst would read
# off its evidence: the scenario most of the stage's tagged contacts were about
# while it lasted, ties to the first id (mode() picks any of a tie: a re-run of
# `voc demo` opened other issues).
_ROOT_CAUSE_SQL = """
    SELECT e.episode_id,
           coalesce(nullif(e.scenario_id, 'untagged'), (
               SELECT c.scenario_id FROM raw.contacts c
               WHERE c.scenario_id IS NOT NULL AND c.domain = e.domain
                 AND c.journey_stage = e.journey_stage
                 AND c.event_time >= e.opened_at - INTERVAL 1 HOUR
                 AND c.event_time < coalesce(e.resolved_at, e.last_window_end)
               GROUP BY c.scenario_id ORDER BY count(*) DESC, c.scenario_id LIMIT 1
           )) AS scenario_id,
           e.opened_at
    FROM raw.alert_episodes e
"""


def episode_root_causes(
    con: duckdb.DuckDBPyConnection, episode_id: str | None = None
) -> list[tuple[str, str | None, datetime]]:
    """(episode_id, root-cause scenario or None, opened_at) of every episode,
    or of one, in the order they opened: the episode's own scenario, else the
    one its stage's contacts were mostly about while it lasted."""
    if episode_id is None:
        return con.execute(_ROOT_CAUSE_SQL + " ORDER BY e.opened_at, e.episode_id").fetchall()
    return con.execute(_ROOT_CAUSE_SQL + " WHERE e.episode_id = ?", [episode_id]).fetchall()
