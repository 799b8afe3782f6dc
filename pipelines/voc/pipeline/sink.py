"""WriteToWarehouse: idempotent batched upserts into the DuckDB raw tables."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from voc.warehouse.tables import RAW_TABLES


class UpsertBatchFn(beam.DoFn):
    """list[dict] -> (table, rows newly inserted). INSERT OR IGNORE by the table's
    id: a replayed record (re-run, restart) adds nothing."""

    def __init__(self, table: str, warehouse: str) -> None:
        self.table = table
        self.warehouse = warehouse
        self.inserted = Metrics.counter("sink", f"{table}_inserted")

    def setup(self) -> None:
        from voc.warehouse.duck import shared_connection

        self.con = shared_connection(self.warehouse)

    def process(self, rows: list[dict]):
        from voc.warehouse.duck import upsert

        n = upsert(self.con, RAW_TABLES[self.table], rows)
        self.inserted.inc(n)
        yield self.table, n


class WriteToWarehouse(beam.PTransform):
    """dict rows of one raw table -> (table, inserted count) per batch.

    `batched`: the input elements already are lists of rows (one upsert each);
    otherwise single rows are batched first (up to `max_batch_size`)."""

    def __init__(
        self, table: str, warehouse: str, max_batch_size: int = 1000, *, batched: bool = False
    ) -> None:
        super().__init__()
        if table not in RAW_TABLES:
            raise ValueError(f"unknown raw table {table!r}; known: {sorted(RAW_TABLES)}")
        self.table = table
        self.warehouse = warehouse
        self.max_batch_size = max_batch_size
        self.batched = batched

    def expand(self, rows):
        if not self.batched:
            rows = rows | "Batch" >> beam.BatchElements(
                min_batch_size=1, max_batch_size=self.max_batch_size
            )
        return rows | "Upsert" >> beam.ParDo(UpsertBatchFn(self.table, self.warehouse))
