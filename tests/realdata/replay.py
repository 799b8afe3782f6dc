"""Replay converted records of a real log through the pipeline into the marts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from voc.paths import DEFAULT_CATALOG


def replay_into_marts(tmp_path: Path, stream: str, records: list[dict[str, Any]]) -> Path:
    """Write `records` as `<stream>.jsonl`, run the pipeline on it and build the
    marts; return the warehouse file."""
    from voc.commands.build import build_warehouse
    from voc.commands.run import run_pipeline

    streams = tmp_path / "streams"
    streams.mkdir()
    with open(streams / f"{stream}.jsonl", "wb") as f:
        for record in records:
            f.write(orjson.dumps(record) + b"\n")
    warehouse = tmp_path / "voc.duckdb"
    run_pipeline(streams, warehouse, DEFAULT_CATALOG, None, 3600)
    build_warehouse(warehouse, skip_quality=True)
    return warehouse
