"""Stitching asks the store, not the runner's watermark, when a contact's
journey is complete (DECISIONLOG.md, "Stitching").

The failure this guards against was seen in the chaos test's uninterrupted
run: Prism moved the stitching stage's watermark an hour past a journey
partition whose records were not stored yet, 301 contacts were stitched with
part of their journey missing, and one alert's episode started a step off.
Here the runner is left out: the DoFn's own methods are called in the order a
runner could call them, with the watermark timer firing early."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voc.pipeline.elements import Contact
from voc.pipeline.stitch import _CONTACTS, _STORED, INPUT_ENDED, StitchShardFn
from voc.stitch.lookup import JourneyIndex
from voc.warehouse.store import RawStore, kafka_source

TOPIC = "voc.app_events"
P0, P1 = kafka_source(TOPIC, 0), kafka_source(TOPIC, 1)
DISORDER_US = 600 * 1_000_000


def us(hhmm: str) -> int:
    h, m = map(int, hhmm.split(":"))
    return int(datetime(2026, 11, 2, h, m, tzinfo=UTC).timestamp() * 1_000_000)


def iso(t_us: int) -> str:
    return datetime.fromtimestamp(t_us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def store_events(store: RawStore, source: str, first: int, events: list[tuple[str, str, str]]):
    """(customer, event name, hh:mm) read from `source` at offsets first.."""
    rows = [
        {
            "event_id": f"{source}{first + i}",
            "event_time": iso(us(t)),
            "domain": "ecommerce",
            "customer_id": customer,
            "journey_stage": "order",
            "event_name": name,
        }
        for i, (customer, name, t) in enumerate(events)
    ]
    last = first + max(len(events), 1) - 1
    store.write_range("app_events", source, first, last, rows, list(range(first, last + 1)))
    return last + 1


class FixedBounds:
    """The broker's answer, fixed (TopicBounds' interface)."""

    def __init__(self, bounds):
        self.bounds = bounds

    def __call__(self):
        return self.bounds

    def close(self):
        pass


class FakeState:
    def __init__(self):
        self.value = None

    def read(self):
        return self.value

    def write(self, value):
        self.value = value


class FakeTimer:
    def __init__(self):
        self.set_at = []

    def set(self, ts, dynamic_timer_tag=""):
        self.set_at.append((ts, dynamic_timer_tag))


class Ts:
    """What TimestampParam gives: micros, comparable with INPUT_ENDED."""

    def __init__(self, micros):
        self.micros = micros

    def __ge__(self, other):
        return self.micros >= other.micros


def arrives(fn: StitchShardFn, contacts: list, state, timer, kind: str = _CONTACTS):
    """A bundle's element: a batch of contacts (or a stored read's note)."""
    return lambda: fn.process(("s", (kind, contacts)), state, timer, timer)


def stitched_by(fn: StitchShardFn, call) -> list:
    fn.start_bundle()
    call()
    return [s for batch in fn.finish_bundle() or () for s in batch.value]


@pytest.fixture
def store(tmp_path):
    return RawStore(tmp_path / "raw", fsync=False)


def test_the_frontier_is_the_least_partition_newest_minus_the_disorder_with_idle_ones_following(
    store,
):
    index = JourneyIndex(str(store.root))
    # GIVEN partition 0 stored contiguously up to an event at 04:20, then a
    # gap, partition 1 up to 06:00
    nxt = store_events(store, P0, 0, [("c1", "a", "04:00"), ("c1", "b", "04:20")])
    store_events(store, P0, nxt + 5, [("c1", "c", "07:00")])
    store_events(store, P1, 0, [("c2", "a", "06:00")])
    bounds = {P0: (0, 100), P1: (0, 100)}
    # THEN the frontier is partition 0's contiguous newest minus 10 minutes
    assert index.frontier_us(bounds, DISORDER_US) == us("04:10")
    # WHEN partition 0 is stored to its end offset (idle), it follows the newest of all
    assert index.frontier_us({P0: (0, nxt), P1: (0, 100)}, DISORDER_US) == us("05:50")
    # AND a partition with nothing stored holds everything, unless it is empty
    assert index.frontier_us({**bounds, "t/2/": (0, 3)}, DISORDER_US) == float("-inf")
    assert index.frontier_us({**bounds, "t/2/": (3, 3)}, DISORDER_US) == us("04:10")
    # AND during a broker outage no partition counts as idle
    assert index.frontier_us(None, DISORDER_US) == us("04:10")
    index.close()


def test_a_watermark_that_runs_ahead_of_the_store_does_not_stitch_an_incomplete_journey(store):
    # GIVEN journey partition 0 stored up to 04:17 and partition 1 far ahead
    nxt = store_events(store, P0, 0, [("c1", "driver_arrived", "04:17")])
    store_events(store, P1, 0, [("c2", "x", "09:00")])
    bounds = {P0: (0, 100), P1: (0, 100)}
    fn = StitchShardFn(str(store.root), 86400, 5, bounded=False, journey_topic=("-", TOPIC))
    fn.setup()
    fn.bounds = FixedBounds(bounds)
    state, timer = FakeState(), FakeTimer()
    contact = Contact("call-1", "call", us("05:20"), "ecommerce", "c1", None, "", "zh", None, None)
    # WHEN the contact arrives, then the runner fires its watermark timer
    # (the watermark passed 05:20) while partition 0 still ends at 04:17
    assert stitched_by(fn, arrives(fn, [contact], state, timer)) == []
    assert stitched_by(fn, lambda: fn.on_flush(Ts(us("05:20")), state)) == []
    # THEN it waits; WHEN partition 0's next read (an event at 05:13, then one
    # past 05:30) is stored and the shard's next contact arrives, THEN it is
    # stitched with it
    store_events(store, P0, nxt, [("c1", "loading_started", "05:13"), ("c3", "y", "05:31")])
    later = contact._replace(contact_id="call-2", event_time_us=us("06:00"))
    out = stitched_by(fn, arrives(fn, [later], state, timer))
    assert [(s.contact.contact_id, s.recent_events, s.is_late) for s in out] == [
        ("call-1", ("driver_arrived", "loading_started"), False)
    ]
    fn.teardown()


def test_without_the_store_rule_the_same_early_watermark_stitches_a_journey_half_stored(store):
    # (what the job did before: the runner's watermark alone decides)
    store_events(store, P0, 0, [("c1", "driver_arrived", "04:17")])
    fn = StitchShardFn(str(store.root), 86400, 5, bounded=False)
    fn.setup()
    state, timer = FakeState(), FakeTimer()
    contact = Contact("call-1", "call", us("05:20"), "ecommerce", "c1", None, "", "zh", None, None)
    stitched_by(fn, arrives(fn, [contact], state, timer))
    out = stitched_by(fn, lambda: fn.on_flush(Ts(us("05:20")), state))
    assert [s.recent_events for s in out] == [("driver_arrived",)]
    fn.teardown()


def test_the_end_of_input_stitches_what_still_waits(store):
    store_events(store, P0, 0, [("c1", "a", "04:17")])
    fn = StitchShardFn(str(store.root), 86400, 5, bounded=False, journey_topic=("-", TOPIC))
    fn.setup()
    fn.bounds = FixedBounds({P0: (0, 100)})
    state, timer = FakeState(), FakeTimer()
    contact = Contact("call-1", "call", us("05:20"), "ecommerce", "c1", None, "", "zh", None, None)
    assert stitched_by(fn, arrives(fn, [contact], state, timer)) == []
    assert (INPUT_ENDED, "end") in timer.set_at
    out = stitched_by(fn, lambda: fn.on_flush(Ts(INPUT_ENDED.micros), state))
    assert [s.contact.contact_id for s in out] == ["call-1"]
    fn.teardown()


def test_a_waiting_contact_is_stitched_by_the_next_bundle_of_any_shard_once_the_store_passes_it(
    store,
):
    # GIVEN a live run's contact waiting for journey partition 0 (stored up to
    # 04:17), and a second instance of the stitching DoFn in the same worker
    # (a runner runs bundles of the stage on several)
    nxt = store_events(store, P0, 0, [("c1", "driver_arrived", "04:17")])
    bounds = FixedBounds({P0: (0, 100)})
    first, second = (
        StitchShardFn(str(store.root), 86400, 5, bounded=False, journey_topic=("-", TOPIC))
        for _ in range(2)
    )
    for fn in (first, second):
        fn.setup()
        fn.bounds = bounds
    state, timer = FakeState(), FakeTimer()
    contact = Contact("call-1", "call", us("05:20"), "ecommerce", "c1", None, "", "zh", None, None)
    assert stitched_by(first, arrives(first, [contact], state, timer)) == []
    # THEN it waits, with a re-ask timer set (processing time) and the end of input
    assert (INPUT_ENDED, "end") in timer.set_at
    assert any(tag == "" for _, tag in timer.set_at)
    # WHEN partition 0's next read is stored and only its note reaches the
    # stage, on the other instance and another shard's key (no contact, no
    # watermark timer)
    store_events(store, P0, nxt, [("c1", "loading_started", "05:13"), ("c3", "y", "05:31")])
    out = stitched_by(second, arrives(second, [], FakeState(), FakeTimer(), kind=_STORED))
    # THEN the note's bundle stitches it, with the journey stored since
    assert [(s.contact.contact_id, s.recent_events, s.is_late) for s in out] == [
        ("call-1", ("driver_arrived", "loading_started"), False)
    ]
    for fn in (first, second):
        fn.teardown()
