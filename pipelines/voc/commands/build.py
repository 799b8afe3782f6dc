"""`voc build`: guard the raw contracts, then build the dbt marts."""

from __future__ import annotations

from pathlib import Path

import click

from voc.commands._output import emit_json, err, fail, step, warehouse_option


@click.command()
@warehouse_option()
@click.option("--skip-quality", is_flag=True, help="Skip the great-expectations raw checks.")
@click.option("--skip-docs", is_flag=True, help="Skip `dbt docs generate`.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def build(warehouse, skip_quality, skip_docs, as_json):
    """Load what the raw store holds that the warehouse does not (e.g. the files
    of job instances that finished after the loading one), check raw data
    quality (great-expectations), `dbt build` the marts, report `dbt source
    freshness` and generate the docs site (serve it with `voc docs`)."""
    from voc.warehouse.dbt_runner import generate_docs, source_freshness
    from voc.warehouse.store import RawStore, store_path

    if store_path(warehouse).exists():
        from voc.warehouse.duck import open_warehouse
        from voc.warehouse.load import load_store

        with step(f"load the raw store {store_path(warehouse)}"), open_warehouse(warehouse) as con:
            load_store(con, RawStore(store_path(warehouse)))
    marts = build_warehouse(warehouse, skip_quality=skip_quality)
    with step("dbt source freshness"):
        freshness = source_freshness(warehouse)
    docs_dir = None
    if not skip_docs:
        with step("dbt docs generate"):
            docs_dir = generate_docs(warehouse)
    if as_json:
        emit_json(
            {
                "warehouse": str(warehouse),
                "marts": marts,
                "freshness": {f.source: [f.status, f.age_hours] for f in freshness},
                "docs": None if docs_dir is None else str(docs_dir / "index.html"),
            }
        )
    else:
        for name, rows in marts.items():
            err.print(f"  {name:<28} {rows:>8} rows")
        for f in freshness:
            err.print(f"  freshness {f.source:<22} {f.status:<6} newest row {f.age_hours} h old")
        if docs_dir is not None:
            index = docs_dir / "index.html"
            err.print(f"  docs: {index}  (serve: voc docs --warehouse {warehouse})")


def build_warehouse(warehouse: Path, *, skip_quality: bool = False) -> dict[str, int]:
    from voc.warehouse.dbt_runner import build_marts, mart_row_counts
    from voc.warehouse.quality import check_raw

    if not skip_quality:
        with step("raw data quality (great-expectations)"):
            report = check_raw(warehouse)
        if not report.ok:
            fail(f"raw data quality checks failed; the marts were not built:\n{report}")
    with step("dbt build (staging -> intermediate -> marts, with tests)"):
        build_marts(warehouse)
    return mart_row_counts(warehouse)
