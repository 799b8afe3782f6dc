"""`voc run`: the pipeline on stream files into the warehouse."""

from __future__ import annotations

import time
from pathlib import Path

import click

from voc.commands._edge import edge_options, edge_values
from voc.commands._output import catalog_option, emit_json, err, fail, step, warehouse_option


@click.command()
@click.option(
    "--source",
    type=click.Choice(["files", "kafka"]),
    default="files",
    show_default=True,
    help="files: <stream>.jsonl in --input, batch. kafka: the voc.* topics, streaming.",
)
@click.option(
    "--input",
    "input_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of calls.jsonl, ticket_events.jsonl, app_events.jsonl, social_posts.jsonl.",
)
@warehouse_option(written=True)
@catalog_option("Scenario catalog YAML used by the tagger and the detector.")
@click.option(
    "--tag-model", type=click.Path(exists=True, path_type=Path), help="Trained text model."
)
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Analyst-labelled examples for the tagger [default: the overlay `voc label` "
    "keeps beside the warehouse, <warehouse>.labels.yaml, when it exists].",
)
@click.option("--window-s", type=int, default=3600, show_default=True, help="Detection window.")
@click.option(
    "--bootstrap",
    envvar="VOC_KAFKA_BOOTSTRAP",
    default=None,
    help="Kafka bootstrap host:port [env VOC_KAFKA_BOOTSTRAP; default: the broker "
    "`voc kafka start` runs].",
)
@click.option("--group", default="voc-pipeline", show_default=True, help="Kafka consumer group.")
@click.option("--bounded", is_flag=True, help="Kafka: read to the end offsets seen at start, stop.")
@click.option(
    "--until-idle",
    type=click.FloatRange(min=0.5),
    default=None,
    help="Kafka: stop after this many seconds without input (default: run until SIGINT).",
)
@click.option("--no-publish", is_flag=True, help="Kafka: don't publish alerts/dead letters.")
@click.option(
    "--instances",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Kafka: how many instances of the job share the topics (each reads the partitions "
    "p with p %% instances == --instance; all write one raw store).",
)
@click.option(
    "--instance",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Kafka: which of the --instances this one is (0-based).",
)
@click.option(
    "--raw-store",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the raw store every worker appends Parquet files to "
    "[default: <warehouse stem>.raw beside the warehouse].",
)
@edge_options
@click.option(
    "--bind-host",
    default="127.0.0.1",
    show_default=True,
    help="Kafka: address Prism's job endpoint and the SDK worker pool listen on "
    "(0.0.0.0: every interface). README 'Security'.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def run(
    source,
    input_dir,
    warehouse,
    catalog,
    tag_model,
    labels,
    window_s,
    bootstrap,
    group,
    bounded,
    until_idle,
    no_publish,
    instances,
    instance,
    raw_store,
    as_json,
    bind_host,
    **edge,
):
    """Run the pipeline: validate, stitch, tag, detect, and write the warehouse.

    \b
    Example:
      voc simulate --days 3 --out data/
      voc run --input data/ --warehouse wh.duckdb --json
    """
    started = time.perf_counter()
    if instance >= instances:
        fail(f"--instance {instance} must be below --instances {instances}")
    extra = edge_values(edge, warehouse)
    if source == "kafka":
        summary = run_kafka_pipeline(
            bootstrap,
            group,
            warehouse,
            catalog,
            tag_model,
            window_s,
            bounded=bounded,
            until_idle_s=until_idle,
            publish=not no_publish,
            instance=instance,
            instances=instances,
            raw_store=raw_store,
            labels=labels,
            extra={**extra, "bind_host": bind_host},
        )
    else:
        if input_dir is None:
            fail("--input DIR is required with --source files (write one with `voc simulate`)")
        summary = run_pipeline(
            input_dir, warehouse, catalog, tag_model, window_s, raw_store, labels, extra
        )
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if as_json:
        emit_json(summary)
    else:
        err.print_json(data=summary)


def labels_for(warehouse, labels) -> str | None:
    """The labels overlay to tag with: the one given, else the warehouse's own."""
    from voc.learning.examples import overlay_path_for

    if labels:
        return str(labels)
    beside = overlay_path_for(Path(warehouse))
    if beside.exists():
        err.print(f"tagging with the analyst labels in {beside}")
        return str(beside)
    return None


def run_pipeline(
    input_dir, warehouse, catalog, tag_model, window_s, raw_store=None, labels=None, extra=None
) -> dict:
    from voc.loop import warehouse_summary
    from voc.pipeline.job import embedded_options
    from voc.pipeline.job import run as run_job

    opts = embedded_options(
        input_dir=str(input_dir),
        warehouse=str(warehouse),
        catalog=str(catalog),
        tag_model=str(tag_model) if tag_model else None,
        tag_labels=labels_for(warehouse, labels),
        window_s=window_s,
        raw_store=str(raw_store) if raw_store else None,
        **(extra or {}),
    )
    with step(f"pipeline {input_dir} -> {warehouse}"):
        result = run_job(opts)
    summary = warehouse_summary(Path(warehouse))
    summary["pipeline_counters"] = result.counters
    return summary


def run_kafka_pipeline(
    bootstrap,
    group,
    warehouse,
    catalog,
    tag_model,
    window_s,
    *,
    bounded,
    until_idle_s,
    publish,
    instance=0,
    instances=1,
    raw_store=None,
    before_store=None,
    labels=None,
    extra=None,
) -> dict:
    """`before_store` (tests only): a transform put between validation and
    the raw-store sinks, e.g. a Reshuffle that breaks fusion."""
    import signal

    from voc.kafka.broker import bootstrap as broker_bootstrap
    from voc.kafka.broker import default_home
    from voc.kafka.clients import BrokerUnavailable, admin_client
    from voc.loop import warehouse_summary
    from voc.pipeline import kafka_source
    from voc.pipeline.job import run_streaming
    from voc.pipeline.options import VocOptions
    from voc.pipeline.runners import RunnerUnavailable, ensure_prism, prism_options

    bootstrap = bootstrap or broker_bootstrap(default_home())
    try:
        with admin_client(bootstrap, timeout_s=5) as admin:
            admin.list_topics()
    except BrokerUnavailable as exc:
        fail(f"{exc}\nStart the project's broker with `voc kafka start`, or pass --bootstrap.")
    try:
        with step("Prism runner (built once from Go modules)"):
            prism = ensure_prism()
    except RunnerUnavailable as exc:
        fail(str(exc))
    opts = VocOptions.from_dictionary(
        {
            **prism_options(prism),
            "warehouse": str(warehouse),
            "catalog": str(catalog),
            "tag_model": str(tag_model) if tag_model else None,
            "tag_labels": labels_for(warehouse, labels),
            "window_s": window_s,
            "raw_store": str(raw_store) if raw_store else None,
            **(extra or {}),
        }
    )
    config = kafka_source.KafkaReadConfig(
        bootstrap=bootstrap,
        group_id=group,
        streams=("calls", "ticket_events", "app_events", "social_posts"),
        bounded=bounded,
        until_idle_s=until_idle_s,
        instance=instance,
        instances=instances,
    )
    kafka_source.STOP.clear()

    def drain(signum, _frame):
        err.print(
            f"[yellow]signal {signum}: draining (readers stop, sinks flush, offsets commit)[/]"
        )
        kafka_source.STOP.set()

    old = {s: signal.signal(s, drain) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        how = (
            "bounded"
            if bounded
            else f"until {until_idle_s}s idle"
            if until_idle_s
            else "until SIGINT"
        )
        with step(f"pipeline kafka {bootstrap} ({how}) -> {warehouse}"):
            snapshots = dashboard_snapshots(warehouse)
            result = run_streaming(
                opts, config, publish=publish, before_store=before_store, after_load=snapshots
            )
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if instance == 0:
        summary = warehouse_summary(Path(warehouse))
    else:
        # Only instance 0 opens the warehouse file (it may hold it right now).
        summary = {"warehouse": "loaded by instance 0", "instance": instance}
    summary["recovered_records"] = result.recovered
    summary["reconciled_contacts"] = result.reconciled
    if result.reconciled:
        err.print(
            f"[yellow]{result.reconciled} contact(s) were in the raw tables but not stitched "
            "when the stream drained; stitched and tagged them from the warehouse[/]"
        )
    summary["pipeline_counters"] = result.counters
    if snapshots is not None and instance == 0:
        summary["dashboard_snapshots"] = {
            "published": snapshots.published,
            "seconds": round(snapshots.seconds, 3),
        }
    return summary


def dashboard_snapshots(warehouse):
    """The store loader holds the warehouse for the whole run, so no dashboard
    can open it: after each round the loader publishes what the dashboard reads
    (voc_dashboard.snapshot.WriterSnapshots: a snapshot of the marts once, then
    the live figures of the raw tables). None when the dashboard is not installed."""
    try:
        from voc_dashboard.snapshot import WriterSnapshots
    except ImportError:
        return None
    return WriterSnapshots(warehouse)
