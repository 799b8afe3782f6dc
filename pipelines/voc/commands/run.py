"""`voc run`: the pipeline on stream files into the warehouse."""

from __future__ import annotations

import time
from pathlib import Path

import click

from voc.commands._output import emit_json, err, fail, step
from voc.paths import DEFAULT_CATALOG, DEFAULT_WORK_DIR


@click.command()
@click.option(
    "--source",
    type=click.Choice(["files"]),
    default="files",
    show_default=True,
    help="Where records come from: stream files (<stream>.jsonl in --input).",
)
@click.option(
    "--input",
    "input_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of calls.jsonl, ticket_events.jsonl, app_events.jsonl, social_posts.jsonl.",
)
@click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_WORK_DIR / "voc.duckdb",
    show_default=True,
    help="DuckDB file to write (created if missing; re-runs add no duplicates).",
)
@click.option(
    "--catalog",
    type=click.Path(exists=True, path_type=Path),
    default=DEFAULT_CATALOG,
    show_default=True,
    help="Scenario catalog YAML used by the tagger and the detector.",
)
@click.option(
    "--tag-model", type=click.Path(exists=True, path_type=Path), help="Trained text model."
)
@click.option("--window-s", type=int, default=3600, show_default=True, help="Detection window.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def run(source, input_dir, warehouse, catalog, tag_model, window_s, as_json):
    """Run the pipeline: validate, stitch, tag, detect, and write the warehouse.

    \b
    Example:
      voc simulate --days 3 --out data/
      voc run --input data/ --warehouse wh.duckdb --json
    """
    if source == "files" and input_dir is None:
        fail("--input DIR is required with --source files (write one with `voc simulate`)")
    started = time.perf_counter()
    summary = run_pipeline(input_dir, warehouse, catalog, tag_model, window_s)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if as_json:
        emit_json(summary)
    else:
        err.print_json(data=summary)


def run_pipeline(input_dir, warehouse, catalog, tag_model, window_s) -> dict:
    from voc.loop import warehouse_summary
    from voc.pipeline.job import embedded_options, run as run_job

    opts = embedded_options(
        input_dir=str(input_dir),
        warehouse=str(warehouse),
        catalog=str(catalog),
        tag_model=str(tag_model) if tag_model else None,
        window_s=window_s,
    )
    with step(f"pipeline {input_dir} -> {warehouse}"):
        result = run_job(opts)
    summary = warehouse_summary(Path(warehouse))
    summary["pipeline_counters"] = result.counters
    return summary
