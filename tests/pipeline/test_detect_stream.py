"""DetectBreakpoints under Beam's TestStream: windowed counts against the key's
own baseline, one alert per episode, re-armed after quiet windows."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from voc.contracts.validate import from_micros
from voc.detect.spike import SpikeParams
from voc.pipeline.detect import DetectBreakpoints

SID = "common.payment.payment_failed"
S = 1_000_000
PARAMS = SpikeParams(window_s=60, warmup_windows=5, min_count=5, rearm_windows=2)


def contacts_in_window(w: int, n: int, scenario: str | None = SID) -> list[TimestampedValue]:
    """One batch of n tagged contacts inside minute w, as TagRootCause emits it."""
    row = {"domain": "ecommerce", "scenario_id": scenario, "journey_stage": "order"}
    batch = [
        {**row, "contact_id": f"c-{w}-{i}", "event_time": from_micros((w * 60 + 1 + i % 50) * S)}
        for i in range(n)
    ]
    return [TimestampedValue(batch, w * 60 + 1)]


def streaming() -> PipelineOptions:
    opts = PipelineOptions(runner="DirectRunner")
    opts.view_as(StandardOptions).streaming = True
    return opts


def test_spike_alerts_once_per_episode_and_rearms():
    # GIVEN one contact a minute for 8 minutes, a 3-minute spike, quiet, a second spike
    per_window = [1, 1, 2, 1, 1, 1, 1, 1, 12, 15, 14, 1, 0, 1, 0, 0, 13, 1]
    stream = TestStream()
    for w, n in enumerate(per_window):
        if n:
            stream = stream.add_elements(contacts_in_window(w, n))
        stream = stream.advance_watermark_to((w + 1) * 60)
    stream = stream.advance_watermark_to_infinity()
    with beam.Pipeline(options=streaming()) as p:
        # WHEN the detector runs on the stream
        alerts = (
            p
            | stream
            | DetectBreakpoints(
                PARAMS,
                stage_of={SID: "payment"},
                owner_of={SID: "payment_ops"},
                allowed_lateness_s=0,
            )
        )
        # THEN exactly two alerts: the first window of each episode, with evidence
        assert_that(
            alerts
            | beam.Map(
                lambda a: (a["window_start"], a["count"], a["journey_stage"], a["suggested_owner"])
            ),
            equal_to(
                [
                    ("1970-01-01T00:08:00Z", 12, "payment", "payment_ops"),
                    ("1970-01-01T00:16:00Z", 13, "payment", "payment_ops"),
                ]
            ),
        )


def test_untagged_contacts_are_keyed_by_journey_stage():
    stream = TestStream()
    for w in range(6):
        stream = stream.add_elements(contacts_in_window(w, 1, None)).advance_watermark_to(
            (w + 1) * 60
        )
    stream = (
        stream.add_elements(contacts_in_window(6, 20, None))
        .advance_watermark_to(7 * 60)
        .advance_watermark_to_infinity()
    )
    with beam.Pipeline(options=streaming()) as p:
        alerts = p | stream | DetectBreakpoints(PARAMS, {}, {}, allowed_lateness_s=0)
        assert_that(
            alerts | beam.Map(lambda a: (a["scenario_id"], a["journey_stage"], a["count"])),
            equal_to([("untagged", "order", 20)]),
        )


def test_a_replayed_contact_counts_once():
    # GIVEN a quiet key whose spike window holds 4 distinct contacts, each replayed 3 times
    stream = TestStream()
    for w in range(6):
        stream = stream.add_elements(contacts_in_window(w, 1)).advance_watermark_to((w + 1) * 60)
    stream = (
        stream.add_elements(contacts_in_window(6, 4) * 3)  # the same batch three times
        .advance_watermark_to(7 * 60)
        .advance_watermark_to_infinity()
    )
    with beam.Pipeline(options=streaming()) as p:
        alerts = p | stream | DetectBreakpoints(PARAMS, {SID: "payment"}, {}, allowed_lateness_s=0)
        # THEN 4 < min_count 5: no alert, as if each contact came once
        assert_that(alerts, equal_to([]))
