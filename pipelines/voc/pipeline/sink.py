"""The job's sinks: append-only Parquet files in the raw store
(voc.warehouse.store), which any number of workers write at once. No DoFn
opens the DuckDB warehouse file: the process that launched the job loads the
store into it (voc.warehouse.load)."""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import apache_beam as beam
import orjson
import pyarrow as pa
from apache_beam.metrics import Metrics

from voc.contracts.validate import dead_letter
from voc.pipeline.elements import StoreBatch
from voc.warehouse.store import RawStore, to_arrow
from voc.warehouse.tables import RAW_TABLES

log = logging.getLogger(__name__)

# A write that fails (a full or unreachable disk) is tried this many times,
# with a growing pause, before the bundle fails; the runner then retries the
# bundle, and the reader's offsets do not move past it meanwhile.
ATTEMPTS = 4
BACKOFF_S = 0.5
_UNSTORABLE = (OverflowError, pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError)


def with_retries(write, what: str, attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S):
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except OSError as exc:
            if attempt == attempts:
                raise
            log.warning("%s failed (%s); retry %d of %d", what, exc, attempt, attempts - 1)
            time.sleep(backoff_s * attempt)
    return None


class Storable(NamedTuple):
    rows: list[dict]
    positions: list[int] | None
    bad: list[tuple[dict, int | None, Exception]]  # (row, position, error)
    data: pa.Table  # `rows` (and `positions`) as the table's Arrow columns


def split_storable(table: str, rows: list[dict], positions: list[int] | None) -> Storable:
    """The rows (and positions) that fit the table's columns, already converted
    to Arrow (the one conversion a write needs), and the (row, position, error)
    of each that does not (a 2^63 integer, a list where a string goes)."""
    schema = RAW_TABLES[table]
    try:
        return Storable(rows, positions, [], to_arrow(schema, rows, positions))
    except _UNSTORABLE:
        pass
    ok, ok_pos, bad = [], [] if positions is not None else None, []
    for i, row in enumerate(rows):
        pos = None if positions is None else positions[i]
        try:
            to_arrow(schema, [row], None if pos is None else [pos])
        except _UNSTORABLE as exc:
            bad.append((row, pos, exc))
            continue
        ok.append(row)
        if ok_pos is not None:
            ok_pos.append(pos)
    return Storable(ok, ok_pos, bad, to_arrow(schema, ok, ok_pos))


def unstorable_letter(table: str, source: str, row: dict, exc: Exception) -> dict:
    raw = orjson.dumps(row, default=str)
    reason = f"cannot be stored in raw.{table}: {type(exc).__name__}: {exc}"[:500]
    return dead_letter(table, source, reason, raw).to_dict()


class StoreRangeFn(beam.DoFn):
    """StoreBatch -> (stream, rows stored). Writes the batch's dead letters,
    then its rows, each as one range file: when the rows' file exists, the
    whole source range is durable (the reader resumes after it)."""

    def __init__(self, store: str, fsync: bool = True) -> None:
        self.store = store
        self.fsync = fsync
        self.stored = Metrics.counter("sink", "rows_stored")
        self.unstorable = Metrics.counter("sink", "unstorable")

    def setup(self) -> None:
        self._store = RawStore(self.store, fsync=self.fsync)

    def process(self, batch: StoreBatch):
        rows, _, bad, data = split_storable(batch.stream, batch.rows, batch.positions)
        letters = list(batch.dead_letters) + [
            unstorable_letter(batch.stream, f"{batch.source_prefix}{pos}", row, exc)
            for row, pos, exc in bad
        ]
        self.unstorable.inc(len(bad))
        if letters:
            letter_positions = [0] * len(letters)  # dead letters name their source
            with_retries(
                lambda: self._store.write_range(
                    "dead_letters",
                    batch.source_prefix,
                    batch.first,
                    batch.last,
                    letters,
                    letter_positions,
                ),
                f"storing dead letters of {batch.source_prefix}{batch.first}",
            )
        with_retries(
            lambda: self._store.write_range_table(
                batch.stream, batch.source_prefix, batch.first, batch.last, data
            ),
            f"storing {batch.stream} {batch.source_prefix}{batch.first}-{batch.last}",
        )
        self.stored.inc(len(rows))
        yield batch.stream, len(rows)


class StoreRowsFn(beam.DoFn):
    """list[dict] -> (table, rows stored): one new file per batch."""

    def __init__(self, table: str, store: str, fsync: bool = True) -> None:
        self.table = table
        self.store = store
        self.fsync = fsync
        self.stored = Metrics.counter("sink", f"{table}_stored")

    def setup(self) -> None:
        self._store = RawStore(self.store, fsync=self.fsync)

    def process(self, rows: list[dict]):
        if not rows:
            return
        ok, _, bad, data = split_storable(self.table, list(rows), None)
        if bad:
            letters = [unstorable_letter(self.table, self.table, r, e) for r, _, e in bad]
            with_retries(
                lambda: self._store.write_rows("dead_letters", letters), "storing dead letters"
            )
        if ok:
            with_retries(
                lambda: self._store.write_rows_table(self.table, data), f"storing {self.table}"
            )
        self.stored.inc(len(ok))
        yield self.table, len(ok)


class WriteRanges(beam.PTransform):
    """StoreBatch -> (stream, rows stored), once the batch's range is durable
    (with `fsync`, on disk: voc.warehouse.store.RawStore)."""

    def __init__(self, store: str, *, fsync: bool = True) -> None:
        super().__init__()
        self.store = store
        self.fsync = fsync

    def expand(self, batches):
        return batches | "WriteRangeFiles" >> beam.ParDo(StoreRangeFn(self.store, self.fsync))


class WriteRows(beam.PTransform):
    """dict rows of one raw table -> (table, rows stored) per file written.

    `batched`: the input elements already are lists of rows (one file each);
    otherwise single rows are batched first (up to `max_batch_size`)."""

    def __init__(
        self,
        table: str,
        store: str,
        max_batch_size: int = 1000,
        *,
        batched: bool = False,
        fsync: bool = True,
    ) -> None:
        super().__init__()
        if table not in RAW_TABLES:
            raise ValueError(f"unknown raw table {table!r}; known: {sorted(RAW_TABLES)}")
        self.table = table
        self.store = store
        self.max_batch_size = max_batch_size
        self.batched = batched
        self.fsync = fsync

    def expand(self, rows):
        if not self.batched:
            rows = rows | "Batch" >> beam.BatchElements(
                min_batch_size=1, max_batch_size=self.max_batch_size
            )
        return rows | "WriteFiles" >> beam.ParDo(StoreRowsFn(self.table, self.store, self.fsync))
