"""StitchJourneys: each contact joined to its customer's and order's journey in event time."""

from __future__ import annotations

import typing

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


class StitchContactFn(beam.DoFn):
    """Keyed by customer id. Journey steps are kept in state; a contact waits
    until the watermark passes its event time, so journey events that arrive out
    of order but on time still count. Then it is stitched with the events at or
    before its time.

    Lateness: a contact whose event time the watermark had already passed when
    it arrived (for this key, the last timer that fired) is stitched at once
    with what state holds and marked `is_late`; a journey event arriving behind
    the watermark is kept for later contacts and counted as `late_journey_events`.
    Nothing is dropped.
    """

    JOURNEY = BagStateSpec("journey", PickleCoder())
    PENDING = BagStateSpec("pending", PickleCoder())
    FIRED_THROUGH = ReadModifyWriteStateSpec("fired_through_us", VarIntCoder())
    TIMER_AT = ReadModifyWriteStateSpec("timer_at_us", VarIntCoder())
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(self, lookback_s: int, recent_n: int) -> None:
        self.lookback_s = lookback_s
        self.recent_n = recent_n
        self.late_journey = Metrics.counter("stitch", "late_journey_events")
        self.late_contacts = Metrics.counter("stitch", "late_contacts")

    def process(
        self,
        element,
        journey=beam.DoFn.StateParam(JOURNEY),
        pending=beam.DoFn.StateParam(PENDING),
        fired_through=beam.DoFn.StateParam(FIRED_THROUGH),
        timer_at=beam.DoFn.StateParam(TIMER_AT),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        _, (kind, item) = element
        fired = fired_through.read()
        if kind == _JOURNEY:
            journey.add(item)
            if fired is not None and item.ts_us <= fired:
                self.late_journey.inc()
            return
        contact: Contact = item
        if fired is not None and contact.event_time_us <= fired:
            # The watermark already passed it: stitch now, with what we have.
            self.late_contacts.inc()
            yield self._stitch(CustomerJourney.of(journey.read()), contact, is_late=True)
            return
        pending.add(contact)
        current = timer_at.read()
        if current is None or contact.event_time_us < current:
            timer_at.write(contact.event_time_us)
            flush.set(Timestamp(micros=contact.event_time_us))

    @on_timer(FLUSH)
    def on_flush(
        self,
        fire_ts=beam.DoFn.TimestampParam,
        journey=beam.DoFn.StateParam(JOURNEY),
        pending=beam.DoFn.StateParam(PENDING),
        fired_through=beam.DoFn.StateParam(FIRED_THROUGH),
        timer_at=beam.DoFn.StateParam(TIMER_AT),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        fire_us = fire_ts.micros
        state = CustomerJourney.of(journey.read())
        # A contact replayed after a restart may wait here twice: once is enough.
        waiting = sorted(
            {c.contact_id: c for c in pending.read()}.values(), key=lambda c: c.event_time_us
        )
        due = [c for c in waiting if c.event_time_us <= fire_us]
        rest = [c for c in waiting if c.event_time_us > fire_us]
        for contact in due:
            yield self._stitch(state, contact, is_late=False)
        fired_through.write(max(fire_us, fired_through.read() or fire_us))
        pending.clear()
        for c in rest:
            pending.add(c)
        oldest_needed = rest[0].event_time_us if rest else fire_us
        state.prune(oldest_needed - self.lookback_s * 1_000_000)
        journey.clear()
        for step in state.steps:
            journey.add(step)
        if rest:
            timer_at.write(rest[0].event_time_us)
            flush.set(Timestamp(micros=rest[0].event_time_us))
        else:
            timer_at.clear()

    def _stitch(self, state: CustomerJourney, contact: Contact, *, is_late: bool):
        s = state.stitch(
            contact.event_time_us,
            contact.order_id,
            lookback_s=self.lookback_s,
            recent_n=self.recent_n,
        )
        return TimestampedValue(
            StitchedContact(contact, s.journey_stage, s.recent_events, is_late),
            contact.event_time_us / 1e6,
        )


def _journey_step(v: ValidRecord) -> tuple[str, tuple[str, JourneyStep]]:
    r = v.record
    step = JourneyStep(
        v.event_time_us, r["journey_stage"], r["event_name"], r.get("order_id"), r["event_id"]
    )
    return r["customer_id"], (_JOURNEY, step)


class StitchJourneys(beam.PTransform):
    """(app-event ValidRecords, Contacts) -> StitchedContact, timestamped with the
    contact's event time. Contacts with no customer id (an anonymous social post)
    pass through with no journey. Assumes the global window.
    """

    def __init__(self, lookback_s: int, recent_n: int) -> None:
        super().__init__()
        self.lookback_s = lookback_s
        self.recent_n = recent_n

    def expand(self, inputs):
        app_events, contacts = inputs
        steps = app_events | "KeyStepsByCustomer" >> beam.Map(_journey_step).with_output_types(
            tuple[str, typing.Any]
        )
        known = contacts | "SplitAnonymous" >> beam.Partition(
            lambda c, _: 0 if c.customer_id else 1, 2
        )
        keyed = known[0] | "KeyContactsByCustomer" >> beam.Map(
            lambda c: (c.customer_id, (_CONTACT, c))
        ).with_output_types(tuple[str, typing.Any])
        stitched = (
            (steps, keyed)
            | "Union" >> beam.Flatten().with_output_types(tuple[str, typing.Any])
            | "Stitch"
            >> beam.ParDo(StitchContactFn(self.lookback_s, self.recent_n)).with_input_types(
                tuple[str, typing.Any]
            )
        )
        anonymous = known[1] | "NoJourney" >> beam.Map(
            lambda c: StitchedContact(c, None, (), False)
        )
        return (stitched, anonymous) | "All" >> beam.Flatten()
