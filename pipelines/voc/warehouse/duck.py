"""The DuckDB warehouse file: open it with the raw tables in place and upsert
batches idempotently (INSERT OR IGNORE on each table's id: the same input
twice adds no row)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from voc.warehouse.loop_tables import ensure_loop_tables
from voc.warehouse.tables import RAW_SCHEMA, RAW_TABLES, RawTable

_ARROW = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.string(),  # ISO-8601 `...Z` strings, cast by DuckDB on insert
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR[]": pa.list_(pa.string()),
    "JSON": pa.string(),
}

_lock = threading.Lock()


# A reader (the dashboard's snapshot, `voc untagged`, an analyst's read-only
# query) holds the file for a second or two; a writer waits for it this long
# instead of failing the run.
LOCK_WAIT_S = 30.0


def _connect_waiting(path: Path, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def open_warehouse(path: Path | str, lock_wait_s: float = LOCK_WAIT_S) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file with every raw table created; waits up
    to `lock_wait_s` while another process holds the file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_waiting(path, lock_wait_s)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for table in RAW_TABLES.values():
        con.execute(table.ddl())
        existing = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = ? AND table_name = ?",
                [RAW_SCHEMA, table.name],
            ).fetchall()
        }
        for statement in table.added_columns_ddl(existing):
            con.execute(statement)
    ensure_loop_tables(con)
    return con


def _column(rows: list[dict[str, Any]], name: str, sql_type: str) -> pa.Array:
    values = [row.get(name) for row in rows]  # one pass per column: no per-value branching
    if sql_type == "JSON":
        values = [None if v is None else orjson.dumps(v).decode() for v in values]
    return pa.array(values, type=_ARROW[sql_type])


def upsert(con: duckdb.DuckDBPyConnection, table: RawTable, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows whose id is not there yet; return how many were new."""
    rows = list(rows)
    if not rows:
        return 0
    batch = pa.table({c.name: _column(rows, c.name, c.sql_type) for c in table.columns})
    select = ", ".join(
        f"CAST({c.name} AS {c.sql_type})" if c.sql_type in ("TIMESTAMP", "JSON") else c.name
        for c in table.columns
    )
    names = ", ".join(table.column_names)
    with _lock:
        cur = con.cursor()
        try:
            cur.register("_voc_batch", batch)
            # DuckDB answers an INSERT with the number of rows it inserted:
            # ignored duplicates (already stored, or twice in the batch) are not counted.
            inserted = cur.execute(
                f"INSERT OR IGNORE INTO {table.qualified} ({names}) SELECT {select} FROM _voc_batch"
            ).fetchall()[0][0]
            cur.unregister("_voc_batch")
        finally:
            cur.close()
    return inserted


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        name: con.execute(f"SELECT count(*) FROM {t.qualified}").fetchall()[0][0]
        for name, t in RAW_TABLES.items()
    }
