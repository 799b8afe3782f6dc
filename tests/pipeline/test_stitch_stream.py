"""StitchJourneys under Beam's TestStream: out-of-order and late records in
event time, journey events read back from the raw store's Parquet files."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from tests.pipeline.teststream import streaming
from voc.contracts.validate import from_micros
from voc.pipeline.elements import Contact, StoreBatch
from voc.pipeline.sink import WriteRanges
from voc.pipeline.stitch import StitchJourneys

S = 1_000_000


def app_event(t_s: int, stage: str, name: str) -> TimestampedValue:
    """A read of one app event, as ValidateEvents hands it to the app_events sink."""
    rec = {
        "event_id": f"app-{t_s}",
        "event_time": from_micros(t_s * S),
        "domain": "ecommerce",
        "customer_id": "cus-1",
        "journey_stage": stage,
        "event_name": name,
        "order_id": "o1",
    }
    return TimestampedValue(StoreBatch("app_events", "app.jsonl:", t_s, t_s, [rec], [t_s], []), t_s)


def contact(cid: str, t_s: int, customer: str | None = "cus-1") -> TimestampedValue:
    c = Contact(cid, "call", t_s * S, "ecommerce", customer, "o1", "text", "zh", None, None)
    return TimestampedValue([c], t_s)


def test_out_of_order_journey_event_counts_and_late_records_are_kept_and_flagged(tmp_path):
    # GIVEN a customer's journey where the 150 s event arrives after the 200 s contact
    # (out of order, but before the watermark passes 200 s), then, after the
    # watermark passed 300 s, a late journey event (180 s) and a late contact (190 s)
    stream = (
        TestStream(output_tags={"app", "contacts"})
        .add_elements([app_event(100, "order", "order_created")], tag="app")
        .add_elements(
            [contact("c-on-time", 200), contact("c-anonymous", 210, None)], tag="contacts"
        )
        .advance_watermark_to(120, tag="app")
        .advance_watermark_to(120, tag="contacts")
        .add_elements([app_event(150, "payment", "payment_failed")], tag="app")
        .advance_watermark_to(300, tag="app")
        .advance_watermark_to(300, tag="contacts")
        .add_elements([app_event(180, "payment", "payment_retry")], tag="app")
        .advance_processing_time(1)
        .add_elements([contact("c-late", 190)], tag="contacts")
        .advance_watermark_to(400, tag="app")
        .advance_watermark_to(400, tag="contacts")
        .advance_watermark_to_infinity(tag="app")
        .advance_watermark_to_infinity(tag="contacts")
    )
    store = str(tmp_path / "store")
    with beam.Pipeline(options=streaming()) as p:
        # WHEN the contacts are stitched, the journey events stored first
        inputs = p | stream
        stored = inputs["app"] | WriteRanges(store)
        stitched = (stored, inputs["contacts"]) | StitchJourneys(store, lookback_s=3600, recent_n=5)
        out = stitched | beam.FlatMap(
            lambda batch: [
                (s.contact.contact_id, s.journey_stage, s.recent_events, s.is_late) for s in batch
            ]
        )
        # THEN the on-time contact saw the out-of-order event, not the late one;
        # the late contact is flagged and sees everything before its time;
        # the anonymous one passes through with no journey
        assert_that(
            out,
            equal_to(
                [
                    ("c-on-time", "payment", ("order_created", "payment_failed"), False),
                    (
                        "c-late",
                        "payment",
                        ("order_created", "payment_failed", "payment_retry"),
                        True,
                    ),
                    ("c-anonymous", None, (), False),
                ]
            ),
        )
