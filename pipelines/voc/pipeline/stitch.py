"""StitchJourneys: each contact joined to its customer's and order's journey in event time."""

from __future__ import annotations

import typing
import zlib
from collections import defaultdict

import apache_beam as beam
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from voc.pipeline.elements import Contact, StitchedContact, ValidRecord
from voc.stitch.journey import CustomerJourney, JourneyStep

_JOURNEY, _CONTACT = "j", "c"


def shard_of(customer_id: str, shards: int) -> str:
    # crc32, not hash(): the same customer lands on the same shard in every
    # process and every run (Python's str hash is salted per process).
    return f"shard-{zlib.crc32(customer_id.encode()) % shards:03d}"


class StitchShardFn(beam.DoFn):
    """Keyed by shard (a fixed hash of the customer id); each element is a
    batch of journey steps or contacts for that shard. State per shard: every
    customer's CustomerJourney and the contacts waiting to be stitched.

    A contact waits until the watermark passes its event time, so journey
    events that arrive out of order but on time still count; it is then
    stitched with the events at or before its time.

    Lateness: a contact whose event time the watermark had already passed when
    it arrived (for this shard, the last timer that fired) is stitched at once
    with what state holds and marked `is_late`; a journey event arriving behind
    the watermark is kept for later contacts and counted as
    `late_journey_events`. Nothing is dropped.
    """

    # Append-only bags: adding a batch costs the batch, not the state; the
    # journeys are rebuilt when the watermark fires (once per advance).
    STEPS = BagStateSpec("steps", PickleCoder())  # (customer id, JourneyStep)
    PENDING = BagStateSpec("pending", PickleCoder())  # Contact
    FIRED_THROUGH = ReadModifyWriteStateSpec("fired_through_us", VarIntCoder())
    TIMER_AT = ReadModifyWriteStateSpec("timer_at_us", VarIntCoder())
    KEPT = ReadModifyWriteStateSpec("kept_after_prune", VarIntCoder())
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(self, lookback_s: int, recent_n: int, bounded: bool = False) -> None:
        self.lookback_s = lookback_s
        self.recent_n = recent_n
        # Bounded input: the watermark jumps to the end once all input is in,
        # so one firing at the newest waiting contact stitches them all in one
        # pass. Unbounded: fire at the oldest, or it would wait for ever.
        self.bounded = bounded
        self.late_journey = Metrics.counter("stitch", "late_journey_events")
        self.late_contacts = Metrics.counter("stitch", "late_contacts")
        # How often the watermark fires a shard and how much state each firing
        # reads: on a runner that keeps state outside the SDK (Prism), this is
        # what streaming throughput costs.
        self.flushes = Metrics.counter("stitch", "flushes")
        self.steps_read = Metrics.counter("stitch", "journey_steps_read")

    def process(
        self,
        element,
        steps=beam.DoFn.StateParam(STEPS),
        pending=beam.DoFn.StateParam(PENDING),
        fired_through=beam.DoFn.StateParam(FIRED_THROUGH),
        timer_at=beam.DoFn.StateParam(TIMER_AT),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        _, (kind, items) = element
        fired = fired_through.read()
        if kind == _JOURNEY:
            for item in items:
                steps.add(item)
                if fired is not None and item[1].ts_us <= fired:
                    self.late_journey.inc()
            return
        journeys = None
        first = None
        pick = max if self.bounded else min
        for contact in items:
            if fired is not None and contact.event_time_us <= fired:
                # The watermark already passed it: stitch now, with what we have.
                self.late_contacts.inc()
                journeys = journeys if journeys is not None else _journeys(steps.read())
                yield self._stitch(journeys.get(contact.customer_id), contact, is_late=True)
            else:
                pending.add(contact)
                first = pick(first or contact.event_time_us, contact.event_time_us)
        current = timer_at.read()
        if first is not None and (current is None or pick(first, current) != current):
            timer_at.write(first)
            flush.set(Timestamp(micros=first))

    @on_timer(FLUSH)
    def on_flush(
        self,
        fire_ts=beam.DoFn.TimestampParam,
        steps=beam.DoFn.StateParam(STEPS),
        pending=beam.DoFn.StateParam(PENDING),
        fired_through=beam.DoFn.StateParam(FIRED_THROUGH),
        timer_at=beam.DoFn.StateParam(TIMER_AT),
        kept=beam.DoFn.StateParam(KEPT),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        fire_us = fire_ts.micros
        # Keyed by id: a contact replayed after a restart waits here once.
        waiting = {c.contact_id: c for c in pending.read()}
        due = sorted(
            (c for c in waiting.values() if c.event_time_us <= fire_us),
            key=lambda c: (c.event_time_us, c.contact_id),
        )
        items = list(steps.read())
        self.flushes.inc()
        self.steps_read.inc(len(items))
        # Only the journeys of the customers being stitched are built.
        wanted = {c.customer_id for c in due}
        journeys = _journeys(item for item in items if item[0] in wanted)
        for contact in due:
            yield self._stitch(journeys.get(contact.customer_id), contact, is_late=False)
            del waiting[contact.contact_id]
        fired_through.write(max(fire_us, fired_through.read() or fire_us))
        oldest_needed = min((c.event_time_us for c in waiting.values()), default=fire_us)
        # Pruning rewrites the bag: do it when it has doubled since the last time.
        if len(items) > 2 * (kept.read() or 500):
            cutoff = oldest_needed - self.lookback_s * 1_000_000
            steps.clear()
            n = 0
            for customer, journey in _journeys(items).items():
                journey.prune(cutoff)
                for step in journey.steps:
                    steps.add((customer, step))
                    n += 1
            kept.write(n)
        if due:
            pending.clear()
            for contact in waiting.values():
                pending.add(contact)
        if waiting:
            at = (max if self.bounded else min)(c.event_time_us for c in waiting.values())
            timer_at.write(at)
            flush.set(Timestamp(micros=at))
        else:
            timer_at.clear()

    def _stitch(self, journey: CustomerJourney | None, contact: Contact, *, is_late: bool):
        s = (journey or CustomerJourney()).stitch(
            contact.event_time_us,
            contact.order_id,
            lookback_s=self.lookback_s,
            recent_n=self.recent_n,
        )
        return TimestampedValue(
            StitchedContact(contact, s.journey_stage, s.recent_events, is_late),
            contact.event_time_us / 1e6,
        )


def _journeys(items) -> dict[str, CustomerJourney]:
    by_customer: dict[str, list[JourneyStep]] = defaultdict(list)
    for customer, step in items:
        by_customer[customer].append(step)
    return {c: CustomerJourney.of(steps) for c, steps in by_customer.items()}


def _steps_by_shard(batch: list[ValidRecord], shards: int):
    out: dict[str, list] = defaultdict(list)
    for v in batch:
        r = v.record
        step = JourneyStep(
            v.event_time_us, r["journey_stage"], r["event_name"], r.get("order_id"), r["event_id"]
        )
        out[shard_of(r["customer_id"], shards)].append((r["customer_id"], step))
    return [(shard, (_JOURNEY, items)) for shard, items in out.items()]


def _contacts_by_shard(batch: list[Contact], shards: int):
    out: dict[str, list] = defaultdict(list)
    for c in batch:
        if c.customer_id:
            out[shard_of(c.customer_id, shards)].append(c)
        else:
            yield beam.pvalue.TaggedOutput("anonymous", c)
    for shard, items in out.items():
        yield shard, (_CONTACT, items)


class StitchJourneys(beam.PTransform):
    """(list[app-event ValidRecord], list[Contact]) -> StitchedContact, timestamped
    with the contact's event time. Contacts with no customer id (an anonymous
    social post) pass through with no journey. Assumes the global window.

    State is keyed by `shards` buckets of customers, not by customer: a batch
    of events becomes a handful of stateful elements instead of thousands.
    """

    def __init__(
        self, lookback_s: int, recent_n: int, shards: int = 16, *, bounded: bool = False
    ) -> None:
        super().__init__()
        self.lookback_s = lookback_s
        self.recent_n = recent_n
        self.shards = shards
        self.bounded = bounded

    def expand(self, inputs):
        app_batches, contact_batches = inputs
        shards = self.shards
        steps = app_batches | "StepsByShard" >> beam.FlatMap(
            _steps_by_shard, shards
        ).with_output_types(tuple[str, typing.Any])
        contacts = contact_batches | "ContactsByShard" >> beam.FlatMap(
            _contacts_by_shard, shards
        ).with_outputs("anonymous", main="keyed")
        stitched = (
            (steps, contacts.keyed)
            | "Union" >> beam.Flatten().with_output_types(tuple[str, typing.Any])
            | "Stitch"
            >> beam.ParDo(
                StitchShardFn(self.lookback_s, self.recent_n, self.bounded)
            ).with_input_types(tuple[str, typing.Any])
        )
        anonymous = contacts.anonymous | "NoJourney" >> beam.Map(
            lambda c: TimestampedValue(StitchedContact(c, None, (), False), c.event_time_us / 1e6)
        )
        return (stitched, anonymous) | "All" >> beam.Flatten()
