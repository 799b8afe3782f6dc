"""`voc dashboard`: the web dashboard (dashboards/voc_dashboard) on a warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from voc.commands._output import err, fail, warehouse_option


@click.command()
@warehouse_option()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (127.0.0.1: this machine only).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True)
@click.option(
    "--refresh-s",
    type=click.FloatRange(1, 3600),
    default=10,
    show_default=True,
    help="How often the page data is re-read from the warehouse (or a writer's snapshot).",
)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where `voc report weekly --out` writes; the Issues page links the newest "
    "report.html up to 3 folders under it [default: the warehouse's folder].",
)
def dashboard(
    warehouse: Path, host: str, port: int, refresh_s: float, reports_dir: Path | None
) -> None:
    """Serve the dashboard (Now, Root causes, SLA, Satisfaction, Issues).

    Pages read a snapshot of the marts beside the warehouse
    (<warehouse>.dashboard/), refreshed every --refresh-s seconds; while
    `voc run --source kafka` writes the warehouse, they read the snapshots that
    run publishes. Open http://HOST:PORT/ in a browser.
    """
    from voc_dashboard.app import serve
    from voc_dashboard.snapshot import MissingMarts

    err.print(f"VOC Loop dashboard on http://{host}:{port}/ (warehouse {warehouse})")
    try:
        serve(warehouse, host, port, refresh_s, reports_dir)
    except MissingMarts as exc:
        fail(str(exc))
