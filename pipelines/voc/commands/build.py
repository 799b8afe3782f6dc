"""`voc build`: guard the raw contracts, then build the dbt marts."""

from __future__ import annotations

from pathlib import Path

import click

from voc.commands._output import emit_json, err, fail, step, warehouse_option


@click.command()
@warehouse_option()
@click.option("--skip-quality", is_flag=True, help="Skip the great-expectations raw checks.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def build(warehouse, skip_quality, as_json):
    """Load what the raw store holds that the warehouse does not (e.g. the files
    of job instances that finished after the loading one), check raw data
    quality (great-expectations), then `dbt build` the marts."""
    from voc.warehouse.store import RawStore, store_path

    if store_path(warehouse).exists():
        from voc.warehouse.duck import open_warehouse
        from voc.warehouse.load import load_store

        with step(f"load the raw store {store_path(warehouse)}"), open_warehouse(warehouse) as con:
            load_store(con, RawStore(store_path(warehouse)))
    marts = build_warehouse(warehouse, skip_quality=skip_quality)
    if as_json:
        emit_json({"warehouse": str(warehouse), "marts": marts})
    else:
        for name, rows in marts.items():
            err.print(f"  {name:<28} {rows:>8} rows")


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
