"""`voc produce`: publish stream files (or the help-desk log replay) to Kafka."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from voc.commands._output import emit_json, err, fail
from voc.contracts.streams import Stream
from voc.kafka.clients import BrokerUnavailable


@click.command(name="produce")
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="A folder from `voc simulate --out` (<stream>.jsonl files), one JSONL file, "
    "or the help-desk CSV with --format helpdesk-csv, or the bank call-centre log "
    "with --format callcenter-tsv.",
)
@click.option(
    "--bootstrap",
    envvar="VOC_KAFKA_BOOTSTRAP",
    default=None,
    help="Kafka bootstrap HOST:PORT. Default: $VOC_KAFKA_BOOTSTRAP, else the broker "
    "started by `voc kafka start`.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Events per second (token bucket). Default: as fast as possible.",
)
@click.option(
    "--stream",
    type=click.Choice([s.value for s in Stream]),
    default=None,
    help="Stream of a single file whose name does not say it.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "helpdesk-csv", "callcenter-tsv"]),
    default="jsonl",
    show_default=True,
    help="helpdesk-csv: convert the real help-desk log to ticket events; callcenter-tsv: "
    "the real bank call-centre log to calls (validated; mapping in voc.kafka.callcenter).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (last line).")
def produce(
    input_path: Path,
    bootstrap: str | None,
    rate: float | None,
    stream: str | None,
    fmt: str,
    as_json: bool,
) -> None:
    """Publish stream files to the voc.<stream> topics.

    Each JSONL line is sent as-is (malformed ones too: the pipeline dead-letters
    them), keyed by customer_id and stamped with its event_time.
    """
    from voc.kafka import broker
    from voc.kafka.produce import open_source, with_source_counts
    from voc.kafka.produce import produce as send

    bootstrap = bootstrap or broker.bootstrap(broker.default_home())
    try:
        source = open_source(input_path, stream=stream, fmt=fmt)
    except ValueError as exc:
        fail(str(exc))
    for dl in source.rejected[:5]:
        err.print(f"[yellow]not sent[/] (invalid after conversion): {dl.reason}")
    if len(source.rejected) > 5:
        err.print(f"[yellow]... and {len(source.rejected) - 5} more invalid records not sent[/]")
    progress = Progress(
        TextColumn("[bold]producing[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("produce", total=source.total)
            report = send(
                bootstrap,
                source.records,
                rate_per_s=rate,
                on_progress=lambda n: progress.advance(task, n),
            )
    except (BrokerUnavailable, ValueError) as exc:
        fail(str(exc))
    report = with_source_counts(report, source)
    per_topic = ", ".join(f"{t} {n}" for t, n in sorted(report.per_topic.items()))
    err.print(
        f"[green]✓[/] produced {report.produced} events in {report.seconds:.1f} s "
        f"({report.events_per_s:,.0f}/s) to {bootstrap}: {per_topic or 'nothing'}"
    )
    if report.blank_lines_skipped:
        err.print(f"skipped {report.blank_lines_skipped} blank lines")
    if report.rejected:
        err.print(f"[yellow]{report.rejected} converted records failed validation: not sent[/]")
    if as_json:
        emit_json(report.to_dict())
    if report.failed:
        fail(
            f"{report.failed} events were not acknowledged by Kafka: {'; '.join(report.errors[:3])}"
        )
