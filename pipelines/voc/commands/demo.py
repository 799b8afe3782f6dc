"""`voc demo`: the whole loop on simulated data, end to end, on this machine."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click

from voc.commands._output import emit_json, err, step
from voc.paths import DEFAULT_CATALOG, DEFAULT_WORK_DIR


@click.command()
@click.option(
    "--days",
    type=click.IntRange(2, 60),
    default=7,
    show_default=True,
    help="Simulated days (day 1 is the detector's warm-up).",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Simulation seed.")
@click.option(
    "--scale",
    type=click.FloatRange(0.05, 20),
    default=1.0,
    show_default=True,
    help="Customer volume multiplier.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_WORK_DIR / "demo",
    show_default=True,
    help="Where the simulated streams and the warehouse go.",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Delete the work dir first (default: reuse; re-running adds no duplicates).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON line last.")
def demo(days, seed, scale, work_dir, fresh, as_json):
    """Simulate -> pipeline -> quality checks -> dbt marts -> summary.

    Streams for three businesses (freight matching, express delivery,
    e-commerce) with injected incidents are written, run through the Beam
    pipeline into a DuckDB warehouse, built into dbt marts, and the alerts are
    scored against the incidents the simulator injected.
    """
    from voc.commands.build import build_warehouse
    from voc.commands.run import run_pipeline
    from voc.loop import score_incidents, tagging_accuracy
    from voc.simulate import simulate

    started = time.perf_counter()
    if fresh and work_dir.exists():
        shutil.rmtree(work_dir)
    streams = work_dir / "streams"
    warehouse = work_dir / "voc.duckdb"
    with step(f"simulate {days} days (seed {seed})"):
        sim = simulate(streams, days=days, seed=seed, scale=scale, fixes=3)
    window_s = 3600
    summary = run_pipeline(streams, warehouse, DEFAULT_CATALOG, None, window_s)
    # Close the loop (issue 12): deliver, open issues, release fixes, verify.
    from voc.closure import deliver_to_local_receiver, open_and_verify_issues

    with step("alert episodes -> outbox -> local webhook"):
        deliveries = deliver_to_local_receiver(warehouse, work_dir)
    with step("issues opened, simulated fixes released, verified"):
        issues = open_and_verify_issues(warehouse, streams / "ground_truth" / "fixes.jsonl")
    build_warehouse(warehouse)
    from voc.loop import warehouse_summary

    summary = {**warehouse_summary(warehouse), "pipeline_counters": summary["pipeline_counters"]}
    score = score_incidents(warehouse, streams)
    summary.update(
        incidents_injected=score.injected,
        incidents_detected=score.detected,
        incidents_missed=score.missed,
        alerts_by_kind=score.alerts_by_kind,
        detected_by_kind=score.detected_by_kind,
        false_alerts=score.false_alerts,
        median_minutes_to_detect=_median(score.minutes_to_detect),
        malformed_injected=sim.malformed,
        **tagging_accuracy(warehouse, streams / "ground_truth" / "contacts.jsonl"),
    )
    from voc.report.weekly import write_weekly_report

    with step("weekly issue-closure report (last simulated week)"):
        weekly = write_weekly_report(warehouse, None, work_dir / "report")
    summary.update(
        deliveries=deliveries,
        issues=issues,
        report={"html": weekly["html"], "pdf": weekly["pdf"]},
        report_week=weekly["week"],
        seconds=round(time.perf_counter() - started, 1),
    )
    _print_summary(summary)
    if as_json:
        emit_json(summary)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return round(s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2, 1)


def _print_summary(s: dict) -> None:
    from rich.table import Table

    t = Table(title="VOC Loop demo", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    t.add_row("events in", ", ".join(f"{k} {v:,}" for k, v in s["events_in"].items()))
    t.add_row(
        "dead letters", f"{s['dead_letters']:,} (malformed injected: {s['malformed_injected']})"
    )
    t.add_row(
        "contacts",
        f"{s['contacts']:,}, tagged {s['tagged_share']:.1%} "
        f"({', '.join(f'{k} {v:,}' for k, v in s['tagged_by_method'].items())})",
    )
    if s.get("tag_accuracy_text_only") is not None:
        # The headline is what the tagger gets from the customer's words alone:
        # a ticket code or an app signal says the answer without any text.
        t.add_row(
            "tag accuracy",
            f"{s['tag_accuracy_text_only']:.1%} of on-topic contacts with text only "
            f"({s['contacts_text_only']:,}); off-topic left untagged "
            f"{(s['oos_abstained'] or 0):.1%}",
        )
        t.add_row(
            "  by evidence",
            ", ".join(
                f"{label} {s[f'tag_accuracy_{key}']:.1%} of {s[f'contacts_{key}']:,}"
                for key, label in (
                    ("ticket_code", "ticket code"),
                    ("app_signal", "app signal"),
                    ("text_only", "text only"),
                )
                if s.get(f"tag_accuracy_{key}") is not None
            )
            + f"; all {s['tag_accuracy']:.1%} (precision {s['tag_precision']:.1%})",
        )
    t.add_row(
        "alerts",
        f"{s['alerts']} raised ("
        + ", ".join(f"{k} {v}" for k, v in sorted(s["alerts_by_kind"].items()))
        + f"); planted incidents found {s['incidents_detected']}"
        f"/{s['incidents_injected']} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(s["detected_by_kind"].items()))
        + f"), false alerts {s['false_alerts']}, median "
        f"{s['median_minutes_to_detect']} min from incident start to alert",
    )
    if s.get("sla_breach_rate") is not None:
        t.add_row("SLA breach rate", f"{s['sla_breach_rate']:.1%} of resolved tickets")
    if s.get("call_csat") is not None:
        t.add_row("call CSAT", f"{s['call_csat']:.1%} of call surveys 4-5")
    if s.get("ticket_csat") is not None:
        t.add_row("ticket CSAT", f"{s['ticket_csat']:.1%} of ticket ratings 4-5")
    if s.get("fcr") is not None:
        t.add_row("FCR", f"{s['fcr']:.1%} of calls and tickets with a complete window")
    t.add_row("marts", ", ".join(f"{k} {v:,}" for k, v in s["marts"].items()))
    t.add_row(
        "loop",
        f"{s['deliveries']['sent']} alert transitions delivered"
        f" ({s['deliveries']['failed']} dead-lettered); issues opened {s['issues']['opened']},"
        f" verified {s['issues']['verified']}",
    )
    t.add_row("weekly report", f"{s['report_week']}: {s['report']['pdf']}")
    t.add_row("warehouse", f"{s['warehouse']}  (duckdb {s['warehouse']} -c 'from fct_contacts')")
    t.add_row("wall time", f"{s['seconds']} s")
    err.print(t)
