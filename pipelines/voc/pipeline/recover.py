"""Recovery: the raw store is the pipeline's durable state.

A streaming run keeps its waiting contacts in the runner's memory; a killed
run loses them (journey events need no recovery: stitching reads them from
the store; the breakpoint detector keeps its own state in the warehouse,
voc.warehouse.detect). On start, the job therefore reads back from the
store's files, before any new record arrives, the contact records that
landed in the raw tables but never came out as a tagged contact (the run
died between the raw sink and the contacts sink), so they are stitched and
tagged now.

Replays are harmless: every sink is idempotent by id, and the detector
reads the warehouse, where an id is one row.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apache_beam as beam
import duckdb
from apache_beam.transforms.window import TimestampedValue

from voc.contracts.streams import Stream
from voc.contracts.validate import format_time, to_micros
from voc.pipeline.coders import RecordBatch
from voc.pipeline.elements import ValidRecord
from voc.warehouse.store import RawStore, parse_range
from voc.warehouse.tables import RAW_TABLES

_UNSTITCHED = {
    Stream.CALLS: (
        "SELECT * FROM raw.calls WHERE event_id NOT IN (SELECT contact_id FROM raw.contacts)"
    ),
    Stream.TICKET_EVENTS: (
        "SELECT * FROM raw.ticket_events WHERE event_type = 'created' "
        "AND source_contact_id IS NULL "
        "AND event_id NOT IN (SELECT contact_id FROM raw.contacts)"
    ),
    Stream.SOCIAL_POSTS: (
        "SELECT * FROM raw.social_posts WHERE event_id NOT IN (SELECT contact_id FROM raw.contacts)"
    ),
}


@dataclass
class Recovered:
    records: list[ValidRecord] = field(default_factory=list)  # contacts never tagged

    def __bool__(self) -> bool:
        return bool(self.records)


class ReadRecovered(beam.PTransform):
    """One part of the recovered state (its `records`) as one batch (or none),
    timestamped with the oldest record.

    The state is written to a snapshot file in the raw store when the
    pipeline is built and read back when it runs: a `beam.Create` of tens of
    thousands of rows would be type-inferred, pickled and compressed into the
    pipeline graph (over a second of every start)."""

    def __init__(self, recovered: Recovered, part: str, snapshot: Path) -> None:
        super().__init__()
        self.part = part
        self.path = snapshot.with_name(f"{snapshot.name}.{part}.pickle")
        rows = getattr(recovered, part)
        self.oldest_s = min(map(_micros_of, rows), default=0) / 1e6
        self.empty = not rows
        if rows:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))

    def expand(self, pbegin):
        paths = [] if self.empty else [str(self.path)]
        oldest_s = self.oldest_s
        return (
            pbegin
            | "Snapshot" >> beam.Create(paths)
            | "Load"
            >> beam.Map(
                lambda path: TimestampedValue(pickle.loads(Path(path).read_bytes()), oldest_s)
            ).with_output_types(RecordBatch)
        )


def snapshot_path(store: str | Path) -> Path:
    """In the raw store, which every worker of the job can read."""
    return Path(store) / "_recovered"


def remove_snapshots(store: str | Path) -> None:
    """Delete the snapshot files of a finished run."""
    base = snapshot_path(store)
    for path in base.parent.glob(f"{base.name}.*.pickle"):
        path.unlink(missing_ok=True)


def _micros_of(row: ValidRecord | dict[str, Any]) -> int:
    return row.event_time_us if isinstance(row, ValidRecord) else to_micros(row["event_time"])


def recover(store: str | Path, *, instance: int = 0, instances: int = 1) -> Recovered:
    """What a (re)started job must replay, read from the raw store's files (an
    in-memory DuckDB over them: the store is the truth, and any worker can
    read it while another loads the warehouse). With several job instances,
    each recovers the contact records of its own partitions only."""
    out = Recovered()
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA raw")
        for name in ("calls", "ticket_events", "social_posts", "contacts"):
            _store_view(con, RawStore(store), name, instance, instances)
        for stream, sql in _UNSTITCHED.items():
            out.records += _rows(con, sql, stream)
    return out


def _store_view(con, store: RawStore, name: str, instance: int, instances: int) -> None:
    """raw.<name> as a view over the store's files, one row per id; for an
    input stream with several instances, only this instance's partitions."""
    table = RAW_TABLES[name]
    select = ", ".join(
        f"CAST({c.name} AS {c.sql_type}) AS {c.name}"
        if c.sql_type in ("TIMESTAMP", "JSON")
        else c.name
        for c in table.columns
    )
    files = store.files(name)
    if name != "contacts" and instances > 1:
        files = [f for f in files if _partition_of(f) % instances == instance]
    if not files:
        empty = ", ".join(f"NULL::{c.sql_type} AS {c.name}" for c in table.columns)
        con.execute(f"CREATE VIEW raw.{name} AS SELECT {empty} WHERE false")
        return
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    con.execute(
        f"CREATE VIEW raw.{name} AS SELECT {select} FROM read_parquet([{listed}]) "
        f"QUALIFY row_number() OVER (PARTITION BY {table.key}) = 1"
    )


def _partition_of(path: Path) -> int:
    r = parse_range(path)
    try:
        return int(r.source.rstrip("/").rsplit("/", 1)[1]) if r else 0
    except (IndexError, ValueError):
        return 0  # a file source: one partition


def _rows(con: duckdb.DuckDBPyConnection, sql: str, stream: Stream) -> list[ValidRecord]:
    table = RAW_TABLES[str(stream)]
    names = table.column_names
    rows = con.execute(f"SELECT {', '.join(names)} FROM ({sql})").fetchall()
    out = []
    for r in rows:
        rec = _as_record(dict(zip(names, r, strict=True)))
        ts = rec["event_time"]
        out.append(ValidRecord(str(stream), to_micros(ts), rec))
    return out


def _as_record(row: dict[str, Any]) -> dict[str, Any]:
    """A warehouse row back in its schema's shape (UTC `...Z` strings, parsed JSON)."""
    rec: dict[str, Any] = {"schema_version": "1"}
    for k, v in row.items():
        if isinstance(v, datetime):
            v = format_time(v.replace(tzinfo=UTC))
        elif k == "properties" and isinstance(v, str):
            v = json.loads(v)
        rec[k] = v
    return rec
