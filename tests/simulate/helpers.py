"""Readers for a simulated output directory (tests only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from voc.contracts.streams import Stream
from voc.contracts.validate import DeadLetter, validate_record


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def valid_records(out: Path, stream: Stream) -> list[dict[str, Any]]:
    records = []
    for raw in (out / f"{stream}.jsonl").read_bytes().splitlines():
        result = validate_record(stream, raw, "test")
        if not isinstance(result, DeadLetter):
            records.append(result)
    return records


def malformed_lines(out: Path) -> dict[str, set[int]]:
    lines: dict[str, set[int]] = {str(s): set() for s in Stream}
    for row in read_jsonl(out / "ground_truth" / "malformed.jsonl"):
        lines[row["stream"]].add(row["line"])
    return lines
