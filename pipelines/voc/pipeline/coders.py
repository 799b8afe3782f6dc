"""BatchCoder: the coder of the pipeline's fat elements (lists of records).

Beam samples the byte size of elements as they pass (a monitoring metric) by
encoding them; with the default pickle-based coder that means pickling a
2,000-record batch just to measure it, many times per bundle. This coder
estimates a batch's size from its length (a RawBatch: its payload bytes)
instead; encoding is pickle."""

from __future__ import annotations

import pickle
from typing import Any

from apache_beam.coders import Coder, registry

from voc.pipeline.elements import RawBatch, StoreBatch

# A typical record of ours pickles to a few hundred bytes; the metric is an
# estimate either way.
BYTES_PER_RECORD = 400


class BatchCoder(Coder):
    def encode(self, value: Any) -> bytes:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def decode(self, encoded: bytes) -> Any:
        return pickle.loads(encoded)

    def estimate_size(self, value: Any) -> int:
        if isinstance(value, RawBatch):
            return sum(map(len, value.payloads))
        if isinstance(value, StoreBatch):
            return BYTES_PER_RECORD * (len(value.rows) + len(value.dead_letters))
        try:
            return BYTES_PER_RECORD * len(value)
        except TypeError:
            return BYTES_PER_RECORD

    def is_deterministic(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


class RecordBatch(list):
    """The type hint of a PCollection whose elements are batches: it selects
    BatchCoder (`.with_output_types(RecordBatch)`, or `as_batches` for tagged
    outputs). The elements stay plain lists at run time, so this hint is for
    coder selection, not for --runtime_type_check."""


registry.register_coder(RecordBatch, BatchCoder)


def as_batches(*pcolls) -> None:
    """Mark PCollections of list elements as batches, so that BatchCoder is used."""
    for pcoll in pcolls:
        pcoll.element_type = RecordBatch
