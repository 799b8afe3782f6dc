"""`voc simulate`: write seeded simulated streams and their ground truth."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import click


def parse_start(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO date/time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command(name="simulate")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=7,
    show_default=True,
    help="Simulated days. Day 1 is a quiet warm-up: incidents start on day 2.",
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed. The same seed and options give byte-identical files.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write the stream files, ground_truth/ and manifest.json into.",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiplier on customer volume (and so on every stream).",
)
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Scenario catalog: a YAML file or a catalog folder. Default: the built-in catalog.",
)
@click.option(
    "--incidents",
    type=click.IntRange(min=0),
    default=None,
    help="Incidents to plant. Default: one per day after the first.",
)
@click.option(
    "--fixes",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Incidents that get a chronic tail and a fix released at a known time"
    " (one a decoy): ground_truth/fixes.jsonl, for `voc eval verification`.",
)
@click.option(
    "--malformed-rate",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.002,
    show_default=True,
    help="Share of deliberately broken lines per stream.",
)
@click.option(
    "--start",
    callback=parse_start,
    default=None,
    help="First simulated instant, ISO 8601 (UTC if no offset). Default: 2026-11-02T00:00:00Z.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary as one JSON object on the last line of stdout.",
)
def simulate(
    days: int,
    seed: int,
    out_dir: Path,
    scale: float,
    catalog_path: Path | None,
    incidents: int | None,
    fixes: int,
    malformed_rate: float,
    start: datetime | None,
    as_json: bool,
) -> None:
    """Write seeded simulated streams and ground truth.

    Simulates customers of a freight-matching platform, an express-delivery
    network and an e-commerce shop moving through their journeys, and the
    calls, tickets and social posts they make about real business scenarios
    from the catalog (Chinese and English text), with planted incidents.

    \b
    Writes into --out:
      calls.jsonl  ticket_events.jsonl  app_events.jsonl  social_posts.jsonl
      ground_truth/incidents.jsonl   planted breaks of every kind (kind, key, start, end, magnitude)
      ground_truth/decoys.jsonl      volume moves that are not breaks (promotion, push, quiet night)
      ground_truth/contacts.jsonl    each contact's true scenario (null = off-topic)
      ground_truth/malformed.jsonl   deliberately broken lines (stream, line, kind)
      manifest.json                  counts, seed, days, start, catalog

    \b
    Example:
      voc simulate --days 7 --seed 42 --out .voc/sim
    """
    from rich.console import Console

    from voc.catalog import CatalogError, load_catalog
    from voc.simulate import DEFAULT_START
    from voc.simulate import simulate as run_simulation

    err = Console(stderr=True)
    try:
        catalog = load_catalog(catalog_path) if catalog_path else load_catalog()
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    began = time.perf_counter()

    def progress(step: str, count: int) -> None:
        err.print(
            f"[green]✓[/] {step:<24} {count:>9,}  [dim]{time.perf_counter() - began:5.1f}s[/]"
        )

    err.print(
        f"Simulating {days} day(s), seed {seed}, scale {scale:g}, "
        f"{len(catalog)} scenarios -> {out_dir}"
    )
    summary = run_simulation(
        out_dir,
        days=days,
        seed=seed,
        catalog=catalog,
        start=start or DEFAULT_START,
        scale=scale,
        malformed_rate=malformed_rate,
        progress=progress,
        incidents=incidents,
        fixes=fixes,
    )
    elapsed = time.perf_counter() - began
    if as_json:
        click.echo(
            json.dumps({**summary.to_dict(), "seconds": round(elapsed, 2)}, ensure_ascii=False)
        )
        return
    events = ", ".join(f"{name} {n:,}" for name, n in summary.events.items())
    click.echo(
        f"Wrote {out_dir} in {elapsed:.1f}s: {events}; {summary.contacts:,} contacts, "
        f"{summary.incidents} incidents, {summary.malformed} malformed lines."
    )
