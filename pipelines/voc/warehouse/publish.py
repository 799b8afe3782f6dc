"""Publish what the warehouse holds to the alert and dead-letter topics: an
outbox, run by the process that loads the raw store (voc.warehouse.load).

Publishing from what is stored, not from the job's in-flight elements, makes
the topics follow the tables whatever the runner fuses and wherever a job is
killed: a row is published after it is durable, and marked published
(`voc_store.published`) only after the broker acknowledged it (every send's
future is checked). A crash between the two publishes it again with the same
key; consumers dedupe by key. Nothing stored is left unpublished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import kafka.errors
import orjson

from voc.kafka.clients import BrokerUnavailable
from voc.kafka.topics import ALERTS, DEAD_LETTERS
from voc.warehouse.tables import RAW_TABLES

_LEDGER = "voc_store.published"
_PERMANENT = (kafka.errors.MessageSizeTooLargeError, kafka.errors.RecordListTooLargeError)
log = logging.getLogger(__name__)
# What a broker outage looks like to the publisher: try again later.
PUBLISH_ERRORS = (kafka.errors.KafkaError, BrokerUnavailable, TimeoutError)


@dataclass(frozen=True)
class Outbox:
    table: str
    topic: str


OUTBOXES = (Outbox("alerts", ALERTS), Outbox("dead_letters", DEAD_LETTERS))


def _ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS voc_store")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {_LEDGER} "
        "(topic VARCHAR, id VARCHAR, published_at TIMESTAMP DEFAULT current_timestamp, "
        "error VARCHAR, PRIMARY KEY (topic, id))"
    )


def unpublished(con: duckdb.DuckDBPyConnection, box: Outbox, limit: int = 50_000) -> list[dict]:
    _ensure_ledger(con)
    table = RAW_TABLES[box.table]
    cols = table.column_names
    rows = con.execute(
        f"SELECT {', '.join(cols)} FROM {table.qualified} "
        f"WHERE {table.key} NOT IN (SELECT id FROM {_LEDGER} WHERE topic = ?) "
        f"ORDER BY {table.key} LIMIT {int(limit)}",
        [box.topic],
    ).fetchall()
    return [{"schema_version": "1", **dict(zip(cols, r, strict=True))} for r in rows]


def publish_stored(con: duckdb.DuckDBPyConnection, producer, timeout_s: float = 30) -> dict:
    """Publish every stored alert and dead letter not published yet, keyed by
    its id; return {topic: rows published}. Raises when the broker does not
    acknowledge (the rows stay unpublished and are tried again next time)."""
    out = {}
    for box in OUTBOXES:
        rows = unpublished(con, box)
        if not rows:
            continue
        key = RAW_TABLES[box.table].key
        futures = [
            producer.send(
                box.topic,
                key=str(row[key]).encode(),
                value=orjson.dumps(row, default=str),
            )
            for row in rows
        ]
        producer.flush(timeout=timeout_s)
        done = []
        for row, f in zip(rows, futures, strict=True):
            try:
                f.get(timeout=timeout_s)
                done.append([box.topic, str(row[key]), None])
            except _PERMANENT as exc:
                # The broker will never take it (too large): keep why, don't retry forever.
                log.error("%s %s cannot be published: %s", box.topic, row[key], exc)
                done.append([box.topic, str(row[key]), f"{type(exc).__name__}: {exc}"])
        con.executemany(
            f"INSERT OR IGNORE INTO {_LEDGER} (topic, id, error) VALUES (?, ?, ?)", done
        )
        out[box.topic] = sum(1 for d in done if d[2] is None)
    return out


def make_producer(bootstrap: str):
    from kafka import KafkaProducer

    from voc.kafka.clients import CLIENT_ID, short_timeouts

    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=CLIENT_ID,
        acks="all",
        linger_ms=20,
        **short_timeouts(10),
    )
