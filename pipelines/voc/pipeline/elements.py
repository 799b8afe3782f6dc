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


class StitchedContact(NamedTuple):
    contact: Contact
    journey_stage: str | None
    recent_events: tuple[str, ...]
    is_late: bool
