"""`voc catalog`: validate, summarise and import scenario catalogs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
import yaml

from voc.catalog import Catalog, CatalogError, load_catalog, parse_catalog
from voc.commands._output import emit_json, err, fail
from voc.paths import DEFAULT_CATALOG

CATALOG_ARG = click.argument(
    "path", type=click.Path(exists=True, path_type=Path), default=DEFAULT_CATALOG, required=False
)


@click.group()
def catalog() -> None:
    """Validate, inspect and import scenario catalogs.

    A catalog is one YAML file or a folder (`catalog.yaml` + `scenarios/*.yaml`),
    described by schemas/catalog.schema.json. Without PATH, the built-in catalog.
    """


@catalog.command()
@CATALOG_ARG
def validate(path: Path) -> None:
    """Check a catalog against its schema and cross-references; list every problem."""
    try:
        c = load_catalog(path)
    except CatalogError as exc:
        fail(str(exc))
    err.print(f"[green]✓[/] {path}: {len(c)} scenarios, valid")


def catalog_stats(c: Catalog) -> dict:
    return {
        "scenarios": len(c),
        "domains": len(c.domains),
        "stages": len(c.stages),
        "categories": len({(s.domain, s.stage, s.category) for s in c.scenarios}),
        "with_zh": sum(1 for s in c.scenarios if s.keywords_zh and s.name_zh),
        "with_en": sum(1 for s in c.scenarios if s.keywords_en and s.name_en),
        "guarantee": sum(1 for s in c.scenarios if s.is_guarantee),
        "entry_points": len(c.entry_points),
        "departments": len(c.departments),
        "app_event_signals": len({e for s in c.scenarios for e in s.app_event_signals}),
        "per_domain": dict(Counter(s.domain for s in c.scenarios)),
    }


@catalog.command()
@CATALOG_ARG
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def stats(path: Path, as_json: bool) -> None:
    """Counts: scenarios, domains, stages, categories, languages, signals."""
    try:
        s = catalog_stats(load_catalog(path))
    except CatalogError as exc:
        fail(str(exc))
    if as_json:
        emit_json(s)
        return
    for key, value in s.items():
        err.print(f"  {key:<18} {value}")


@catalog.command("import")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Catalog YAML to write."
)
@click.option(
    "--domain", default="imported", show_default=True, help="Domain for rows without a parent."
)
@click.option(
    "--owner",
    default="customer_service",
    show_default=True,
    help="Owner department of every imported scenario.",
)
def import_(csv_path: Path, out: Path, domain: str, owner: str) -> None:
    """Turn a CSV (scenario_id,name[,description][,keywords][,parent]) into a catalog.

    Every bad row is reported with its line number and nothing is written
    until the whole file is clean.
    """
    from voc.catalog.importer import import_csv

    result = import_csv(csv_path, domain=domain, owner=owner)
    if not result.ok:
        fail(f"{len(result.errors)} bad row(s); nothing written:\n  " + "\n  ".join(result.errors))
    try:
        c = parse_catalog(result.doc, str(csv_path))
    except CatalogError as exc:
        fail(f"the imported catalog is not valid:\n{exc}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        yaml.safe_dump(result.doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    err.print(f"[green]✓[/] wrote {out}: {len(c)} scenarios in {len(c.domains)} domain(s)")
