"""`voc untagged`: the contacts no scenario claimed, clustered with examples."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import duckdb

from voc.commands._output import emit_json, err, fail, warehouse_option


@click.command()
@warehouse_option()
@click.option("--k", type=click.IntRange(2, 200), default=None, help="Number of clusters.")
@click.option("--top", type=int, default=10, show_default=True, help="Clusters to show.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def untagged(warehouse: Path, k: int | None, top: int, as_json: bool) -> None:
    """Cluster untagged contacts so new issues surface, with example texts."""
    from voc.tagging.cluster import cluster_texts

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute(
                "SELECT text, domain FROM raw.contacts WHERE scenario_id IS NULL "
                "ORDER BY contact_id"
            ).fetchall()
    except duckdb.Error as exc:
        fail(f"cannot read untagged contacts from {warehouse}: {exc}")
    clusters = cluster_texts([r[0] for r in rows], [r[1] for r in rows], k=k)[:top]
    if as_json:
        emit_json({"untagged": len(rows), "clusters": [dataclasses.asdict(c) for c in clusters]})
        return
    err.print(f"{len(rows):,} untagged contacts")
    for c in clusters:
        err.print(f"[bold]#{c.cluster_id}[/] {c.size} ({c.share:.1%}) {c.domains}")
        for ex in c.examples:
            err.print(f"    · {ex[:110]}")
