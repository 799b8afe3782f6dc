"""TagRootCause: a scenario id, confidence, method and evidence for every contact."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import TimestampedValue

from voc.contracts.streams import SCHEMA_VERSION
from voc.contracts.validate import from_micros
from voc.pipeline.coders import RecordBatch
from voc.pipeline.elements import StitchedContact
from voc.tagging.base import TagContext


class TagBatchFn(beam.DoFn):
    """list[StitchedContact] -> list of tagged-contact dicts
    (schemas/tagged_contact.schema.json), timestamped with the oldest contact's event time."""

    def __init__(
        self, catalog_path: str, model_path: str | None, labels_path: str | None = None
    ) -> None:
        self.catalog_path = catalog_path
        self.model_path = model_path
        self.labels_path = labels_path
        self.tagged = Metrics.counter("tag", "tagged")
        self.untagged = Metrics.counter("tag", "untagged")

    def setup(self) -> None:
        from voc.tagging.hybrid import build_tagger

        self.tagger = build_tagger(self.catalog_path, self.model_path, labels_path=self.labels_path)

    def process(self, batch: list[StitchedContact]):
        contexts = [
            TagContext(
                domain=s.contact.domain,
                channel=s.contact.channel,
                language=s.contact.language,
                journey_stage=s.journey_stage,
                recent_events=s.recent_events,
                entry_point=s.contact.entry_point,
                category_code=s.contact.category_code,
            )
            for s in batch
        ]
        tags = self.tagger.tag_batch([s.contact.text for s in batch], contexts)
        rows = []
        for s, tag in zip(batch, tags, strict=True):
            c = s.contact
            (self.tagged if tag else self.untagged).inc()
            row = {
                "schema_version": SCHEMA_VERSION,
                "contact_id": c.contact_id,
                "channel": c.channel,
                "event_time": from_micros(c.event_time_us),
                "domain": c.domain,
                "customer_id": c.customer_id,
                "order_id": c.order_id,
                "ticket_id": c.ticket_id,
                "related_ticket_id": c.related_ticket_id,
                "text": c.text,
                "language": c.language,
                "journey_stage": s.journey_stage,
                "recent_events": list(s.recent_events),
                "is_late": s.is_late,
                "scenario_id": tag.scenario_id if tag else None,
                "confidence": round(tag.confidence, 4) if tag else 0.0,
                "method": tag.method if tag else "untagged",
                "evidence": tag.evidence if tag else "no signal, keyword or model reached the bar",
            }
            rows.append(row)
        if rows:
            yield TimestampedValue(rows, min(s.contact.event_time_us for s in batch) / 1e6)


class TagRootCause(beam.PTransform):
    """list[StitchedContact] -> list of tagged-contact dicts, one batch out per
    batch in, so that the keyword automaton and the text model see many texts
    per call. Event time: the batch carries its oldest contact's time; each row
    its own `event_time`."""

    def __init__(
        self, catalog_path: str, model_path: str | None, labels_path: str | None = None
    ) -> None:
        super().__init__()
        self.catalog_path = catalog_path
        self.model_path = model_path
        self.labels_path = labels_path

    def expand(self, stitched):
        return stitched | "Tag" >> beam.ParDo(
            TagBatchFn(self.catalog_path, self.model_path, self.labels_path)
        ).with_output_types(RecordBatch)
