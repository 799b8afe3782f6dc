"""The typed elements that flow between the pipeline's stages."""

from __future__ import annotations

from typing import Any, NamedTuple


class RawBatch(NamedTuple):
    """Records of one stream exactly as they arrived (file lines or Kafka
    message values), column-wise: a file chunk or one Kafka poll. Record i
    came from `f"{source_prefix}{positions[i]}"` (file:line or
    topic/partition/offset); the string is only built for a dead letter."""

    stream: str  # a voc.contracts.streams.Stream value
    source_prefix: str  # "file.jsonl:" or "topic/partition/"
    positions: list[int]  # line numbers or offsets
    payloads: list[bytes]
    # The first position this read covers (a Kafka reader's position before
    # the poll: offsets with no record, e.g. transaction markers, are covered
    # too); None = the first record's.
    covers_from: int | None = None
    # Kafka: each record's timestamp, what its event time is bounded against
    # (DECISIONLOG.md "Time"); files: None (the run's reference time).
    timestamps_ms: list[int] | None = None


class StoreBatch(NamedTuple):
    """What one RawBatch leaves for the raw store: its valid rows (with their
    positions) and its dead letters, and the source range it covers, written
    together (voc.warehouse.store: the range is the name of the rows' file)."""

    stream: str
    source_prefix: str
    first: int
    last: int
    rows: list[dict[str, Any]]
    positions: list[int]
    dead_letters: list[dict[str, Any]]


class ValidRecord(NamedTuple):
    """A record that passed its stream's schema."""

    stream: str
    event_time_us: int  # microseconds since the epoch, UTC
    record: dict[str, Any]


class Contact(NamedTuple):
    """A customer reaching out: a call, a ticket opened without a call, a social post."""

    contact_id: str
    channel: str  # call | ticket | social
    event_time_us: int
    domain: str
    customer_id: str | None
    order_id: str | None
    text: str
    language: str
    entry_point: str | None
    category_code: str | None
    # the ticket it opened, and the customer's earlier ticket it names (a return)
    ticket_id: str | None = None
    related_ticket_id: str | None = None


class StitchedContact(NamedTuple):
    contact: Contact
    journey_stage: str | None
    recent_events: tuple[str, ...]
    is_late: bool
