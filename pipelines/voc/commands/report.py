"""`voc report weekly`: the weekly issue-closure report, HTML and PDF."""

from __future__ import annotations

from pathlib import Path

import click

from voc.commands._output import emit_json, err, fail, step, warehouse_option


@click.group()
def report() -> None:
    """Reports for the product team."""


@report.command()
@warehouse_option()
@click.option(
    "--week",
    default=None,
    help="ISO week in China time, e.g. 2026-W47 (default: the data's last full week).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for report.html, report.pdf and charts/.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"html", "pdf", "contacts", "fcr_rate", "call_csat", "ticket_csat",'
    ' "sla_attainment_pct", "issues_opened", "issues_closed", "issues_verified",'
    ' "contacts_avoided"} last.',
)
def weekly(warehouse: Path, week: str | None, out_dir: Path, as_json: bool) -> None:
    """The week at a glance; issues opened / closed / verified / overdue by owner
    department; contacts avoided by verified fixes; top scenarios by volume and
    by dissatisfaction; the week's breakpoints with a timeline each; SLA
    attainment by department. Reads the marts: run `voc build` first."""
    from voc.report.weekly import ReportError, write_weekly_report

    try:
        with step(f"weekly report {week or '(last full week)'} -> {out_dir}"):
            result = write_weekly_report(warehouse, week, out_dir)
    except ReportError as e:
        fail(str(e))
    err.print(f"{result['week']}: {result['html']}  {result['pdf']}")
    if as_json:
        emit_json(
            {
                k: result[k]
                for k in (
                    "html",
                    "pdf",
                    "contacts",
                    "fcr_rate",
                    "call_csat",
                    "ticket_csat",
                    "sla_attainment_pct",
                    "issues_opened",
                    "issues_closed",
                    "issues_verified",
                    "contacts_avoided",
                )
            }
        )
