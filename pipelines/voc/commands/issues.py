"""`voc issues`: root-cause issues tracked from detection to a verified fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from voc.commands._output import (
    catalog_option,
    emit_json,
    err,
    fail,
    open_warehouse_or_fail,
    warehouse_option,
)

_catalog_option = catalog_option("Scenario catalog (owners, fix SLAs).", dest="catalog_path")


def _time(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    return (t.astimezone(UTC) if t.tzinfo else t).replace(tzinfo=None)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@click.group()
def issues() -> None:
    """Root-cause issues: opened from an alert episode or an untagged cluster,
    owned by a department with a fix SLA, tracked open -> acknowledged ->
    fix_released -> verified | reopened | wont_fix (append-only history),
    and verified by a significant drop in contacts."""


@issues.command("open")
@warehouse_option()
@_catalog_option
@click.option("--from-episode", "episode_id", default=None, help="Alert episode id.")
@click.option(
    "--from-untagged",
    "cluster",
    type=int,
    default=None,
    help="Cluster number from `voc untagged` (re-clustered now; its examples go in the note).",
)
@click.option("--scenario", default=None, help="Root-cause scenario id (required for untagged).")
@click.option("--title", default=None)
@click.option("--owner", default=None, help="Owner department (default: the scenario's).")
@click.option("--external-ref", default=None, help="Requirement / ticket id elsewhere.")
@click.option("--by", "actor", default="cli", show_default=True, help="Who opens it.")
@click.option("--at", "at", callback=_time, default=None, help="When (default: now).")
@click.option("--json", "as_json", is_flag=True)
def open_cmd(
    warehouse,
    catalog_path,
    episode_id,
    cluster,
    scenario,
    title,
    owner,
    external_ref,
    actor,
    at,
    as_json,
) -> None:
    """Open an issue for a root cause (idempotent per source and scenario)."""
    from voc.catalog import load_catalog
    from voc.issues.store import IssueError, open_issue

    if (episode_id is None) == (cluster is None):
        fail("give exactly one of --from-episode ID or --from-untagged N")
    catalog = load_catalog(catalog_path)
    note = None
    severity = None
    with open_warehouse_or_fail(warehouse) as con:
        if episode_id is not None:
            row = con.execute(
                "SELECT scenario_id, severity, kind, journey_stage FROM raw.alert_episodes"
                " WHERE episode_id = ?",
                [episode_id],
            ).fetchall()
            if not row:
                fail(f"no alert episode {episode_id!r} (see `voc alerts list`)")
            scenario = scenario or row[0][0]
            if scenario is None or scenario == "untagged":
                from voc.issues.store import episode_root_causes

                suggested = episode_root_causes(con, episode_id)[0][1]
                hint = (
                    f"; its stage's contacts were mostly about {suggested} (--scenario {suggested})"
                    if suggested
                    else " (see `voc catalog`)"
                )
                fail(
                    f"alert episode {episode_id!r} ({row[0][2]} at stage {row[0][3]!r}) names"
                    f" no single scenario: give its root cause with --scenario ID{hint}"
                )
            severity = row[0][1]
            source_kind, source_ref = "alert_episode", episode_id
        else:
            from voc.tagging.cluster import cluster_texts

            if scenario is None:
                fail("an issue from untagged contacts needs its root cause: --scenario ID")
            texts = con.execute(
                "SELECT text, domain FROM raw.contacts WHERE scenario_id IS NULL"
                " ORDER BY contact_id"
            ).fetchall()
            clusters = {
                c.cluster_id: c for c in cluster_texts([t[0] for t in texts], [t[1] for t in texts])
            }
            if cluster not in clusters:
                fail(f"no untagged cluster #{cluster} (see `voc untagged`)")
            c = clusters[cluster]
            from voc.alerting.mask import mask_text

            note = f"{c.size} untagged contacts; e.g. " + " | ".join(
                mask_text(e)[:80] for e in c.examples
            )
            source_kind, source_ref = "untagged_cluster", f"cluster-{cluster}-n{c.size}"
        try:
            issue_id, created = open_issue(
                con,
                catalog,
                scenario_id=scenario,
                source_kind=source_kind,
                source_ref=source_ref,
                opened_at=at or _now(),
                actor=actor,
                title=title,
                owner=owner,
                external_ref=external_ref,
                severity=severity,
            )
        except IssueError as e:
            fail(str(e))
        if note and created:
            from voc.issues.store import update_issue

            update_issue(con, issue_id, None, at or _now(), actor, note=note)
    err.print(f"{issue_id} {'opened' if created else 'already open'} ({scenario})")
    if as_json:
        emit_json({"issue_id": issue_id, "created": created, "scenario_id": scenario})


@issues.command("update")
@click.argument("issue_id")
@warehouse_option()
@_catalog_option
@click.option(
    "--status",
    type=click.Choice(["acknowledged", "fix_released", "verified", "reopened", "wont_fix"]),
    default=None,
)
@click.option(
    "--release-at",
    callback=_time,
    default=None,
    help="With fix_released: when the fix went live (ISO 8601, UTC).",
)
@click.option("--owner", default=None)
@click.option("--external-ref", default=None)
@click.option("--note", default=None)
@click.option("--by", "actor", default="cli", show_default=True)
@click.option("--at", "at", callback=_time, default=None, help="When (default: now).")
@click.option("--json", "as_json", is_flag=True)
def update_cmd(
    issue_id,
    warehouse,
    catalog_path,
    status,
    release_at,
    owner,
    external_ref,
    note,
    actor,
    at,
    as_json,
) -> None:
    """Append a status event (or an owner / reference / note edit)."""
    from voc.catalog import load_catalog
    from voc.issues.store import IssueError, update_issue

    catalog = load_catalog(catalog_path)
    with open_warehouse_or_fail(warehouse) as con:
        try:
            st = update_issue(
                con,
                issue_id,
                status,
                at or _now(),
                actor,
                note=note,
                release_at=release_at,
                owner=owner,
                external_ref=external_ref,
                catalog=catalog,
            )
        except IssueError as e:
            fail(str(e))
    err.print(f"{issue_id}: {st.status} (owner {st.owner_department})")
    if as_json:
        emit_json({"issue_id": issue_id, "status": st.status, "owner": st.owner_department})


@issues.command("verify")
@warehouse_option()
@click.option(
    "--as-of",
    callback=_time,
    default=None,
    help="Check through this time (default: the end of the data).",
)
@click.option(
    "--min-obs-h",
    type=click.FloatRange(1),
    default=24,
    show_default=True,
    help="Minimum observation period before and after a release.",
)
@click.option("--json", "as_json", is_flag=True)
def verify_cmd(warehouse, as_of, min_obs_h, as_json) -> None:
    """Test every released fix: before vs after contact rate (Poisson rate ratio)."""
    from voc.issues.verify import verify_all

    with open_warehouse_or_fail(warehouse) as con:
        results = verify_all(con, as_of, min_obs_h=min_obs_h)
    for r in results:
        err.print(
            f"{r['issue_id']}: {r['verdict']} -> {r['status']}"
            + (
                f" (ratio {r['rate_ratio']:.2f}, p={r['p_value']:.2g},"
                f" avoided {r['contacts_avoided_per_week']}/week)"
                if r.get("rate_ratio") is not None and r.get("p_value") is not None
                else ""
            )
        )
    if as_json:
        emit_json({"checked": len(results), "results": results})


@issues.command("list")
@warehouse_option()
@click.option("--status", default=None, help="Only issues in this status.")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(warehouse, status, as_json) -> None:
    """Issues with owner, status, fix SLA and the last verification."""
    from rich.table import Table

    from voc.issues.store import issue_rows

    with open_warehouse_or_fail(warehouse) as con:
        rows = [r for r in issue_rows(con) if status is None or r["status"] == status]
    t = Table(title=f"{len(rows)} issues", title_justify="left")
    for c in (
        "issue",
        "scenario",
        "owner",
        "status",
        "opened",
        "fix SLA h",
        "verdict",
        "avoided/wk",
    ):
        t.add_column(c)
    for r in rows:
        t.add_row(
            r["issue_id"],
            r["scenario_id"],
            r["owner_department"],
            r["status"],
            f"{r['opened_at']:%m-%d %H:%M}",
            f"{r['fix_sla_hours']:g}",
            r["last_verdict"] or "",
            f"{r['contacts_avoided_per_week'] or 0:.1f}",
        )
    err.print(t)
    if as_json:
        emit_json({"issues": rows})


@issues.command("show")
@click.argument("issue_id")
@warehouse_option()
@click.option("--json", "as_json", is_flag=True)
def show_cmd(issue_id, warehouse, as_json) -> None:
    """One issue: attributes, status history, verification checks."""
    from voc.issues.store import issue_rows

    with open_warehouse_or_fail(warehouse) as con:
        rows = issue_rows(con, issue_id)
        if not rows:
            fail(f"no issue {issue_id!r} (see `voc issues list`)")
        history = con.execute(
            "SELECT seq, status, occurred_at, actor, note, release_at, owner_department,"
            " external_ref FROM raw.issue_events WHERE issue_id = ? ORDER BY seq",
            [issue_id],
        ).fetchall()
        checks = con.execute(
            "SELECT * FROM raw.issue_checks WHERE issue_id = ? ORDER BY checked_through",
            [issue_id],
        )
        check_cols = [d[0] for d in checks.description]
        check_rows = checks.fetchall()
    doc = {
        **rows[0],
        "history": [
            dict(
                zip(
                    ("seq", "status", "at", "actor", "note", "release_at", "owner", "external_ref"),
                    h,
                    strict=True,
                )
            )
            for h in history
        ],
        "checks": [dict(zip(check_cols, c, strict=True)) for c in check_rows],
    }
    err.print_json(json.dumps(doc, ensure_ascii=False, default=str))
    if as_json:
        emit_json(doc)
