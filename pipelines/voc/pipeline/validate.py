"""ValidateEvents: schema validation at the edge, with dead letters, on whole
batches of raw records (a file chunk or a Kafka poll): Beam's per-element cost
is paid once per batch, not once per record."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from voc.contracts.batch import check_batch
from voc.contracts.streams import INPUT_STREAMS, Stream
from voc.contracts.validate import DEFAULT_RULES, EdgeRules, to_micros
from voc.pipeline.coders import as_batches
from voc.pipeline.contacts import CONTACT_STREAMS
from voc.pipeline.elements import RawBatch, StoreBatch, ValidRecord

DEAD_LETTERS = "dead_letters"


class ValidateBatchFn(beam.DoFn):
    def __init__(self, rules: EdgeRules, pii_key: str, reference_us: int | None) -> None:
        self.rules = rules
        self.pii_key = pii_key
        self.reference_us = reference_us
        self.valid = Metrics.counter("validate", "valid")
        self.invalid = Metrics.counter("validate", "dead_letters")

    def setup(self) -> None:
        from voc.privacy.mask import Masker

        self.masker = Masker(bytes.fromhex(self.pii_key))

    def process(self, batch: RawBatch):
        stream = Stream(batch.stream)  # once per batch: a batch is one stream
        rows, dead, kept = check_batch(
            stream,
            batch.source_prefix,
            batch.positions,
            batch.payloads,
            self.masker,
            self.rules,
            batch.timestamps_ms,
            self.reference_us,
        )
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
    Valid records leave with their free text masked (voc.privacy) and the
    keyed hashes of masked phones and emails in `pii_keys`; dead letters carry
    a bounded, masked excerpt. `rules` bound size, ranges and event time
    (against each Kafka record's timestamp, or `reference_us` for files).
    """

    def __init__(
        self,
        pii_key: str,
        rules: EdgeRules = DEFAULT_RULES,
        reference_us: int | None = None,
    ) -> None:
        super().__init__()
        self.pii_key, self.rules, self.reference_us = pii_key, rules, reference_us

    def expand(self, raw_batches):
        validate = ValidateBatchFn(self.rules, self.pii_key, self.reference_us)
        outputs = raw_batches | "Validate" >> beam.ParDo(validate).with_outputs(
            DEAD_LETTERS, *(str(s) for s in INPUT_STREAMS), main="contact_records"
        )
        tags = ("contact_records", DEAD_LETTERS, *map(str, INPUT_STREAMS))
        as_batches(*(outputs[tag] for tag in tags))
        return outputs
