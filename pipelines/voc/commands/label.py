"""`voc label`: an analyst's labels for untagged contacts, which the next run tags with."""

from __future__ import annotations

from pathlib import Path

import click
import duckdb

from voc.commands._output import catalog_option, emit_json, err, fail, warehouse_option


@click.command()
@warehouse_option()
@click.option("--scenario", "scenario_id", default=None, help="Scenario id to give.")
@click.option("--contact", "contact_ids", multiple=True, help="A contact id (repeatable).")
@click.option(
    "--cluster",
    "cluster_id",
    type=int,
    default=None,
    help="A cluster number as the last `voc untagged` showed it: labels all its contacts.",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A CSV from `voc untagged --export` with its scenario_id column filled.",
)
@catalog_option("Catalog the scenario ids must belong to.")
@click.option("--list", "list_labels", is_flag=True, help="Show the labels stored so far.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def label(
    warehouse: Path,
    scenario_id: str | None,
    contact_ids: tuple[str, ...],
    cluster_id: int | None,
    csv_path: Path | None,
    catalog: Path,
    list_labels: bool,
    as_json: bool,
) -> None:
    """Label untagged contacts with a scenario: single contacts, a whole cluster,
    or a CSV round trip.

    Labels are stored in the warehouse (labels.contact_labels) and written to
    the overlay beside it (<warehouse>.labels.yaml), which the next `voc run`
    on this warehouse reads: contacts like the labelled ones are then tagged
    (method "model", evidence "labelled examples ...").

    \b
    Examples:
      voc label --contact call-42-000123 --scenario express.delivery.fake_delivered
      voc label --cluster 3 --scenario ecommerce.after_sale.refund_slow
      voc untagged --export todo.csv  &&  voc label --csv todo.csv
    """
    from voc.catalog import CatalogError, load_catalog
    from voc.learning.store import (
        LabelError,
        LabelRequest,
        add_labels,
        cluster_members,
        labelled_examples,
        read_label_csv,
        sync_overlay,
    )

    try:
        known = load_catalog(catalog)
    except CatalogError as exc:
        fail(str(exc))
    try:
        with duckdb.connect(str(warehouse)) as con:
            if list_labels:
                examples = labelled_examples(con)
                if as_json:
                    emit_json(
                        {
                            "labels": [
                                e.__dict__ if hasattr(e, "__dict__") else _row(e) for e in examples
                            ]
                        }
                    )
                    return
                for e in examples:
                    err.print(f"{e.contact_id}  {e.scenario_id}  [{e.source}]  {e.text[:60]!s}")
                err.print(f"{len(examples):,} labelled contacts")
                return
            requests: list[LabelRequest] = []
            skipped = 0
            if csv_path is not None:
                requests, skipped = read_label_csv(con, csv_path)
            if contact_ids or cluster_id is not None:
                if not scenario_id:
                    fail("--scenario ID is required with --contact or --cluster")
                ids = list(contact_ids)
                if cluster_id is not None:
                    members = cluster_members(con, cluster_id)
                    if not members:
                        fail(
                            f"no cluster #{cluster_id} stored: run `voc untagged` first "
                            "and use a number it shows"
                        )
                    ids += members
                source = f"cluster {cluster_id}" if cluster_id is not None else "contact"
                requests += [LabelRequest(i, scenario_id, source) for i in ids]
            if not requests:
                fail("nothing to label: give --contact/--cluster with --scenario, or --csv FILE")
            n = add_labels(con, requests, known)
            overlay, total = sync_overlay(con, warehouse)
    except LabelError as exc:
        fail(str(exc))
    except duckdb.Error as exc:
        fail(f"cannot store labels in {warehouse}: {exc}")
    summary = {
        "labelled": n,
        "skipped_blank": skipped,
        "total_labels": total,
        "overlay": str(overlay),
    }
    err.print(
        f"labelled {n:,} contact(s) ({skipped} blank rows skipped); {total:,} labels in "
        f"{overlay}; the next `voc run --warehouse {warehouse}` tags with them"
    )
    if as_json:
        emit_json(summary)


def _row(e) -> dict:
    return {f: getattr(e, f) for f in e.__slots__}
