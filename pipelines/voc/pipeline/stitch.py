"""StitchJourneys: each contact joined to its customer's and order's journey in event time."""

from __future__ import annotations

import heapq
import typing
from collections import defaultdict

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from voc.pipeline.coders import RecordBatch
from voc.pipeline.elements import Contact, StitchedContact
from voc.pipeline.shards import END_OF_INPUT, shard_of
from voc.stitch.lookup import ContactAt, JourneyIndex

_STORED, _CONTACTS = "stored", "contacts"


class StitchShardFn(beam.DoFn):
    """Keyed by shard (a fixed hash of the customer id); each element is a batch
    of contacts for that shard, or a note that a batch of journey events is
    stored in the raw store (it only holds this stage's watermark back until
    the events are durable). State per shard: the contacts waiting for the
    watermark (by id, and in a heap by event time) and the event time it last
    fired at, in one value.

    A contact waits until the watermark passes its event time, so journey
    events that arrive out of order but on time still count; it is then
    stitched with the stored events at or before its time. One timer per
    distinct contact time (a dynamic timer tag): when the watermark jumps, all
    that passed fire in one bundle, and the bundle's contacts are stitched by
    one query in `finish_bundle`.

    Lateness: a contact whose event time the watermark had already passed when
    it arrived (for this shard, the last timer that fired) is stitched with
    what the store holds at once and marked `is_late`. Nothing is dropped.
    """

    WAITING = ReadModifyWriteStateSpec("waiting", PickleCoder())
    # (fired through, microseconds or None; {contact id: Contact};
    #  heap of (event time us, contact id) of the same contacts)
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(self, store: str, lookback_s: int, recent_n: int, bounded: bool) -> None:
        self.store = store
        self.lookback_s = lookback_s
        self.recent_n = recent_n
        # Bounded input: one firing at the end of input stitches them all.
        self.bounded = bounded
        self.late_contacts = Metrics.counter("stitch", "late_contacts")
        # Timer firings and journey queries: on a runner that keeps state
        # outside the SDK (Prism), these are what streaming throughput costs.
        self.flushes = Metrics.counter("stitch", "flushes")
        self.queries = Metrics.counter("stitch", "queries")

    def setup(self) -> None:
        self.index = JourneyIndex(self.store)

    def teardown(self) -> None:
        self.index.close()

    def start_bundle(self) -> None:
        self._ready: list[tuple[Contact, bool]] = []  # (contact, is_late)

    def process(
        self,
        element,
        waiting_state=beam.DoFn.StateParam(WAITING),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        _, (kind, contacts) = element
        if kind == _STORED:
            return
        fired, waiting, queue = waiting_state.read() or (None, {}, [])
        new_times = set()
        for c in contacts:
            if c.customer_id is None:
                self._ready.append((c, False))  # no journey to wait for
            elif fired is not None and c.event_time_us <= fired:
                # The watermark already passed it: stitch now, with what is stored.
                self.late_contacts.inc()
                self._ready.append((c, True))
            elif c.contact_id not in waiting:
                # Keyed by id: a contact replayed after a restart waits here once.
                waiting[c.contact_id] = c
                heapq.heappush(queue, (c.event_time_us, c.contact_id))
                new_times.add(c.event_time_us)
        waiting_state.write((fired, waiting, queue))
        if self.bounded:
            flush.set(END_OF_INPUT)
            return
        for t_us in new_times:
            flush.set(Timestamp(micros=t_us), dynamic_timer_tag=str(t_us))

    @on_timer(FLUSH)
    def on_flush(
        self, fire_ts=beam.DoFn.TimestampParam, waiting_state=beam.DoFn.StateParam(WAITING)
    ):
        fire_us = fire_ts.micros
        fired, waiting, queue = waiting_state.read() or (None, {}, [])
        self.flushes.inc()
        # A watermark jump fires many timers in one bundle, oldest first: each
        # takes only what is due from the front of the queue.
        while queue and queue[0][0] <= fire_us:
            _, contact_id = heapq.heappop(queue)
            self._ready.append((waiting.pop(contact_id), False))
        waiting_state.write((max(fire_us, fired or fire_us), waiting, queue))

    def finish_bundle(self):
        if not self._ready:
            return
        ready, self._ready = self._ready, []
        self.queries.inc()
        stitched = self.index.stitch(
            [ContactAt(c.contact_id, c.customer_id, c.order_id, c.event_time_us) for c, _ in ready],
            lookback_s=self.lookback_s,
            recent_n=self.recent_n,
        )
        batch = [
            StitchedContact(c, s.journey_stage, s.recent_events, is_late)
            for c, is_late in sorted(ready, key=lambda r: (r[0].event_time_us, r[0].contact_id))
            for s in (stitched[c.contact_id],)
        ]
        yield WindowedValue(
            batch, Timestamp(micros=batch[0].contact.event_time_us), [GlobalWindow()]
        )


def _contacts_by_shard(batch: list[Contact], shards: int):
    out: dict[str, list] = defaultdict(list)
    for c in batch:
        # An anonymous contact has no journey: any shard will pass it through.
        out[shard_of(c.customer_id or "", shards)].append(c)
    return [(shard, (_CONTACTS, items)) for shard, items in out.items()]


class StitchJourneys(beam.PTransform):
    """(stored, list[Contact], ...) -> list[StitchedContact], each batch timestamped
    with its oldest contact's event time. `stored` is the output of the
    `raw.app_events` sink: one element per batch of journey events written,
    with that batch's timestamp; then any number of PCollections of contact
    batches. Contacts with no customer id (an anonymous social post) pass
    through with no journey. Assumes the global window.

    The journey events themselves are read from the raw store's files
    (voc.stitch.lookup); state is keyed by `shards` buckets of customers, not
    by customer, and holds only the waiting contacts.
    """

    def __init__(
        self,
        store: str,
        lookback_s: int,
        recent_n: int,
        shards: int = 4,
        *,
        bounded: bool = False,
    ) -> None:
        super().__init__()
        self.store = store
        self.lookback_s = lookback_s
        self.recent_n = recent_n
        self.shards = shards
        self.bounded = bounded

    def expand(self, inputs):
        stored, *contact_batches = inputs
        shards = self.shards
        # Every shard's watermark waits for the stored events: one note per
        # stored batch is enough, since a watermark is per stage, not per key.
        stored_notes = stored | "AsStoredNote" >> beam.Map(
            lambda _: (shard_of("", shards), (_STORED, []))
        ).with_output_types(tuple[str, typing.Any])
        # Each input is keyed where it is made (fused with its producer): a
        # Flatten is where a runner stops fusing, so only the keyed batches
        # cross it, on their way to the shuffle that stateful stitching needs.
        keyed = [
            batches
            | f"ContactsByShard{i}"
            >> beam.FlatMap(_contacts_by_shard, shards).with_output_types(tuple[str, typing.Any])
            for i, batches in enumerate(contact_batches)
        ]
        return (
            (stored_notes, *keyed)
            | "Union" >> beam.Flatten().with_output_types(tuple[str, typing.Any])
            | "Stitch"
            >> beam.ParDo(StitchShardFn(self.store, self.lookback_s, self.recent_n, self.bounded))
            .with_input_types(tuple[str, typing.Any])
            .with_output_types(RecordBatch)
        )
