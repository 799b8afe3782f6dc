"""The raw store: append-only Parquet files that any number of workers write at
once, the durable truth of the job (DECISIONLOG.md, "Kafka delivery").

    <root>/<table>/<source>@<first>-<last>.parquet   rows read from one source range
    <root>/<table>/<ns>-<random>.parquet              rows the job derived (contacts, alerts)

A *range file* holds the valid rows (or the dead letters) of one read of one
source: a Kafka partition's offsets `first..last` (the source is
`topic/partition/`) or a stream file's lines (`calls.jsonl:`). The range is in
the file's name, so the rows and the record of which offsets they cover become
durable in one step: a file is written under a temporary name and renamed,
and a rename is atomic. A reader restarting after a crash resumes each
partition from the end of the contiguous run of range files (`durable_next`),
whatever the runner finalised, committed or fused.

Every row of a range file carries `_position` (its offset or line number), so
a conflicting duplicate can name the record it came from. Nothing here imports
Beam or opens the DuckDB warehouse file.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from voc.warehouse.tables import RAW_TABLES, RawTable

POSITION = "_position"
RANGE_SEP = "@"

_ARROW = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.string(),  # ISO-8601 `...Z` strings, cast by DuckDB when loaded
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR[]": pa.list_(pa.string()),
    "JSON": pa.string(),
}


def store_path(warehouse: str | Path) -> Path:
    """The default store of a warehouse file: `voc.duckdb` -> `voc.raw/` beside it."""
    warehouse = Path(warehouse)
    return warehouse.with_name(f"{warehouse.stem}.raw")


def arrow_schema(table: RawTable, *, positions: bool) -> pa.Schema:
    fields = [pa.field(c.name, _ARROW[c.sql_type]) for c in table.columns]
    if positions:
        fields.append(pa.field(POSITION, pa.int64()))
    return pa.schema(fields)


def _column(rows: Sequence[dict[str, Any]], name: str, sql_type: str) -> pa.Array:
    values = [row.get(name) for row in rows]
    if sql_type == "JSON":
        values = [None if v is None else orjson.dumps(v).decode() for v in values]
    return pa.array(values, type=_ARROW[sql_type])


def to_arrow(
    table: RawTable, rows: Sequence[dict[str, Any]], positions: Sequence[int] | None = None
) -> pa.Table:
    """Rows -> an Arrow table with the raw table's columns (raises on a value
    that does not fit its column, e.g. an integer beyond 64 bits)."""
    columns = {c.name: _column(rows, c.name, c.sql_type) for c in table.columns}
    if positions is not None:
        columns[POSITION] = pa.array(positions, type=pa.int64())
    return pa.table(columns, schema=arrow_schema(table, positions=positions is not None))


@dataclass(frozen=True)
class RangeFile:
    path: Path
    source: str  # "topic/partition/" or "file.jsonl:"
    first: int
    last: int


def range_name(source: str, first: int, last: int) -> str:
    return f"{quote(source, safe='')}{RANGE_SEP}{first:012d}-{last:012d}.parquet"


def parse_range(path: Path) -> RangeFile | None:
    stem = path.name.removesuffix(".parquet")
    source, sep, span = stem.rpartition(RANGE_SEP)
    if not sep or "-" not in span:
        return None
    first, _, last = span.partition("-")
    try:
        return RangeFile(path, unquote(source), int(first), int(last))
    except ValueError:
        return None


class RawStore:
    """One folder per raw table under `root`; see the module docstring.

    `fsync` (default): a file's bytes reach the disk before it is renamed and
    the rename before the write returns, so a stored range survives a power
    cut, not only a killed process (DECISIONLOG.md, "Kafka delivery").
    """

    def __init__(self, root: str | Path, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def table_dir(self, table: str) -> Path:
        return self.root / table

    def _write(self, table: str, name: str, data: pa.Table) -> Path:
        folder = self.table_dir(table)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / name
        tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        with open(tmp, "wb") as f:
            pq.write_table(data, f, compression="zstd")
            if self.fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, final)  # atomic: a reader sees the whole file or none
        if self.fsync:
            _fsync_dir(folder)  # the rename itself is durable
        return final

    def write_range(
        self,
        table: str,
        source: str,
        first: int,
        last: int,
        rows: Sequence[dict[str, Any]],
        positions: Sequence[int],
    ) -> Path:
        """The rows read from `source` positions first..last (possibly none:
        an empty file still records that the range was read)."""
        return self.write_range_table(
            table, source, first, last, to_arrow(RAW_TABLES[table], rows, positions)
        )

    def write_range_table(self, table: str, source: str, first: int, last: int, data: pa.Table):
        """`write_range` for rows already converted (`to_arrow` with positions)."""
        return self._write(table, range_name(source, first, last), data)

    def write_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> Path:
        """Rows the job derived (contacts, alerts); a unique name per write."""
        return self.write_rows_table(table, to_arrow(RAW_TABLES[table], rows))

    def write_rows_table(self, table: str, data: pa.Table) -> Path:
        """`write_rows` for rows already converted (`to_arrow`)."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}.parquet"
        return self._write(table, name, data)

    def files(self, table: str) -> list[Path]:
        """Every complete file of `table`, in name order."""
        folder = self.table_dir(table)
        if not folder.exists():
            return []
        return sorted(
            Path(e.path)
            for e in os.scandir(folder)
            if e.name.endswith(".parquet") and not e.name.startswith(".")
        )

    def ranges(self, table: str, source: str) -> list[RangeFile]:
        prefix = quote(source, safe="") + RANGE_SEP
        folder = self.table_dir(table)
        if not folder.exists():
            return []
        out = [
            r
            for e in os.scandir(folder)
            if e.name.startswith(prefix) and e.name.endswith(".parquet")
            for r in (parse_range(Path(e.path)),)
            if r is not None
        ]
        return sorted(out, key=lambda r: (r.first, r.last))

    def durable_next(self, table: str, source: str, start: int) -> int:
        """The first position at or after `start` that no range file covers
        contiguously from `start`: where a restarted reader must resume."""
        return contiguous_end(((r.first, r.last) for r in self.ranges(table, source)), start)


def contiguous_end(spans: Iterable[tuple[int, int]], start: int) -> int:
    """The first position at or after `start` that the (first, last) spans,
    sorted by first, do not cover contiguously from `start`."""
    pos = start
    for first, last in spans:
        if first > pos:
            break
        pos = max(pos, last + 1)
    return pos


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def kafka_source(topic: str, partition: int) -> str:
    return f"{topic}/{partition}/"


def remove_tmp(
    store: RawStore, tables: Iterable[str] = RAW_TABLES, older_than_s: float = 600
) -> None:
    """Delete the temporary files a killed writer left behind (old ones only:
    another job instance may be writing right now)."""
    cutoff = time.time() - older_than_s
    for table in tables:
        folder = store.table_dir(table)
        if folder.exists():
            for path in folder.glob(".*.tmp"):
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink(missing_ok=True)
                except FileNotFoundError:
                    pass
