"""ValidateEvents: schema validation at the edge, with dead letters, on whole
batches of raw records (a file chunk or a Kafka poll): Beam's per-element cost
is paid once per batch, not once per record."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from voc.contracts.streams import INPUT_STREAMS, Stream
from voc.contracts.validate import Rejected, dead_letter, parse_payload, to_micros
from voc.pipeline.coders import as_batches
from voc.pipeline.contacts import CONTACT_STREAMS
from voc.pipeline.elements import RawBatch, StoreBatch, ValidRecord

DEAD_LETTERS = "dead_letters"


class ValidateBatchFn(beam.DoFn):
    def __init__(self) -> None:
        self.valid = Metrics.counter("validate", "valid")
        self.invalid = Metrics.counter("validate", "dead_letters")

    def process(self, batch: RawBatch):
        stream = Stream(batch.stream)  # once per batch: a batch is one stream
        rows: list[dict] = []
        kept: list[int] = []
        dead: list[dict] = []
        for position, payload in zip(batch.positions, batch.payloads, strict=True):
            result = parse_payload(stream, payload)
            if isinstance(result, Rejected):
                source = f"{batch.source_prefix}{position}"
                dead.append(dead_letter(batch.stream, source, result.reason, payload).to_dict())
            else:
                rows.append(result)
                kept.append(position)
        self.valid.inc(len(rows))
        self.invalid.inc(len(dead))
        if batch.positions:
            # Always, even with no valid row: the store records the range as read.
            first = batch.positions[0] if batch.covers_from is None else batch.covers_from
            yield beam.pvalue.TaggedOutput(
                batch.stream,
                StoreBatch(
                    batch.stream, batch.source_prefix, first, batch.positions[-1], rows, kept, dead
                ),
            )
        if rows and stream in CONTACT_STREAMS:
            # Only these can hold contacts: app events go to their table only.
            yield [ValidRecord(batch.stream, to_micros(r["event_time"]), r) for r in rows]
        if dead:
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, dead)


class ValidateEvents(beam.PTransform):
    """RawBatch -> outputs, each element a batch:

    - main (`contact_records`): list[ValidRecord] (event time parsed from the
      payload) of the streams that can hold contacts (calls, ticket events,
      social posts);
    - one output per stream name: a StoreBatch per input batch (its
      schema-valid dicts and dead letters, and the source range it covers);
    - `dead_letters`: list of dead-letter dicts (schemas/dead_letter.schema.json).

    Nothing is dropped: every record of a batch comes out valid or dead.
    """

    def expand(self, raw_batches):
        outputs = raw_batches | "Validate" >> beam.ParDo(ValidateBatchFn()).with_outputs(
            DEAD_LETTERS, *(str(s) for s in INPUT_STREAMS), main="contact_records"
        )
        tags = ("contact_records", DEAD_LETTERS, *map(str, INPUT_STREAMS))
        as_batches(*(outputs[tag] for tag in tags))
        return outputs
