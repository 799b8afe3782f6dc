"""How every command talks: progress and tables on stderr, and with --json one
JSON object as the last line of stdout (so scripts can `tail -1`)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from voc.paths import DEFAULT_CATALOG, DEFAULT_WORK_DIR

err = Console(stderr=True, highlight=False)


@contextlib.contextmanager
def step(label: str) -> Iterator[None]:
    """Show a spinner while a step runs, then its wall time."""
    started = time.perf_counter()
    with err.status(f"[bold]{label}[/] ..."):
        yield
    err.print(f"[green]✓[/] {label} [dim]({time.perf_counter() - started:.1f} s)[/]")


def emit_json(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, default=str))


def fail(message: str) -> None:
    """Stop with a clear message and exit status 1 (no traceback)."""
    raise click.ClickException(message)


def warehouse_option(*, written: bool = False):
    """--warehouse: the DuckDB file, one default for every command. `written`:
    the command creates it if missing; otherwise it must exist already."""
    return click.option(
        "--warehouse",
        type=click.Path(exists=not written, dir_okay=False, path_type=Path),
        default=DEFAULT_WORK_DIR / "voc.duckdb",
        show_default=True,
        help="DuckDB file to write (created if missing; re-runs add no duplicates)."
        if written
        else "DuckDB file the pipeline wrote.",
    )


def catalog_option(help: str, *, dest: str = "catalog"):
    """--catalog: the scenario catalog YAML (the default catalog unless given)."""
    return click.option(
        "--catalog",
        dest,
        type=click.Path(exists=True, path_type=Path),
        default=DEFAULT_CATALOG,
        show_default=True,
        help=help,
    )


def open_warehouse_or_fail(warehouse: Path):
    """The warehouse, opened for writing, or a clear error (no traceback)."""
    import duckdb

    from voc.warehouse.duck import open_warehouse

    try:
        return open_warehouse(warehouse)
    except duckdb.Error as exc:
        fail(f"cannot open the warehouse {warehouse}: {exc}")
        raise
