"""`voc untagged`: the contacts no scenario claimed, clustered by the customer's
own words, named by their distinctive terms, with examples; stored for `voc
label --cluster`, and exported to CSV for an analyst to label."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import duckdb

from voc.commands._output import emit_json, err, fail, warehouse_option


@click.command()
@warehouse_option()
@click.option("--k", type=click.IntRange(2, 500), default=None, help="Number of clusters.")
@click.option("--top", type=int, default=10, show_default=True, help="Clusters to show.")
@click.option(
    "--export",
    "export_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a CSV to label: fill its scenario_id column, then `voc label --csv`.",
)
@click.option(
    "--per",
    type=click.Choice(["cluster", "contact"]),
    default="cluster",
    show_default=True,
    help="--export: one row per cluster (labels all its contacts) or per contact.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def untagged(
    warehouse: Path, k: int | None, top: int, export_csv: Path | None, per: str, as_json: bool
) -> None:
    """Cluster untagged contacts so new issues surface, with a name and example texts.

    The clustering is kept in the warehouse (labels.untagged_clusters), so that
    `voc label --cluster N --scenario ID` labels the cluster shown here as #N.

    \b
    Example:
      voc untagged --export to_label.csv        # fill scenario_id in a spreadsheet
      voc label --csv to_label.csv              # the next `voc run` tags them
    """
    from voc.learning.store import save_clusters, write_csv
    from voc.tagging.cluster import cluster_texts

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute(
                "SELECT contact_id, text, domain FROM raw.contacts WHERE scenario_id IS NULL "
                "AND contact_id NOT IN (SELECT contact_id FROM labels.contact_labels) "
                "ORDER BY contact_id"
                if _has_labels(con)
                else "SELECT contact_id, text, domain FROM raw.contacts "
                "WHERE scenario_id IS NULL ORDER BY contact_id"
            ).fetchall()
    except duckdb.Error as exc:
        fail(f"cannot read untagged contacts from {warehouse}: {exc}")
    if len(rows) > 500 and not as_json:
        err.print(f"clustering {len(rows):,} untagged contacts ...")
    clusters = cluster_texts([r[1] for r in rows], [r[2] for r in rows], k=k)
    try:
        with duckdb.connect(str(warehouse)) as con:
            save_clusters(
                con, [(c.cluster_id, rows[i][0], c.name) for c in clusters for i in c.members]
            )
    except duckdb.Error as exc:
        fail(f"cannot store the clustering in {warehouse}: {exc}")
    if export_csv is not None:
        if per == "cluster":
            write_csv(
                export_csv,
                ("cluster_id", "size", "name", "examples", "contact_ids", "scenario_id"),
                [
                    (
                        c.cluster_id,
                        c.size,
                        c.name,
                        " || ".join(e.replace("\n", " / ") for e in c.examples),
                        ";".join(rows[i][0] for i in c.members),
                        "",
                    )
                    for c in clusters
                ],
            )
        else:
            write_csv(
                export_csv,
                ("contact_id", "cluster_id", "cluster_name", "domain", "text", "scenario_id"),
                [
                    (rows[i][0], c.cluster_id, c.name, rows[i][2], rows[i][1], "")
                    for c in clusters
                    for i in c.members
                ],
            )
        err.print(f"wrote {export_csv}: fill its scenario_id column, then `voc label --csv`")
    if as_json:
        shown = [
            {k: v for k, v in dataclasses.asdict(c).items() if k != "members"}
            for c in clusters[:top]
        ]
        emit_json({"untagged": len(rows), "clusters": shown})
        return
    err.print(f"{len(rows):,} untagged contacts")
    for c in clusters[:top]:
        err.print(
            f"[bold]#{c.cluster_id}[/] {c.size} ({c.share:.1%}) [bold]{c.name}[/] {c.domains}"
        )
        for ex in c.examples:
            err.print(f"    · {ex[:110]!s}".replace("\n", " / "))


def _has_labels(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'labels' AND table_name = 'contact_labels'"
        ).fetchall()[0][0]
    )
