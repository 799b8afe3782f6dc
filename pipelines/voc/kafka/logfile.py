"""Rows of a real log file (CSV or tab-separated, with a header), each with its
line number and its raw bytes, so that a row the converter refuses becomes a
dead letter that keeps what the file said."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path


def read_delimited(path: Path, delimiter: str = ",") -> Iterator[tuple[int, dict[str, str], bytes]]:
    """(line number, field -> value, the row's raw bytes) per data row."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        for line_no, row in enumerate(reader, start=2):
            raw = delimiter.join(row.get(f) or "" for f in reader.fieldnames or ()).encode()
            yield line_no, row, raw
