"""DetectBreakpoints under Beam's TestStream: the pure engine in Beam state, judged
on 5-minute steps as the watermark passes them, one alert per episode."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from tests.pipeline.teststream import streaming
from voc.catalog import load_catalog
from voc.contracts.validate import from_micros
from voc.detect.engine import EngineParams
from voc.detect.rate import RateParams
from voc.pipeline.detect import DetectBreakpoints

SID = "common.payment.payment_failed"
S = 1_000_000
STEP = 300
PARAMS = EngineParams(contact=RateParams(warmup_steps=12))


def app_batch(step: int) -> TimestampedValue:
    """Traffic: four journeys starting (ecommerce presale) in a step."""
    rows = [
        {
            "event_time": from_micros((step * STEP + 10 + 60 * i) * S),
            "domain": "ecommerce",
            "journey_stage": "presale",
            "event_name": "page_view",
            "order_id": None,
            "session_id": f"s-{step}-{i}",
        }
        for i in range(4)
    ]
    return TimestampedValue(("app", rows), step * STEP + 10)


def contact_batch(step: int, n: int, text: str = "付款失败") -> TimestampedValue:
    rows = [
        {
            "contact_id": f"c-{step}-{i}",
            "channel": "call",
            "event_time": from_micros((step * STEP + 20 + i) * S),
            "domain": "ecommerce",
            "customer_id": f"cus-{step}-{i}",
            "order_id": None,
            "text": text,
            "journey_stage": None,
            "scenario_id": SID,
        }
        for i in range(n)
    ]
    return TimestampedValue(("contact", rows), step * STEP + 20)


def run(per_step: dict[int, int], steps: int, extra: dict[int, str] | None = None):
    stream = TestStream()
    for step in range(steps):
        elements = [app_batch(step)]
        if per_step.get(step):
            elements.append(contact_batch(step, per_step[step]))
        if extra and step in extra:
            elements.append(contact_batch(step, 1, extra[step]))
        stream = stream.add_elements(elements).advance_watermark_to((step + 1) * STEP)
    stream = stream.advance_watermark_to_infinity()
    with beam.Pipeline(options=streaming()) as p:
        tagged = p | stream
        contacts = tagged | "Contacts" >> beam.FlatMap(lambda e: [e[1]][: e[0] == "contact"])
        apps = tagged | "Apps" >> beam.FlatMap(lambda e: [e[1]][: e[0] == "app"])
        social = p | "NoSocial" >> beam.Create([])
        alerts = (contacts, apps, social) | DetectBreakpoints(load_catalog(), PARAMS)
        yield alerts


def test_a_burst_alerts_once_per_episode_and_rearms():
    # GIVEN steady traffic, a payment-failed contact now and then, a burst of 8
    # contacts in one step, quiet until the burst has left the 2-hour window and
    # the key has been quiet for an hour, then a second burst
    per_step = {s: 1 for s in range(0, 40, 9)} | {40: 8, 41: 3, 90: 9}
    for alerts in run(per_step, 95):
        # THEN exactly two contact_spike alerts, at the end of each burst's first step
        assert_that(
            alerts
            | beam.Map(lambda a: (a["kind"], a["key"], a["window_end"], a["suggested_owner"])),
            equal_to(
                [
                    (
                        "contact_spike",
                        f"common|payment|{SID}",
                        from_micros(41 * STEP * S),
                        "payment_ops",
                    ),
                    (
                        "contact_spike",
                        f"common|payment|{SID}",
                        from_micros(91 * STEP * S),
                        "payment_ops",
                    ),
                ]
            ),
        )


def test_a_threat_is_an_urgent_alert_for_that_contact_within_its_step():
    # GIVEN quiet contacts and one that threatens to call 12315
    for alerts in run({}, 20, extra={15: "再不退款我就打12315投诉你们"}):
        # THEN one urgent emotion_escalation alert, raised at the end of its step
        assert_that(
            alerts | beam.Map(lambda a: (a["kind"], a["key"], a["severity"], a["window_end"])),
            equal_to([("emotion_escalation", "c-15-0", "urgent", from_micros(16 * STEP * S))]),
        )
