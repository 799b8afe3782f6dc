"""Validate and mask a whole batch of raw records: the edge, without Beam.

Every record of a batch comes out exactly once: as a schema-valid, in-range,
masked record of its stream, or as a dead letter. Nothing raised by one
record can stop the batch (an unexpected error becomes a dead letter of kind
`invalid` that names it), so nothing can stop the job at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from voc.contracts.streams import Stream
from voc.contracts.validate import (
    DEFAULT_RULES,
    EdgeRules,
    Rejected,
    dead_letter,
    parse_payload,
)
from voc.privacy.mask import Masker
from voc.privacy.records import mask_record

KAFKA_REFERENCE = "its Kafka record timestamp"
FILE_REFERENCE = "the run's reference time"


class CheckedBatch(NamedTuple):
    rows: list[dict[str, Any]]  # valid, masked records
    dead: list[dict[str, Any]]  # dead-letter dicts (schemas/dead_letter.schema.json)
    positions: list[int]  # where each of `rows` came from


def check_batch(
    stream: Stream,
    source_prefix: str,
    positions: Sequence[int],
    payloads: Sequence[bytes],
    masker: Masker,
    rules: EdgeRules = DEFAULT_RULES,
    timestamps_ms: Sequence[int] | None = None,
    reference_us: int | None = None,
) -> CheckedBatch:
    """`timestamps_ms`: each record's Kafka timestamp, the reference its event
    time is bounded against; else `reference_us` for all (files); else none."""
    rows: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []
    kept: list[int] = []
    name = str(stream)
    label = KAFKA_REFERENCE if timestamps_ms is not None else FILE_REFERENCE
    for i, (position, payload) in enumerate(zip(positions, payloads, strict=True)):
        reference = reference_us
        if timestamps_ms is not None:  # -1: a record without a timestamp is not bounded
            reference = timestamps_ms[i] * 1000 if timestamps_ms[i] >= 0 else None
        try:
            result = parse_payload(stream, payload, rules, reference, label)
            if not isinstance(result, Rejected):
                rows.append(mask_record(name, result, masker))
                kept.append(position)
                continue
        except Exception as exc:  # errors are data: one record never stops the batch
            result = Rejected(f"unexpected error at the edge: {type(exc).__name__}: {exc}")
        dead.append(
            dead_letter(
                name,
                f"{source_prefix}{position}",
                result.reason,
                payload,
                kind=result.kind,
                max_excerpt_bytes=rules.max_excerpt_bytes,
            ).to_dict()
        )
    return CheckedBatch(rows, dead, kept)
