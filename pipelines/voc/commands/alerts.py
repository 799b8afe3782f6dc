"""`voc alerts`: breakpoint alerts as episodes with owners, and their delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
import duckdb

from voc.commands._output import (
    catalog_option,
    emit_json,
    err,
    fail,
    open_warehouse_or_fail,
    warehouse_option,
)
from voc.paths import DEFAULT_CATALOG

_catalog_option = catalog_option(
    "Scenario catalog (owner departments and severities).", dest="catalog_path"
)


def sync(warehouse: Path, catalog_path: Path = DEFAULT_CATALOG, link_base: str | None = None):
    from voc.alerting.episodes import DEFAULT_LINK_BASE, sync_episodes
    from voc.catalog import load_catalog

    catalog = load_catalog(catalog_path)
    with open_warehouse_or_fail(warehouse) as con:
        return sync_episodes(con, catalog, link_base=link_base or DEFAULT_LINK_BASE)


@click.group()
def alerts() -> None:
    """Alert episodes (one per kind and key, opened once, updated, resolved),
    their owners, and delivery to chat bots, webhooks and email."""


@alerts.command("sync")
@warehouse_option()
@_catalog_option
@click.option("--link-base", default=None, help="Base URL of the dashboard for drill-in links.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def sync_cmd(warehouse: Path, catalog_path: Path, link_base: str | None, as_json: bool) -> None:
    """Re-derive episodes from raw.alerts and the contacts; record new transitions."""
    out = sync(warehouse, catalog_path, link_base)
    err.print(f"{out['episodes']} episodes, {out['new_transitions']} new transitions")
    if as_json:
        emit_json(out)


@alerts.command("send")
@warehouse_option()
@click.option(
    "--routing",
    "routing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Routing YAML: channels, and department x severity -> channels routes"
    " (format: README 'Alert delivery').",
)
@_catalog_option
@click.option("--limit", type=click.IntRange(1), default=None, help="Send at most N deliveries.")
@click.option("--link-base", default=None, help="Base URL of the dashboard for drill-in links.")
@click.option("--json", "as_json", is_flag=True, help='Print {"sent", "failed", "pending"} last.')
def send(
    warehouse: Path,
    routing_path: Path,
    catalog_path: Path,
    limit: int | None,
    link_base: str | None,
    as_json: bool,
) -> None:
    """Sync episodes, queue every new transition for its routed channels, deliver.

    Deliveries are retried with backoff and dead-lettered after max_attempts;
    each carries an Idempotency-Key per (episode, transition). Running it
    again sends only what is new."""
    from voc.alerting.outbox import deliver, enqueue
    from voc.alerting.routing import RoutingError, load_routing
    from voc.catalog import load_catalog

    catalog = load_catalog(catalog_path)
    try:
        routing = load_routing(routing_path, set(catalog.departments))
    except RoutingError as exc:
        fail(str(exc))
    out = sync(warehouse, catalog_path, link_base)
    with open_warehouse_or_fail(warehouse) as con:
        queued = enqueue(con, routing)
    err.print(
        f"{out['episodes']} episodes, {out['new_transitions']} new transitions, {queued} queued"
    )
    result = deliver(warehouse, routing, limit=limit, progress=lambda m: err.print(f"  {m}"))
    err.print(f"sent {result.sent}, dead-lettered {result.failed}, pending {result.pending}")
    if as_json:
        emit_json(result.as_dict())


def _episodes(con: duckdb.DuckDBPyConnection, where: str = "", params: list | None = None):
    return con.execute(
        f"""
        SELECT e.episode_id, e.kind, e.key, e.owner_department, e.severity, e.status,
               e.opened_at, e.resolved_at, e.peak_count, e.contacts_so_far,
               round(e.expected_so_far, 1),
               count(o.delivery_id) FILTER (WHERE o.status = 'sent') AS sent,
               count(o.delivery_id) FILTER (WHERE o.status = 'pending') AS pending,
               count(o.delivery_id) FILTER (WHERE o.status = 'dead') AS dead,
               e.link
        FROM raw.alert_episodes e LEFT JOIN raw.alert_outbox o USING (episode_id)
        {where}
        GROUP BY ALL ORDER BY e.opened_at, e.episode_id
        """,
        params or [],
    ).fetchall()


_COLS = (
    "episode_id",
    "kind",
    "key",
    "owner_department",
    "severity",
    "status",
    "opened_at",
    "resolved_at",
    "peak_count",
    "contacts_so_far",
    "expected_so_far",
    "deliveries_sent",
    "deliveries_pending",
    "deliveries_dead",
    "link",
)


@alerts.command("list")
@warehouse_option()
@click.option(
    "--status",
    type=click.Choice(["open", "acknowledged", "resolved"]),
    default=None,
    help="Only episodes in this status.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def list_cmd(warehouse: Path, status: str | None, as_json: bool) -> None:
    """Episodes with owner, severity, peak, and delivery state (sent / pending / dead)."""
    from rich.table import Table

    with open_warehouse_or_fail(warehouse) as con:
        rows = _episodes(con, "WHERE e.status = ?" if status else "", [status] if status else [])
        dead = con.execute(
            "SELECT delivery_id, channel, attempts, last_error FROM raw.alert_outbox"
            " WHERE status = 'dead' ORDER BY delivery_id"
        ).fetchall()
    t = Table(title=f"{len(rows)} alert episodes", title_justify="left")
    for c in (
        "episode",
        "kind",
        "key",
        "owner",
        "sev",
        "status",
        "opened",
        "peak",
        "contacts",
        "delivered",
    ):
        t.add_column(c)
    for r in rows:
        t.add_row(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            f"{r[6]:%m-%d %H:%M}",
            str(r[8]),
            str(r[9]),
            f"{r[11]} sent"
            + (f", {r[12]} pending" if r[12] else "")
            + (f", [red]{r[13]} dead[/]" if r[13] else ""),
        )
    err.print(t)
    for d in dead:
        err.print(f"[red]dead letter[/] {d[0]} via {d[1]} after {d[2]} attempts: {d[3]}")
    if as_json:
        emit_json(
            {
                "episodes": [dict(zip(_COLS, r, strict=True)) for r in rows],
                "dead_letters": [
                    dict(zip(("delivery_id", "channel", "attempts", "last_error"), d, strict=True))
                    for d in dead
                ],
            }
        )


@alerts.command("show")
@click.argument("episode_id")
@warehouse_option()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def show(episode_id: str, warehouse: Path, as_json: bool) -> None:
    """One episode: evidence, transitions and deliveries."""
    with open_warehouse_or_fail(warehouse) as con:
        rows = _episodes(con, "WHERE e.episode_id = ?", [episode_id])
        if not rows:
            fail(f"no alert episode {episode_id!r} in {warehouse} (see `voc alerts list`)")
        evidence = con.execute(
            "SELECT evidence FROM raw.alert_episodes WHERE episode_id = ?", [episode_id]
        ).fetchall()[0][0]
        transitions = con.execute(
            "SELECT transition_id, transition, occurred_at, actor FROM raw.alert_transitions"
            " WHERE episode_id = ? ORDER BY occurred_at, transition_id",
            [episode_id],
        ).fetchall()
        deliveries = con.execute(
            "SELECT delivery_id, channel, status, attempts, last_error FROM raw.alert_outbox"
            " WHERE episode_id = ? ORDER BY delivery_id",
            [episode_id],
        ).fetchall()
    doc = {
        **dict(zip(_COLS, rows[0], strict=True)),
        "evidence": json.loads(evidence),
        "transitions": [
            {"transition_id": a, "transition": b, "at": c, "actor": d} for a, b, c, d in transitions
        ],
        "deliveries": [
            dict(
                zip(("delivery_id", "channel", "status", "attempts", "last_error"), d, strict=True)
            )
            for d in deliveries
        ],
    }
    err.print_json(json.dumps(doc, ensure_ascii=False, default=str))
    if as_json:
        emit_json(doc)


def _manual(
    episode_id: str, warehouse: Path, by: str, note: str | None, transition: str, as_json: bool
) -> None:
    from voc.alerting.episodes import record_manual

    with open_warehouse_or_fail(warehouse) as con:
        try:
            added = record_manual(
                con, episode_id, transition, by, note, datetime.now(UTC).replace(tzinfo=None)
            )
        except KeyError:
            fail(f"no alert episode {episode_id!r} in {warehouse} (see `voc alerts list`)")
    err.print(f"{episode_id}: {transition}" + ("" if added else " (already recorded)"))
    if as_json:
        emit_json({"episode_id": episode_id, "transition": transition, "recorded": added})


@alerts.command("ack")
@click.argument("episode_id")
@warehouse_option()
@click.option("--by", required=True, help="Who acknowledges (recorded in the transition).")
@click.option("--note", default=None)
@click.option("--json", "as_json", is_flag=True)
def ack(episode_id: str, warehouse: Path, by: str, note: str | None, as_json: bool) -> None:
    """Acknowledge an episode: its owner is on it (sent to the routed channels)."""
    _manual(episode_id, warehouse, by, note, "acknowledged", as_json)


@alerts.command("resolve")
@click.argument("episode_id")
@warehouse_option()
@click.option("--by", required=True, help="Who resolves (recorded in the transition).")
@click.option("--note", default=None)
@click.option("--json", "as_json", is_flag=True)
def resolve(episode_id: str, warehouse: Path, by: str, note: str | None, as_json: bool) -> None:
    """Resolve an episode by hand (the detector's own resolution is then not sent)."""
    _manual(episode_id, warehouse, by, note, "resolved", as_json)
