"""ValidateEvents: schema validation at the edge, with dead letters, on whole
batches of raw records (a file chunk or a Kafka poll): Beam's per-element cost
is paid once per batch, not once per record."""

from __future__ import annotations

from collections import defaultdict

import apache_beam as beam
from apache_beam.metrics import Metrics

from voc.contracts.streams import INPUT_STREAMS
from voc.contracts.validate import DeadLetter, to_micros, validate_record
from voc.pipeline.coders import as_batches
from voc.pipeline.elements import RawRecord, ValidRecord

DEAD_LETTERS = "dead_letters"


class ValidateBatchFn(beam.DoFn):
    def __init__(self) -> None:
        self.valid = Metrics.counter("validate", "valid")
        self.invalid = Metrics.counter("validate", "dead_letters")

    def process(self, batch: list[RawRecord]):
        rows: dict[str, list[dict]] = defaultdict(list)
        valid: list[ValidRecord] = []
        dead: list[dict] = []
        streams = {str(s): s for s in INPUT_STREAMS}
        for raw in batch:
            result = validate_record(streams[raw.stream], raw.payload, raw.source)
            if isinstance(result, DeadLetter):
                dead.append(result.to_dict())
                continue
            valid.append(ValidRecord(raw.stream, to_micros(result["event_time"]), result))
            rows[raw.stream].append(result)
        self.valid.inc(len(valid))
        self.invalid.inc(len(dead))
        for stream, records in rows.items():
            yield beam.pvalue.TaggedOutput(stream, records)
        if dead:
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, dead)
        if valid:
            yield valid


class ValidateEvents(beam.PTransform):
    """list[RawRecord] -> outputs, each element a batch:

    - main (`valid`): list[ValidRecord] (event time parsed from the payload);
    - one output per stream name: list of that stream's schema-valid dicts;
    - `dead_letters`: list of dead-letter dicts (schemas/dead_letter.schema.json).

    Nothing is dropped: every record of a batch comes out valid or dead.
    """

    def expand(self, raw_batches):
        outputs = raw_batches | "Validate" >> beam.ParDo(ValidateBatchFn()).with_outputs(
            DEAD_LETTERS, *(str(s) for s in INPUT_STREAMS), main="valid"
        )
        as_batches(*(outputs[tag] for tag in ("valid", DEAD_LETTERS, *map(str, INPUT_STREAMS))))
        return outputs
