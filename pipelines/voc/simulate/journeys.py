"""Customers and orders moving through each business's journey stages.

Produces the app-event stream and an index of who is in which stage each hour,
which the contact generator uses to put a contact where the customer really is.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from voc.catalog import Catalog, Stage
from voc.simulate.incidents import Decoy, Incident
from voc.simulate.timeline import Timeline

COMMON_DOMAIN = "common"

# Realistic event names for the starter catalog's stages; any other stage gets
# `<stage>_started` / `<stage>_completed`, so a grown catalog still works.
STAGE_EVENTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("freight", "order"): ("page_view", "quote_requested", "order_created", "payment_succeeded"),
    ("freight", "matching"): ("order_broadcast", "driver_matched"),
    ("freight", "loading"): ("driver_arrived", "loading_started", "loading_completed"),
    ("freight", "transit"): ("trip_started", "location_updated", "trip_completed"),
    ("freight", "settlement"): ("freight_settled", "rating_submitted"),
    ("express", "order"): ("page_view", "shipment_booked", "payment_succeeded"),
    ("express", "pickup"): ("courier_assigned", "parcel_picked_up"),
    ("express", "transit"): ("hub_arrival", "hub_departure", "hub_arrival"),
    ("express", "delivery"): ("out_for_delivery", "parcel_delivered"),
    ("express", "after_sale"): ("after_sale_requested", "after_sale_closed"),
    ("ecommerce", "presale"): ("page_view", "product_viewed", "add_to_cart"),
    ("ecommerce", "order"): ("checkout_started", "order_created", "payment_succeeded"),
    ("ecommerce", "shipping"): ("order_shipped", "in_transit", "parcel_delivered"),
    ("ecommerce", "installation"): ("installation_scheduled", "installation_completed"),
    ("ecommerce", "after_sale"): ("return_requested", "refund_issued"),
}
# Events that happen before the order exists, so they carry no order_id.
PRE_ORDER_EVENTS = frozenset(
    {"page_view", "quote_requested", "product_viewed", "add_to_cart", "checkout_started"}
)
# Stages only some orders go through (share of orders that enter them).
OPTIONAL_STAGES = {"installation": 0.2, "after_sale": 0.1}
DOMAIN_SHARE = {"freight": 0.3, "express": 0.35, "ecommerce": 0.35}
ORDERS_PER_DAY = 660.0  # all businesses, scale 1.0
WARMUP_DAYS = 2  # orders already under way when the simulation starts
STAGE_INDEX_CAP_H = 36  # a stage visit counts as "being there" for at most this long


@dataclass(slots=True)
class AppEvent:
    time_s: int
    domain: str
    customer_id: str
    session_id: str | None
    order_id: str | None
    stage: str
    name: str
    properties: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Presence:
    """A customer with an order in a stage during an hour."""

    customer_id: str
    order_id: str
    stage: str


@dataclass
class World:
    business_domains: tuple[str, ...]
    customers: dict[str, list[str]]  # domain -> customer ids
    language: dict[str, str]  # customer id -> zh | en
    events: list[AppEvent] = field(default_factory=list)
    # (domain, stage) -> hour -> presences; (domain, "*") for any stage
    presence: dict[tuple[str, str], dict[int, list[Presence]]] = field(default_factory=dict)
    last_order: dict[str, str] = field(default_factory=dict)
    # What a journey break did (recorded, never drawn): incident id -> the
    # journeys that reached its step while it ran ("due") and those it stopped
    # ("held"); for a funnel drop also the share of them that would have moved on.
    effects: dict[str, dict[str, float]] = field(default_factory=dict)
    _next_session: int = 0

    def new_session(self, seed: int) -> str:
        self._next_session += 1
        return f"ses-{seed}-{self._next_session:07d}"

    def who_is_in(self, domain: str, stage: str, hour: int) -> list[Presence]:
        return self.presence.get((domain, stage), {}).get(hour, [])


def business_domains(catalog: Catalog) -> tuple[str, ...]:
    return tuple(d for d in catalog.domains if d != COMMON_DOMAIN) or catalog.domains


def _stage_events(stage: Stage) -> tuple[str, ...]:
    return STAGE_EVENTS.get(
        (stage.domain, stage.id), (f"{stage.id}_started", f"{stage.id}_completed")
    )


def _dwell_s(rng: random.Random, stage: Stage, slow: bool) -> int:
    minutes = stage.expected_minutes * math.exp(rng.gauss(math.log(0.7), 0.5))
    if slow:
        minutes *= rng.uniform(2.0, 3.5)
    return max(60, int(minutes * 60))


def build_world(
    rng: random.Random,
    catalog: Catalog,
    timeline: Timeline,
    incidents: list[Incident],
    *,
    seed: int,
    scale: float,
    decoys: list[Decoy] = (),
) -> World:
    domains = business_domains(catalog)
    shares = [DOMAIN_SHARE.get(d, 1.0 / len(domains)) for d in domains]
    total_share = sum(shares)
    customers: dict[str, list[str]] = {}
    language: dict[str, str] = {}
    orders_per_domain: dict[str, int] = {}
    for domain, share in zip(domains, shares, strict=True):
        n_orders = round(
            ORDERS_PER_DAY * scale * share / total_share * (timeline.days + WARMUP_DAYS)
        )
        orders_per_domain[domain] = n_orders
        n_customers = max(20, int(n_orders * 0.55))
        ids = [f"cus-{domain}-{i:05d}" for i in range(1, n_customers + 1)]
        customers[domain] = ids
        for cid in ids:
            language[cid] = "zh" if rng.random() < 0.65 else "en"
    world = World(domains, customers, language)
    # Journey breaks: a stuck step holds the journeys due to move on from it
    # (an operation stopped), a funnel drop makes customers leave after one step.
    breaking = [i for i in incidents if i.kind in ("stuck_journeys", "funnel_drop")]
    warmup_s = timeline.start_s - WARMUP_DAYS * 86400
    span_h = (timeline.days + WARMUP_DAYS) * 24
    base_weights = [timeline.activity(h - WARMUP_DAYS * 24) for h in range(span_h)]
    order_no = 0
    for domain in domains:
        stages = catalog.stages_of(domain)
        pool = customers[domain]
        weights = list(base_weights)
        n_orders = orders_per_domain[domain]
        for d in decoys:
            if d.kind == "marketing_push" and d.domain == domain:
                # A marketing push brings more orders to this business for a few hours.
                for h in range(span_h):
                    if d.active(warmup_s + h * 3600):
                        n_orders += round(n_orders * weights[h] * (d.lift - 1) / sum(base_weights))
                        weights[h] *= d.lift
        starts = sorted(
            warmup_s + h * 3600 + rng.randrange(3600)
            for h in rng.choices(range(span_h), weights=weights, k=n_orders)
        )
        for t0 in starts:
            order_no += 1
            # Skewed choice: a few customers order often, most rarely.
            customer = pool[int(len(pool) * rng.random() ** 1.7)]
            order_id = f"ord-{domain}-{order_no:06d}"
            _walk(rng, world, timeline, stages, breaking, domain, customer, order_id, t0, seed)
    world.events.sort(key=lambda e: e.time_s)
    return world


def _walk(
    rng: random.Random,
    world: World,
    timeline: Timeline,
    stages: tuple[Stage, ...],
    breaking: list[Incident],
    domain: str,
    customer: str,
    order_id: str,
    t: int,
    seed: int,
) -> None:
    platform = rng.choice(("ios", "android", "android", "web", "mini_program"))
    for index, stage in enumerate(stages):
        optional = OPTIONAL_STAGES.get(stage.id)
        if optional is not None and rng.random() > optional:
            continue
        here = [i for i in breaking if i.domain == domain and i.stage == stage.id]
        drop = next((i for i in here if i.kind == "funnel_drop" and i.active(t)), None)
        # Browsing customers often leave before ordering; later, few drop out.
        keep = 0.55 if index == 0 and domain == "ecommerce" else 0.97
        dwell = _dwell_s(rng, stage, False)
        names = _stage_events(stage)
        session = world.new_session(seed)
        n = len(names)
        hold = _held_s(rng, here, t + dwell // max(1, n - 1), world.effects) if n > 1 else 0
        abandoned = False
        for k, name in enumerate(names):
            if index == 0 and k == n - 1 and rng.random() > keep:
                abandoned = True  # left before finishing the first stage
                break
            et = t + (dwell * k // max(1, n - 1) if n > 1 else 0) + rng.randrange(30)
            et += hold if k > 0 else 0
            if timeline.start_s <= et < timeline.end_s:
                props: dict[str, object] | None = {"platform": platform}
                if name.startswith("payment") or name in ("freight_settled", "refund_issued"):
                    props = {"platform": platform, "amount": round(rng.uniform(20, 3000), 2)}
                elif name == "page_view":
                    props = {
                        "platform": platform,
                        "page": rng.choice(("home", "search", "detail", "promo")),
                    }
                oid = None if name in PRE_ORDER_EVENTS else order_id
                world.events.append(
                    AppEvent(et, domain, customer, session, oid, stage.id, name, props)
                )
            if drop is not None and name == drop.subject:
                effect = world.effects.setdefault(
                    drop.incident_id, {"due": 0, "held": 0, "moves_on": 1.0}
                )
                if index == 0 and k == n - 2:  # the first stage's last step: some leave anyway
                    effect["moves_on"] = keep
                effect["due"] += 1
                if rng.random() > 1 / drop.magnitude:
                    effect["held"] += 1
                    abandoned = True  # the step after this one is broken: the customer leaves
                    break
            if (
                name == "page_view"
                and rng.random() < 0.6
                and timeline.start_s <= et < timeline.end_s
            ):
                world.events.append(
                    AppEvent(
                        et + rng.randint(5, 120),
                        domain,
                        customer,
                        session,
                        None,
                        stage.id,
                        "page_view",
                        {"platform": platform, "page": rng.choice(("detail", "list", "faq"))},
                    )
                )
        dwell += hold
        _index_presence(world, timeline, domain, stage.id, customer, order_id, t, t + dwell)
        if abandoned or t + dwell >= timeline.end_s:
            return
        world.last_order[customer] = order_id
        t += dwell + rng.randrange(300)
        if index > 0 and rng.random() > keep:
            return


def _held_s(
    rng: random.Random,
    here: list[Incident],
    move_s: int,
    effects: dict[str, dict[str, float]] | None = None,
) -> int:
    """How long an operation that stopped holds this journey's first move out of
    the stage's first step (0: not held). A stuck step is an operation running
    at 1 / magnitude of its throughput during the incident (a depot that stops
    picking up waybills, an installer team that stops visiting): a journey due
    to move then is held with probability 1 - 1 / magnitude, whenever it
    entered, and released when the operation restarts, as the backlog clears
    over the next hour. `effects` counts the moves due and held per incident."""
    stuck = next((i for i in here if i.kind == "stuck_journeys" and i.active(move_s)), None)
    if stuck is None:
        return 0
    effect = (effects if effects is not None else {}).setdefault(
        stuck.incident_id, {"due": 0, "held": 0, "moves_on": 1.0}
    )
    effect["due"] += 1
    if rng.random() >= 1 - 1 / stuck.magnitude:
        return 0
    effect["held"] += 1
    return stuck.end_s + rng.randrange(3600) - move_s


def _index_presence(
    world: World,
    timeline: Timeline,
    domain: str,
    stage: str,
    customer: str,
    order_id: str,
    a: int,
    b: int,
) -> None:
    first = max(0, timeline.hour_of(a))
    last = min(timeline.hours - 1, timeline.hour_of(min(b, a + STAGE_INDEX_CAP_H * 3600)))
    if last < first:
        return
    presence = Presence(customer, order_id, stage)
    by_stage = world.presence.setdefault((domain, stage), defaultdict(list))
    by_domain = world.presence.setdefault((domain, "*"), defaultdict(list))
    for hour in range(first, last + 1):
        by_stage[hour].append(presence)
        by_domain[hour].append(presence)
