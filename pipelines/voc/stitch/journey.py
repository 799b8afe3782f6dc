"""Per-customer journey state and how a contact is stitched onto it.

Pure and Beam-free: the stateful DoFn in voc.pipeline.stitch keeps a
CustomerJourney per customer key and calls these functions.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple


class JourneyStep(NamedTuple):
    """One app/journey event, reduced to what stitching needs."""

    ts_us: int  # event time, microseconds since the epoch (UTC)
    stage: str
    event_name: str
    order_id: str | None
    event_id: str = ""


def _order(step: JourneyStep) -> tuple[int, str, str, str, str]:
    # A total order (None sorts as ""), so that state rebuilt from a bag is
    # the same list whatever order the bag returned it in.
    return (step.ts_us, step.order_id or "", step.stage, step.event_name, step.event_id)


class Stitched(NamedTuple):
    journey_stage: str | None
    recent_events: tuple[str, ...]


@dataclass
class CustomerJourney:
    """The journey events of one customer, kept sorted by event time.

    Events older than `lookback_s` before the oldest contact still to be stitched
    are pruned, except the newest of them per order and overall: they still
    tell the stage a customer was in when nothing happened for a while.
    """

    steps: list[JourneyStep] = field(default_factory=list)

    @classmethod
    def of(cls, steps: Iterable[JourneyStep]) -> CustomerJourney:
        """From steps in any order; a step seen twice (same event id, e.g.
        replayed after a restart) counts once."""
        unique = {(s.event_id or _order(s)): s for s in steps}
        return cls(sorted(unique.values(), key=_order))

    def add(self, step: JourneyStep) -> None:
        if step.event_id and any(s.event_id == step.event_id for s in self.steps):
            return
        bisect.insort(self.steps, step, key=_order)

    def stitch(
        self, contact_ts_us: int, order_id: str | None, *, lookback_s: int, recent_n: int
    ) -> Stitched:
        """The stage at contact time and the names of the last events before it.

        With an order id, the order's own events decide the stage (a customer
        may have several orders at different stages); the customer's latest
        event decides otherwise. Ties in time count as before the contact.
        """
        end = bisect.bisect_right(self.steps, contact_ts_us, key=lambda s: s.ts_us)
        before = self.steps[:end]
        if not before:
            return Stitched(None, ())
        own = [s for s in before if order_id is not None and s.order_id == order_id]
        stage = (own or before)[-1].stage
        since = contact_ts_us - lookback_s * 1_000_000
        recent = [s.event_name for s in (own or before) if s.ts_us >= since][-recent_n:]
        return Stitched(stage, tuple(recent))

    def prune(self, keep_from_ts_us: int) -> None:
        """Drop events before `keep_from_ts_us`, keeping the latest one per order and overall."""
        old = [s for s in self.steps if s.ts_us < keep_from_ts_us]
        if not old:
            return
        keep: dict[str | None, JourneyStep] = {}
        for s in old:
            keep[s.order_id] = s
        keep["\x00latest"] = old[-1]
        kept = sorted(set(keep.values()), key=_order)
        self.steps = kept + [s for s in self.steps if s.ts_us >= keep_from_ts_us]
