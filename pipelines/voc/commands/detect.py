"""`voc detect`: run the breakpoint detectors outside the streaming job."""

from __future__ import annotations

from pathlib import Path

import click

from voc.commands._output import emit_json, err, fail, step

COUNT_KINDS = ("contact_spike", "step_failure", "social_surge")


@click.group()
def detect() -> None:
    """Breakpoint detectors on your own data."""


@detect.command()
@click.option(
    "--input",
    "input_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV with columns timestamp,value: one count per fixed step "
    "(timestamps YYYY-MM-DD HH:MM:SS; the step is inferred).",
)
@click.option(
    "--out",
    "out_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Alerts CSV to write: timestamp,value,expected,score, one row per alert.",
)
@click.option(
    "--kind",
    type=click.Choice(COUNT_KINDS),
    default="contact_spike",
    show_default=True,
    help="Which count detector's rule to apply (all three judge a bare count the same way).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def backtest(input_csv, out_csv, kind, as_json):
    """Run a count detector causally over INPUT (the alert at step t uses only
    rows up to t) and write what it would have raised.

    The expected level of a bare series follows the hour of day and the kind
    of day from the business calendar (workday, day off, promotion day); the
    first 7 days only teach it.

    \b
      voc detect backtest --input hourly_calls.csv --out alerts.csv
    """
    from voc.detect.backtest import BacktestError, read_series, write_alerts
    from voc.detect.backtest import backtest as run

    try:
        points, step_size = read_series(input_csv)
    except BacktestError as exc:
        fail(str(exc))
    with step(f"backtest {len(points):,} steps of {step_size} ({kind})"):
        alerts = run(points, step_size)
    write_alerts(out_csv, alerts)
    err.print(f"{len(alerts)} alert(s) -> {out_csv}")
    if as_json:
        emit_json(
            {
                "input": str(input_csv),
                "out": str(out_csv),
                "kind": kind,
                "steps": len(points),
                "step_s": int(step_size.total_seconds()),
                "first": points[0].at.isoformat(sep=" "),
                "last": points[-1].at.isoformat(sep=" "),
                "alerts": len(alerts),
            }
        )
