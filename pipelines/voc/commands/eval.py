"""`voc eval`: measure the learned tagger on labelled data it has never seen."""

from __future__ import annotations

from pathlib import Path

import click

from voc.commands._output import emit_json, err, fail, step
from voc.commands.simulate import parse_start

_CSV = click.Path(dir_okay=False, path_type=Path)


@click.group(name="eval")
def eval_group() -> None:
    """Measure tagging accuracy and speed on labelled CSVs, and breakpoint detection
    on simulated streams with planted incidents."""


@eval_group.command()
@click.option("--train", "train_csv", type=_CSV, required=True, help="Labelled training CSV.")
@click.option("--test", "test_csv", type=_CSV, required=True, help="Labelled test CSV.")
@click.option(
    "--catalog",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scenario catalog YAML: labels that are not its scenario ids are out of scope.",
)
@click.option("--text-col", default="text", show_default=True)
@click.option("--label-col", default="category", show_default=True)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Abstain threshold; default: chosen on a validation split of the training data.",
)
@click.option(
    "--target-oos-recall",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Choose the threshold for this out-of-scope recall, estimated on the validation "
    "split by holding labels out of training (default: keep 95% of validation answered).",
)
@click.option(
    "--save-model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the trained model here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def tagging(
    train_csv,
    test_csv,
    catalog,
    text_col,
    label_col,
    seed,
    threshold,
    target_oos_recall,
    save_model,
    as_json,
):
    """Train the text model on TRAIN, tag TEST, report accuracy, macro-F1, out-of-scope
    recall, coverage and one-thread tagging speed.

    \b
    Chinese shopping reviews, for example:
      voc eval split --input online_shopping_10_cats.csv --out-dir zh --label-col cat
      voc eval tagging --train zh/train.csv --test zh/test.csv --text-col review --label-col cat
    """
    from voc.catalog import CatalogError
    from voc.evaluation.data import EvaluationDataError
    from voc.evaluation.tagging import evaluate_tagging
    from voc.tagging.model import ModelConfig, ModelTrainingError

    config = ModelConfig(target_oos_recall=target_oos_recall)
    try:
        with step(f"train on {train_csv.name}, tag {test_csv.name}"):
            report = evaluate_tagging(
                train_csv,
                test_csv,
                text_col=text_col,
                label_col=label_col,
                catalog=catalog,
                seed=seed,
                abstain_threshold=threshold,
                config=config,
                save_model=save_model,
            )
    except (EvaluationDataError, CatalogError, ModelTrainingError) as exc:
        fail(str(exc))
    if save_model is not None:
        err.print(f"model written to {save_model}")
    _print_report(report)
    if as_json:
        emit_json(report)


@eval_group.command()
@click.option(
    "--input",
    "input_csv",
    type=_CSV,
    required=True,
    help="Gold CSV: text, best_id (empty = out of scope), accepted_ids (;-separated).",
)
@click.option(
    "--domain",
    default="ecommerce",
    show_default=True,
    help="Business the texts come from: its scenarios and `common` ones compete.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def gold(input_csv, domain, as_json):
    """Score the default tagger (no training) on real texts labelled with catalog
    scenario ids: scenario and category accuracy over in-scope rows (an
    abstention is wrong), out-of-scope abstention rate, coverage, one-thread
    texts/s.

    \b
      voc eval gold --input ../shared/data/cx_gold_zh/dev.csv --json
    """
    from voc.catalog import CatalogError
    from voc.evaluation.data import EvaluationDataError
    from voc.evaluation.gold import evaluate_gold

    try:
        with step(f"tag {input_csv.name} with the default catalog"):
            report = evaluate_gold(input_csv, domain=domain)
    except (EvaluationDataError, CatalogError) as exc:
        fail(str(exc))
    for key in ("scenario_accuracy", "category_accuracy", "oos_abstain_rate", "coverage"):
        err.print(f"  {key:<18} {report[key]:.3f}")
    err.print(f"  n                  {report['n']} ({report['in_scope']} in scope)")
    err.print(f"  texts/s            {report['texts_per_s']:,.0f}")
    if report["unknown_ids"]:
        err.print(f"  [yellow]ids not in the catalog:[/] {', '.join(report['unknown_ids'])}")
    if as_json:
        emit_json(report)


@eval_group.command()
@click.option("--input", "input_csv", type=_CSV, required=True, help="Labelled CSV to split.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--test-share",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--label-col", default=None, help="Stratify on this column (recommended).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def split(input_csv, out_dir, test_share, seed, label_col, as_json):
    """Split a labelled CSV into OUT_DIR/train.csv and OUT_DIR/test.csv, deterministically."""
    from voc.evaluation.data import EvaluationDataError, split_csv

    try:
        counts = split_csv(
            input_csv, out_dir, test_share=test_share, seed=seed, label_col=label_col
        )
    except EvaluationDataError as exc:
        fail(str(exc))
    err.print(f"{counts['train']} train rows, {counts['test']} test rows -> {out_dir}")
    if as_json:
        emit_json({"out_dir": str(out_dir), **counts})


@eval_group.command(name="catalog-holdout")
@click.option("--days", default=None, type=click.IntRange(min=2), help="Simulated days.")
@click.option("--scale", default=None, type=click.FloatRange(min=0.0, min_open=True))
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--random-split", is_flag=True, help="Also score a random 70/30 split.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def catalog_holdout(days, scale, seed, random_split, as_json):
    """Simulate contacts about the default catalog's scenarios, train the text model
    on the first 70% of the period, and score the hybrid tagger, the model alone and
    the rules alone on the rest: macro-F1, accuracy, coverage, off-topic abstained,
    one-thread texts/s. Defaults: the benchmark's size
    (benchmarks/bench_tagging_catalog.py)."""
    from voc.evaluation.catalog_holdout import (
        BENCH_DAYS,
        BENCH_SCALE,
        TAGGERS,
        evaluate_catalog_holdout,
    )

    days = BENCH_DAYS if days is None else days
    scale = BENCH_SCALE if scale is None else scale
    with step(f"simulate {days} days (scale {scale}), train, tag the hold-out"):
        report = evaluate_catalog_holdout(
            days=days, seed=seed, scale=scale, random_split_too=random_split
        )
    from rich.table import Table

    table = Table(title="catalog hold-out (time split)", header_style="bold")
    table.add_column("tagger")
    for col in ("macro F1", "accuracy", "coverage", "off-topic abstained", "texts/s"):
        table.add_column(col, justify="right")
    for name in TAGGERS:
        r = report[name]
        table.add_row(
            name,
            f"{r['macro_f1']:.4f}",
            f"{r['accuracy']:.4f}",
            f"{r['coverage']:.4f}",
            "—" if r["oos_recall"] is None else f"{r['oos_recall']:.4f}",
            f"{r['texts_per_s']:,.0f}",
        )
    err.print(table)
    err.print(
        f"{report['n_train']} training contacts, {report['n_holdout']} held out; "
        f"{report['scenarios_in_holdout']} scenarios in the hold-out "
        f"({report['scenarios_in_holdout_unseen_in_train']} never seen in training)"
    )
    if random_split:
        err.print(f"random split: hybrid macro F1 {report['random_macro_f1']:.4f}")
    if as_json:
        emit_json(report)


@eval_group.command()
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 60))
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.05, 20))
@click.option(
    "--window-hours",
    default=72,
    show_default=True,
    type=click.IntRange(1, 24 * 30),
    help="Repeat/FCR window; must equal dbt var voc_repeat_window_hours.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the simulation and warehouse go. Default: .voc/eval-marts-<days>d-<seed>.",
)
@click.option(
    "--start",
    callback=parse_start,
    default=None,
    help="First simulated instant, ISO 8601 (UTC if no offset), e.g. 2026-09-30 for a week"
    " with the National Day holiday and a make-up Saturday. Default: the simulator's.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def marts(days, seed, scale, window_hours, work_dir, start, as_json):
    """Simulate DAYS, run the pipeline, build the marts and compare their CX figures
    with the simulator's truth: repeat recall/precision (cross-channel, identity
    resolved), FCR, resolution SLA breach on the business clock, ticket CSAT,
    call CSAT and NPS (goal: recall and precision >= 0.98, absolute errors <= 0.005).

    \b
      voc eval marts --days 7 --seed 42 --json
      voc eval marts --days 12 --seed 42 --start 2026-09-30 --json
    """
    import shutil

    from voc.commands.build import build_warehouse
    from voc.commands.run import run_pipeline
    from voc.evaluation.marts import evaluate_marts
    from voc.paths import DEFAULT_CATALOG, DEFAULT_WORK_DIR
    from voc.simulate import simulate

    work_dir = work_dir or DEFAULT_WORK_DIR / f"eval-marts-{days}d-{seed}"
    if work_dir.exists():
        shutil.rmtree(work_dir)
    streams, warehouse = work_dir / "streams", work_dir / "voc.duckdb"
    with step(f"simulate {days} days (seed {seed})"):
        simulate(streams, days=days, seed=seed, scale=scale, **({"start": start} if start else {}))
    run_pipeline(streams, warehouse, DEFAULT_CATALOG, None, 3600)
    build_warehouse(warehouse)
    with step("compare the marts with the simulator's truth"):
        result = evaluate_marts(streams, warehouse, window_hours).to_dict()
    result.update(
        days=days,
        seed=seed,
        scale=scale,
        window_hours=window_hours,
        start=start.isoformat() if start else None,
    )
    for key in (
        "repeat_recall",
        "repeat_precision",
        "repeat_recall_same_scenario",
        "repeat_recall_linkable",
        "fcr_abs_error",
        "sla_breach_abs_error",
        "ticket_csat_abs_error",
        "call_csat_abs_error",
        "nps_abs_error",
        "sla_clock_mismatches",
        "sla_clocks_compared",
    ):
        err.print(f"  {key:<36} {result[key]}")
    err.print(f"  truth {result['truth']}")
    err.print(f"  marts {result['marts']}")
    if as_json:
        emit_json(result)


def _print_report(report: dict) -> None:
    from rich.table import Table

    def show(value, fmt="{:.4f}"):
        return "—" if value is None else fmt.format(value)

    table = Table(title="tagging evaluation", show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("accuracy (in scope, abstain = wrong)", show(report["accuracy"])),
        ("accuracy if never abstaining", show(report.get("accuracy_no_abstain"))),
        ("accuracy of answers given", show(report["accuracy_answered"])),
        ("macro F1 (in scope)", show(report["macro_f1"])),
        ("coverage (in scope answered)", show(report["coverage"])),
        ("out-of-scope recall (abstained)", show(report["oos_recall"])),
        (
            "out-of-scope recall, validation estimate",
            show(report.get("validation", {}).get("oos_recall")),
        ),
        ("calibration error (ECE)", show(report["ece"])),
        ("abstain threshold", show(report["abstain_threshold"])),
        ("texts/s (predict, 1 thread)", show(report["texts_per_s"], "{:,.0f}")),
        ("train seconds", show(report["seconds_train"], "{:.1f}")),
        (
            "test texts (in scope / out)",
            f"{report['n_test']} ({report['n_in_scope']} / {report['n_out_of_scope']})",
        ),
        ("train texts, labels", f"{report['n_train']}, {report['labels']}"),
    ]
    # other thresholds, each chosen on the validation split: accuracy / out-of-scope
    # recall at each
    for point in report.get("operating_points", []):
        rows.append(
            (
                f"at {point['validation_coverage']:.0%} validation coverage "
                f"(threshold {point['threshold']:.3f})",
                f"acc {show(point['accuracy'], '{:.3f}')}, "
                f"oos recall {show(point['oos_recall'], '{:.3f}')}",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    err.print(table)


@eval_group.command()
@click.option(
    "--seeds", default="1,2,3", show_default=True, help="Comma-separated simulation seeds."
)
@click.option("--days", type=click.IntRange(5, 60), default=9, show_default=True)
@click.option(
    "--fixes",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Planted fixes per seed (one of them a decoy).",
)
@click.option("--scale", type=click.FloatRange(0.05, 20), default=1.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def verification(seeds, days, fixes, scale, as_json):
    """Fix verification against the simulator's truth: effective fixes must end
    verified (a significant drop in contacts), decoy fixes must not.

    Each seed simulates DAYS days with FIXES planted fixes, runs the real
    pipeline, opens an issue per fix, releases it at the planted time and
    lets the verifier check it day by day."""
    from voc.evaluation.verification import evaluate_verification

    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        fail(f"--seeds must be comma-separated integers, got {seeds!r}")
    result = evaluate_verification(
        seed_list, days=days, fixes=fixes, scale=scale, progress=lambda m: err.print(m)
    )
    for case in result["cases"]:
        err.print(
            f"seed {case['seed']} {case['fix_id']} {case['scenario_id']}:"
            f" {'effective' if case['effective'] else 'decoy'} -> "
            f"{'verified' if case['verified'] else 'not verified'} ({case['status']},"
            f" ratio {case['last_rate_ratio']}, p={case['last_p_value']})"
        )
    err.print(
        f"verification accuracy {result['verification_accuracy']} over {result['fixes']} fixes"
        f" ({result['effective_verified']}/{result['effective']} effective verified,"
        f" {result['decoys_verified']}/{result['decoys']} decoys verified)"
    )
    if as_json:
        emit_json(result)


def _seed_range(value: str) -> list[int]:
    try:
        if "-" in value:
            a, b = (int(x) for x in value.split("-", 1))
        else:
            a = b = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a seed or a range like 1-10") from None
    if b < a:
        raise click.BadParameter(f"{value!r}: the range is empty")
    return list(range(a, b + 1))


@eval_group.command()
@click.option("--seeds", default="1-10", show_default=True, help="Seed or range, e.g. 1-10.")
@click.option("--days", default=7, show_default=True, type=click.IntRange(min=3))
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(min=0.05))
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the simulated streams go (default: a temporary directory).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def detection(seeds, days, scale, work_dir, as_json):
    """Plant every kind of journey break (and decoys that must not alert) in
    simulated streams, run the breakpoint detectors, and score their alerts:
    recall, precision, time to detect (event-time minutes from incident start
    to alert, p50/p95), decoy alerts, per kind and per magnitude band.

    The detectors are the streaming job's (voc.detect.engine), fed the same
    validated, stitched and tagged records, without Beam (10 seeds x 7 days in
    minutes); even seeds start on the National Day holiday, odd ones span 双11.
    """
    import tempfile

    from voc.evaluation.detection import evaluate_detection

    seed_list = _seed_range(seeds)

    def progress(seed, s):
        err.print(
            f"seed {seed}: recall {s['recall']} (visible {s['recall_visible']}), "
            f"precision {s['precision']}, "
            f"p95 TTD {s['ttd_p95_min']} min, decoy alerts {s['decoy_alerts']}"
        )

    with tempfile.TemporaryDirectory(prefix="voc-eval-detection-") as tmp:
        root = work_dir or Path(tmp)
        with step(f"{len(seed_list)} seed(s) x {days} days: simulate, detect, score"):
            report = evaluate_detection(seed_list, days, root, scale=scale, progress=progress)
    _print_detection(report)
    if as_json:
        emit_json({"name": "detection", **report})


def _print_detection(r: dict) -> None:
    from rich.table import Table

    t = Table(title="breakpoint detection", header_style="bold")
    for col in (
        "kind",
        "incidents",
        "recall",
        "visible",
        "recall (visible)",
        "alerts",
        "precision",
        "TTD p50",
        "TTD p95",
        "decoy",
    ):
        t.add_column(col, justify="right" if col != "kind" else "left")

    def row(name, b):
        t.add_row(
            name,
            str(b["incidents"]),
            "—" if b["recall"] is None else f"{b['recall']:.3f}",
            str(b["visible"]),
            "—" if b["recall_visible"] is None else f"{b['recall_visible']:.3f}",
            str(b.get("alerts", "")),
            "—" if b.get("precision") is None else f"{b['precision']:.3f}",
            "—" if b["ttd_p50_min"] is None else f"{b['ttd_p50_min']:.1f}",
            "—" if b["ttd_p95_min"] is None else f"{b['ttd_p95_min']:.1f}",
            str(b.get("decoy_alerts", "")),
        )

    for kind, b in r["by_kind"].items():
        row(kind, b)
    row("all", r)
    for band, b in r["by_band"].items():
        row(f"band: {band}", b)
    err.print(t)


@eval_group.command()
@click.option(
    "--set",
    "set_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Labelled TSV (language, text, KIND=value | ...); default: the built-in "
    "set of zh/en snippets with near-misses (voc/privacy/eval_set.tsv).",
)
@click.option("--show-errors", is_flag=True, help="List every missed and wrongly masked value.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def privacy(set_path, show_errors, as_json):
    """Precision and recall of the personal-data masker, per kind and overall,
    and its one-thread speed (texts/s), on a labelled set of snippets."""
    from rich.table import Table

    from voc.privacy.evaluate import EVAL_SET, EvalSetError, evaluate_privacy, load_eval_set

    try:
        snippets = load_eval_set(set_path or EVAL_SET)
    except EvalSetError as exc:
        fail(str(exc))
    report = evaluate_privacy(snippets)
    table = Table(title=f"privacy masker ({report['snippets']} snippets)", header_style="bold")
    for col in ("kind", "labels", "precision", "recall"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for kind, r in report["per_kind"].items():
        table.add_row(kind, str(r["support"]), f"{r['precision']:.4f}", f"{r['recall']:.4f}")
    table.add_row(
        "all", str(report["labels"]), f"{report['precision']:.4f}", f"{report['recall']:.4f}"
    )
    err.print(table)
    err.print(f"{report['texts_per_s']:,} texts/s (one thread)")
    for e in report["errors"] if show_errors else ():
        err.print(f"{e['error']}: {e['kind']} {e['value']!r} in {e['text']!r}")
    if as_json:
        emit_json(report)
