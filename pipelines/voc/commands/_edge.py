"""The edge's options, shared by the commands that run the pipeline: size
limits, event-time bounds, and the key that hashes masked phones and emails."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

import click

from voc.commands._output import fail


def _utc_time(ctx, param, value):
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected UTC ISO-8601, e.g. 2026-11-09T00:00:00Z") from None
    if parsed.utcoffset() is None or parsed.utcoffset().total_seconds() != 0:
        raise click.BadParameter("expected a UTC time ending in Z")
    return value


def edge_options(command):
    options = [
        click.option(
            "--max-record-bytes",
            type=click.IntRange(min=1024),
            default=256 * 1024,
            show_default=True,
            help="Larger records become dead letters (kind oversized).",
        ),
        click.option(
            "--event-horizon-s",
            type=click.IntRange(min=1),
            default=30 * 365 * 86400,
            show_default=True,
            help="Event times older than the reference time by more than this become "
            "dead letters (kind event_time).",
        ),
        click.option(
            "--event-skew-s",
            type=click.IntRange(min=0),
            default=86400,
            show_default=True,
            help="Event times later than the reference time by more than this become "
            "dead letters. Reference: Kafka, each record's timestamp; files, --reference-time.",
        ),
        click.option(
            "--reference-time",
            callback=_utc_time,
            default=None,
            help="Files: bound event times against this UTC time (…Z) instead of the "
            "time the run starts.",
        ),
        click.option(
            "--pii-key-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="Hex key of the HMAC that hashes masked phones and emails [default: "
            "$VOC_PII_KEY, else <warehouse>.pii-key, created once].",
        ),
    ]
    return functools.reduce(lambda cmd, opt: opt(cmd), reversed(options), command)


def edge_values(edge: dict, warehouse: Path) -> dict:
    """Click values -> VocOptions values."""
    from voc.privacy.keys import PiiKeyError, resolve_key

    try:
        key = resolve_key(warehouse, edge["pii_key_file"])
    except (PiiKeyError, OSError) as exc:
        fail(str(exc))
    return {
        "max_record_bytes": edge["max_record_bytes"],
        "event_horizon_s": edge["event_horizon_s"],
        "event_skew_s": edge["event_skew_s"],
        "reference_time": edge["reference_time"],
        "pii_key": key,
    }
