"""ValidateEvents: schema validation at the edge, with dead letters."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import TimestampedValue

from voc.contracts.streams import Stream
from voc.contracts.validate import DeadLetter, parse_time, validate_record
from voc.pipeline.elements import RawRecord, ValidRecord

DEAD_LETTERS = "dead_letters"


class ValidateRecordFn(beam.DoFn):
    def __init__(self) -> None:
        self.valid = Metrics.counter("validate", "valid")
        self.invalid = Metrics.counter("validate", "dead_letters")

    def process(self, raw: RawRecord):
        result = validate_record(Stream(raw.stream), raw.payload, raw.source)
        if isinstance(result, DeadLetter):
            self.invalid.inc()
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, result.to_dict())
            return
        self.valid.inc()
        ts = parse_time(result["event_time"])
        ts_us = int(ts.timestamp()) * 1_000_000 + ts.microsecond
        yield TimestampedValue(ValidRecord(raw.stream, ts_us, result), ts_us / 1e6)


class ValidateEvents(beam.PTransform):
    """RawRecord -> main output ValidRecord, timestamped with its payload's event
    time; `dead_letters` output: dead-letter dicts (schemas/dead_letter.schema.json).

    Nothing is dropped: every input element comes out of exactly one output.
    """

    def expand(self, raw):
        return raw | "Validate" >> beam.ParDo(ValidateRecordFn()).with_outputs(
            DEAD_LETTERS, main="valid"
        )
