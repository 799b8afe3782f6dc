"""Contacts (calls, tickets, social posts) about true scenarios, with their ground truth.

Each scenario has its own Poisson contact process (a modest base rate × the
daily rhythm, × an incident's magnitude while one is planted on it), so a
planted incident stands out in hourly counts exactly as designed. A contact is
then put on a customer who is really in the scenario's stage at that hour, its
signal app event (if any) is emitted a few minutes before it, and its text is
written from the scenario (voc.simulate.text).
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from voc import sla
from voc.catalog import Catalog, Scenario
from voc.simulate import text as texts
from voc.simulate.incidents import (
    THREAT_SCENARIOS,
    Decoy,
    Incident,
    noise_factor,
    threat_line,
)
from voc.simulate.journeys import COMMON_DOMAIN, DOMAIN_SHARE, AppEvent, World
from voc.simulate.pii import add_personal_data, person
from voc.simulate.timeline import Timeline, arrivals

SCHEMA_VERSION = "1"
ON_TOPIC_PER_DAY = 760.0  # contacts about a real scenario, all businesses, scale 1.0
OFF_TOPIC_SHARE = 0.065  # greetings, unrelated questions, spam: the tagger must abstain
SIGNAL_BEFORE_CONTACT_SHARE = 0.6  # contacts preceded by their scenario's signal app event
UNCONTACTED_SIGNAL_RATIO = 0.7  # signal events per contact that nobody calls about
REPEAT_SHARE = 0.12  # unresolved contacts that come back about the same problem
INCIDENT_MIN_EXTRA_PER_HOUR = 8.0
# What category code an agent puts on a ticket (DECISIONLOG "Simulated ticket
# codes"): often none, mostly the coarse <domain>/<category> of the problem,
# sometimes a wrong one, rarely the scenario's own leaf code.
TICKET_CODE_NONE = 0.25
TICKET_CODE_LEAF = 0.08
TICKET_CODE_WRONG = 0.15
NPS_ANSWER_SHARE = 0.45  # surveyed callers who also answer the would-you-recommend question
PENDING_SHARE = 0.2  # tickets that wait on the customer once (SLA clock paused)
COMPENSATION_SHARE = 0.5  # tickets on guarantee scenarios with a 先行赔付 claim
DIRECT_HQ_SHARE = 0.4  # escalated urgent tickets that go straight to HQ (L4)
AT_STAGE_SHARE = 0.85  # contacts from a customer who is in the scenario's stage
# Social care (DECISIONLOG "Simulated identity"): the social team answers this
# share of the public posts about a problem, asking an author it cannot match
# for an order number or phone in a private message; this share of those
# authors answer it. A post that is answered and identified becomes a ticket
# naming the post and the customer; the rest stay anonymous.
SOCIAL_ANSWERED_SHARE = 0.8
SOCIAL_DM_REPLY_SHARE = 0.75
SOCIAL_ANSWER_MEDIAN_S = 3600  # post -> the team's public reply
SOCIAL_DM_MEDIAN_S = 1800  # reply -> the author's private message
# A returning customer's contact names the ticket their problem already has (the
# reference they give, or their open ticket the agent files it under), as help
# desks link follow-ups (DECISIONLOG "Breakpoints", repeat_loop). Assumptions:
# most returns are linked, not all (callers without the number, an agent who
# opens a new case); a few first contacts about a new problem are filed under
# the customer's open ticket of the same order by mistake.
RETURN_LINK_SHARE = 0.8
MISFILED_SHARE = 0.05
# Most customers raise one problem about an order, not a dozen: a contact at a
# stage goes to a present customer with no other contact about that order
# within 72 h, found in this many draws, else to a customer of the business
# (as a contact from outside the stage is) (DECISIONLOG "Breakpoints").
PLACE_DRAWS = 6
CASE_WINDOW_S = 72 * 3600
CHANNELS = (("call", 0.48), ("web", 0.12), ("app_chat", 0.15), ("email", 0.07), ("social", 0.18))
_SEVERITY_EMOTION = {
    "low": (0.60, 0.30, 0.10),
    "medium": (0.45, 0.38, 0.17),
    "high": (0.30, 0.42, 0.28),
    "critical": (0.20, 0.40, 0.40),
}
_SEVERITY_TICKET = {"low": 0.25, "medium": 0.4, "high": 0.55, "critical": 0.65}
_SEVERITY_PRIORITY = {
    "critical": (("urgent", 0.5), ("high", 0.5)),
    "high": (("urgent", 0.15), ("high", 0.5), ("normal", 0.35)),
    "medium": (("high", 0.25), ("normal", 0.6), ("low", 0.15)),
    "low": (("normal", 0.55), ("low", 0.45)),
}
_PRIORITY_UP = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}
_DEFAULT_SLA_H = 48.0
_PLATFORMS = {
    "zh": (("weibo", 0.35), ("douyin", 0.25), ("xiaohongshu", 0.25), ("wechat", 0.15)),
    "en": (("twitter", 0.75), ("weibo", 0.25)),
}
_HANDLE_ZH = (
    "小鹿",
    "阿强",
    "晴天",
    "老王",
    "橙子",
    "大熊",
    "木木",
    "阿杰",
    "甜甜圈",
    "路人甲",
    "跑腿小哥",
    "宝妈",
)
_HANDLE_EN = (
    "sunny",
    "mike",
    "truckerjoe",
    "lily",
    "dtown",
    "mr_wang",
    "pandafan",
    "shopaholic",
    "coffee",
    "nomad",
)


def iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@dataclass(order=True)
class Contact:
    time_s: int
    seq: int
    scenario: Scenario | None = field(compare=False)
    domain: str = field(compare=False)  # the business the customer uses
    customer_id: str = field(compare=False)
    order_id: str | None = field(compare=False)
    journey_stage: str | None = field(compare=False)
    incident: Incident | None = field(compare=False)
    is_repeat: bool = field(default=False, compare=False)
    channel: str | None = field(default=None, compare=False)
    emotion: str | None = field(default=None, compare=False)
    threat: bool = field(default=False, compare=False)  # the customer threatens to escalate
    times: int = field(default=1, compare=False)  # which contact about the problem this is
    problem: int | None = field(default=None, compare=False)  # seq of its first contact


@dataclass
class Output:
    """Records per stream as (event time s, record) plus the ground truth rows."""

    calls: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    tickets: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    social: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    signal_events: list[AppEvent] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)
    ticket_truth: list[dict[str, Any]] = field(default_factory=list)
    compensation_truth: list[dict[str, Any]] = field(default_factory=list)
    extra_by_incident: dict[str, int] = field(default_factory=dict)
    # the times of the app events a step failure added (its failure events)
    incident_event_times: dict[str, list[int]] = field(default_factory=dict)
    # case incidents (repeat loops, threats): who, which contacts, when the case was complete
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)


class ContactGenerator:
    def __init__(
        self,
        rng: random.Random,
        catalog: Catalog,
        timeline: Timeline,
        world: World,
        incidents: list[Incident],
        *,
        seed: int,
        scale: float,
        decoys: list[Decoy] = (),
    ) -> None:
        self.rng = rng
        self.decoys = list(decoys)
        self.catalog = catalog
        self.timeline = timeline
        self.world = world
        self.incidents = incidents
        self.seed = seed
        self.scale = scale
        self.out = Output()
        # Extra contacts per simulated hour for a scenario whose root cause is
        # still unfixed (voc.simulate.fixes); empty unless fixes are planted.
        self.chronic: dict[str, list[list[float]]] = {}
        # Pauses and compensation draw from their own stream, so that adding them
        # left every other simulated record exactly as it was for a given seed.
        self._life = random.Random(f"ticket-life:{seed}")
        # NPS answers draw from their own stream too (every other record unchanged).
        self._nps = random.Random(f"nps:{seed}")
        # Social care and the tickets it opens: one stream of their own.
        self._care = random.Random(f"social-care:{seed}")
        self._windows = sla.load_windows()
        self._opened_ticket: str | None = None
        self._opened_at = 0
        # Which earlier ticket a contact names: its own stream (every other record
        # stays as it was for a seed). Problem -> its first ticket (id, created);
        # (customer, order) -> the tickets opened about it (created, id, problem).
        self._link = random.Random(f"ticket-link:{seed}")
        self._related: str | None = None
        self._problem_ticket: dict[int, tuple[str, int]] = {}
        self._case_tickets: dict[tuple[str, str | None], list[tuple[int, str, int]]] = {}
        self._handles: dict[tuple[str, str], str] = {}
        self._seq = 0
        self._case_times: dict[tuple[str, str | None], list[int]] = {}
        self._n_call = self._n_ticket = self._n_social = 0
        self._first_stage = {
            d: s[0].id for d in world.business_domains if (s := catalog.stages_of(d))
        }
        self._keys = {s.id: scenario_key(s) for s in catalog.scenarios}
        self._keys_of_domain: dict[str, list[texts.ScenarioKey]] = {}
        for s in catalog.scenarios:
            self._keys_of_domain.setdefault(s.domain, []).append(self._keys[s.id])
        self._categories_of_domain = {
            d: sorted({k.category for k in keys}) for d, keys in self._keys_of_domain.items()
        }
        self._voice, self._special = _entry_points(catalog)
        self._agents = [f"agt-{i:03d}" for i in range(1, 121)]
        departments = sorted(catalog.departments)
        # Some departments are slower than others: the SLA marts should find them.
        self._dept_pace = {d: math.exp(rng.gauss(0.0, 0.3)) for d in departments}
        weights = [math.exp(rng.gauss(0.0, 0.6)) for _ in catalog.scenarios]
        total = sum(weights) or 1.0
        self.base_per_day = {
            s.id: ON_TOPIC_PER_DAY * scale * w / total
            for s, w in zip(catalog.scenarios, weights, strict=True)
        }

    # ------------------------------------------------------------------ plan

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def base_rate(self, scenario: Scenario, hour: int) -> float:
        return self.base_per_day[scenario.id] / 24.0 * self.timeline.activity(hour)

    def stage_rate(self, domain: str, stage: str, hour: int) -> float:
        return sum(
            self.base_rate(s, hour) for s in self.catalog.scenarios_of(domain) if s.stage == stage
        )

    def plan(self) -> list[Contact]:
        rng, tl = self.rng, self.timeline
        plans: list[Contact] = []
        for scenario in self.catalog.scenarios:
            rates = [self.base_rate(scenario, h) for h in range(tl.hours)]
            for d in self.decoys:
                if d.scenario is None or d.scenario.id != scenario.id:
                    continue
                if d.kind == "marketing_push":
                    rates = [
                        r * (d.lift if d.active(tl.hour_start(h)) else 1.0)
                        for h, r in enumerate(rates)
                    ]
                elif d.kind == "noisy_scenario":
                    rates = [r * d.lift * noise_factor(rng) for r in rates]
            for t in arrivals(rng, tl, rates):
                plans.append(self._place(scenario, t, None))
            for chronic in self.chronic.get(scenario.id, ()):
                for t in arrivals(rng, tl, chronic):
                    plans.append(self._place(scenario, t, None))
        for incident in self.incidents:
            plans += self._plan_incident(incident)
        off_rates = [
            ON_TOPIC_PER_DAY * self.scale * OFF_TOPIC_SHARE / 24.0 * tl.activity(h)
            for h in range(tl.hours)
        ]
        for t in arrivals(rng, tl, off_rates):
            plans.append(self._place(None, t, None))
        plans.sort()
        return plans

    def _plan_incident(self, incident: Incident) -> list[Contact]:
        rng, tl = self.rng, self.timeline
        hours = range(tl.hours)
        if incident.kind == "contact_spike":
            # (magnitude - 1) x the contacts of the whole stage, all about one scenario.
            extra = [
                (incident.magnitude - 1.0) * self.stage_rate(incident.domain, incident.stage, h)
                for h in hours
            ]
            return [
                self._place(incident.scenario, t, incident)
                for t in arrivals(rng, tl, extra)
                if incident.active(t)
            ]
        if incident.kind == "social_surge":
            pool = self.catalog.scenarios_of(incident.domain)
            negative = 0.18 * 0.5  # social share of contacts x share of them negative
            extra = [
                (incident.magnitude - 1.0) * negative * sum(self.base_rate(s, h) for s in pool)
                for h in hours
            ]
            out = []
            for t in arrivals(rng, tl, extra):
                if incident.active(t):
                    c = self._place(rng.choice(pool), t, incident)
                    c.channel, c.emotion = "social", "angry"
                    out.append(c)
            return out
        if incident.kind in ("repeat_loop", "emotion_escalation"):
            return self._plan_case(incident)
        return []

    def _plan_case(self, incident: Incident) -> list[Contact]:
        rng = self.rng
        pool = self.catalog.scenarios_of(incident.domain)
        scenario = rng.choice(pool)
        base = self._place(scenario, incident.start_s, incident)
        base.order_id = base.order_id or self.world.last_order.get(base.customer_id)
        written = ("call", "web", "app_chat", "email")
        if incident.kind == "emotion_escalation":
            base.emotion, base.threat = "angry", True
            base.channel = rng.choice(written)
            self.out.cases[incident.incident_id] = {
                "customer_id": base.customer_id,
                "start_s": base.time_s,
                "seq": base.seq,
            }
            return [base]
        gaps = [0] + [rng.randint(3600, 20 * 3600) for _ in range(int(incident.magnitude) - 1)]
        # The loop completes inside the simulated range: squeeze its gaps if not.
        room = (self.timeline.end_s - 60 - base.time_s) / max(1, sum(gaps))
        out, t = [], base.time_s
        for k in range(int(incident.magnitude)):
            t += int(gaps[k] * min(1.0, room))
            c = Contact(
                t,
                self._next_seq(),
                scenario,
                base.domain,
                base.customer_id,
                base.order_id,
                base.journey_stage,
                incident,
                k > 0,
                rng.choice(written),
                "angry" if k > 0 else "anxious",
                times=k + 1,
                problem=out[0].seq if out else None,
            )
            out.append(c)
        self.out.cases[incident.incident_id] = {
            "customer_id": base.customer_id,
            "order_id": base.order_id,
            "start_s": out[2].time_s,  # the case is a loop from its third contact on
            "seqs": [c.seq for c in out],
        }
        return out

    def _place(self, scenario: Scenario | None, t: int, incident: Incident | None) -> Contact:
        """Choose who makes the contact: usually a customer really in that stage now."""
        rng, world = self.rng, self.world
        hour = self.timeline.hour_of(t)
        if scenario is not None and scenario.domain in world.customers:
            domain, stage_key = scenario.domain, scenario.stage
        else:
            domains = world.business_domains
            domain = rng.choices(domains, weights=[DOMAIN_SHARE.get(d, 1.0) for d in domains])[0]
            stage_key = "*"
        present = world.who_is_in(domain, stage_key, hour)
        who = None
        if present and rng.random() < AT_STAGE_SHARE:
            for _ in range(PLACE_DRAWS):
                who = rng.choice(present)
                order = None if who.stage == self._first_stage.get(domain) else who.order_id
                if not self._busy(who.customer_id, order, t):
                    break
            else:
                who = None  # everyone there already has a problem open: someone else
        if who is not None:
            customer, journey_stage = who.customer_id, who.stage
        else:
            pool = world.customers[domain]
            customer, journey_stage = rng.choice(pool), None
            order = world.last_order.get(customer) if rng.random() < 0.5 else None
        self._case_times.setdefault((customer, order), []).append(t)
        return Contact(
            t, self._next_seq(), scenario, domain, customer, order, journey_stage, incident
        )

    def _busy(self, customer: str, order: str | None, t: int) -> bool:
        """Whether the customer already has a contact about this order within 72 h of `t`."""
        return any(abs(t - s) < CASE_WINDOW_S for s in self._case_times.get((customer, order), ()))

    # --------------------------------------------------------------- realise

    def run(self) -> Output:
        rng = self.rng
        heap = self.plan()
        heapq.heapify(heap)
        self._uncontacted_signals()
        while heap:
            contact = heapq.heappop(heap)
            if contact.time_s >= self.timeline.end_s:
                continue
            repeat = self._realise(contact)
            if repeat and contact.incident is None and rng.random() < REPEAT_SHARE:
                later = contact.time_s + rng.randint(2 * 3600, 36 * 3600)
                if later < self.timeline.end_s:
                    heapq.heappush(
                        heap,
                        Contact(
                            later,
                            self._next_seq(),
                            contact.scenario,
                            contact.domain,
                            contact.customer_id,
                            contact.order_id,
                            contact.journey_stage,
                            None,
                            True,
                            "call",
                            "angry" if rng.random() < 0.6 else "anxious",
                            times=contact.times + 1,
                            problem=contact.problem or contact.seq,
                        ),
                    )
        return self.out

    def _emotion(self, contact: Contact) -> str:
        if contact.emotion:
            return contact.emotion
        if contact.scenario is None:
            weights = (0.85, 0.1, 0.05)
        else:
            calm, anxious, angry = _SEVERITY_EMOTION.get(
                contact.scenario.severity, (0.45, 0.38, 0.17)
            )
            if contact.incident is not None:
                calm, angry = calm - 0.12, angry + 0.12
            weights = (calm, anxious, angry)
        return self.rng.choices(texts.EMOTIONS, weights=weights)[0]

    def _channel(self, contact: Contact, emotion: str) -> str:
        if contact.channel:
            return contact.channel
        names = [c for c, _ in CHANNELS]
        weights = [w * (1.6 if c == "social" and emotion == "angry" else 1.0) for c, w in CHANNELS]
        return self.rng.choices(names, weights=weights)[0]

    def _realise(self, contact: Contact) -> bool:
        """Emit a contact's records; True when it was left unresolved (may come back)."""
        rng = self.rng
        scenario = contact.scenario
        emotion = self._emotion(contact)
        channel = self._channel(contact, emotion)
        language = self.world.language[contact.customer_id]
        ctx = texts.TextContext(
            domain=contact.domain,
            language=language,
            emotion=emotion,
            order_id=contact.order_id,
            is_repeat=contact.is_repeat,
            times=contact.times,
        )
        key = self._keys[scenario.id] if scenario else None
        also = self._also(contact)
        signal = self._signal_before(contact)
        ticket_code = None
        # A contact about a threat scenario is one where the customer threatened
        # to take the problem outside: the threat is in their words, as the
        # truth says (DECISIONLOG "Breakpoints", emotion_escalation truth).
        threat = contact.threat or (scenario is not None and scenario.id in THREAT_SCENARIOS)
        self._threat = threat_line(rng, language) if threat else None
        self._opened_ticket = None
        problem = contact.problem or contact.seq
        self._related = None if channel == "social" else self._related_ticket(contact, problem)
        if channel == "call":
            contact_id, said, unresolved = self._call(contact, ctx, emotion, key, also)
        elif channel == "social":
            contact_id, said, unresolved = self._social(contact, ctx, emotion, key, also)
        else:
            said = self._with_threat(texts.customer_text(rng, key, ctx, spoken=False, also=also))
            ticket_id, contact_id, ticket_code = self._ticket(
                contact, ctx, contact.time_s, channel, said, None, emotion
            )
            unresolved = True
        # A threat is in what the customer said: a planted threat line, or the
        # family line of a scenario about taking the problem outside (its
        # phrasing says 12315 or the press), whichever scenario it came with.
        threatened = threat or texts.says_external(said, language)
        self._related = None
        if self._opened_ticket is not None:
            self._problem_ticket.setdefault(problem, (self._opened_ticket, self._opened_at))
            self._case_tickets.setdefault((contact.customer_id, contact.order_id), []).append(
                (self._opened_at, self._opened_ticket, problem)
            )
        if contact.incident is not None:
            key = contact.incident.incident_id
            self.out.extra_by_incident[key] = self.out.extra_by_incident.get(key, 0) + 1
            if key in self.out.cases:
                self.out.cases[key].setdefault("contact_ids", []).append(contact_id)
        self.out.truth.append(
            {
                "contact_id": contact_id,
                "channel": channel,
                "event_time": iso(contact.time_s),
                "scenario_id": scenario.id if scenario else None,
                "domain": scenario.domain if scenario else contact.domain,
                "stage": scenario.stage if scenario else None,
                "business_domain": contact.domain,
                "journey_stage": contact.journey_stage,
                "customer_id": contact.customer_id,
                "order_id": contact.order_id,
                "incident_id": contact.incident.incident_id if contact.incident else None,
                "incident_kind": contact.incident.kind if contact.incident else None,
                "threat": threatened,
                "language": language,
                "emotion": emotion,
                "is_repeat": contact.is_repeat,
                # the ticket this contact opened (None: none), and whether it was
                # settled while the customer was there (a call resolved on the call)
                "ticket_id": self._opened_ticket,
                "resolved_on_contact": channel == "call" and not unresolved,
                "signal_event": signal,
                "ticket_code": ticket_code,
                # what the contact carries besides its text (DECISIONLOG "Tag
                # accuracy by evidence"): a ticket code, else its scenario's app
                # signal shortly before, else nothing but the text
                "evidence": "ticket_code"
                if ticket_code
                else ("app_signal" if signal else "text_only"),
            }
        )
        return scenario is not None and unresolved

    def _related_ticket(self, contact: Contact, problem: int) -> str | None:
        """The earlier ticket this contact names: its problem's ticket on most
        returns; on a few first contacts, an open ticket of the same order filed
        by mistake (another problem's)."""
        link, t = self._link, contact.time_s
        if contact.is_repeat:
            ticket = self._problem_ticket.get(problem)
            if ticket is not None and ticket[1] < t and link.random() < RETURN_LINK_SHARE:
                return ticket[0]
            return None
        others = [
            ticket
            for at, ticket, p in self._case_tickets.get((contact.customer_id, contact.order_id), ())
            if p != problem and t - CASE_WINDOW_S < at < t
        ]
        if others and link.random() < MISFILED_SHARE:
            return others[-1]
        return None

    def _also(self, contact: Contact) -> texts.ScenarioKey | None:
        """A second problem the customer brings up too, from the same business."""
        if contact.scenario is None or self.rng.random() >= texts.MIXED_TOPIC_SHARE:
            return None
        keys = self._keys_of_domain.get(contact.domain) or self._keys_of_domain.get(
            contact.scenario.domain, []
        )
        return self.rng.choice(keys) if keys else None

    def _ticket_code(
        self, scenario: Scenario | None, rng: random.Random | None = None
    ) -> str | None:
        """The category an agent picks from the ticket form's menu."""
        rng = rng or self.rng
        if scenario is None or rng.random() < TICKET_CODE_NONE:
            return None
        roll = rng.random()
        if roll < TICKET_CODE_LEAF and scenario.ticket_category_signals:
            return rng.choice(scenario.ticket_category_signals)
        category = scenario.category
        if roll < TICKET_CODE_LEAF + TICKET_CODE_WRONG:
            others = [
                c for c in self._categories_of_domain.get(scenario.domain, []) if c != category
            ]
            category = rng.choice(others) if others else category
        return coarse_code(scenario.domain, category)

    def _with_threat(self, said: str) -> str:
        threat = getattr(self, "_threat", None)
        if not threat:
            return said
        return f"{said}{threat}" if threat[0] > "\u2e80" else f"{said} {threat}"

    # --------------------------------------------------------------- signals

    def _signal_stage(self, scenario: Scenario, domain: str, journey_stage: str | None) -> str:
        if scenario.domain == domain:
            return scenario.stage
        return journey_stage or self._first_stage.get(domain, scenario.stage)

    def _signal_before(self, contact: Contact) -> str | None:
        scenario = contact.scenario
        if scenario is None or not scenario.app_event_signals or contact.is_repeat:
            return None
        if self.rng.random() >= SIGNAL_BEFORE_CONTACT_SHARE:
            return None
        name = self.rng.choice(scenario.app_event_signals)
        t = contact.time_s - self.rng.randint(60, 15 * 60)
        if t < self.timeline.start_s:
            return None
        stage = self._signal_stage(scenario, contact.domain, contact.journey_stage)
        self.out.signal_events.append(
            AppEvent(
                t,
                contact.domain,
                contact.customer_id,
                self.world.new_session(self.seed),
                contact.order_id,
                stage,
                name,
                {"source": "server"},
            )
        )
        return name

    def _uncontacted_signals(self) -> None:
        """Signal events nobody contacts us about: a signal is evidence, not proof."""
        tl, rng = self.timeline, self.rng
        for scenario in self.catalog.scenarios:
            if not scenario.app_event_signals:
                continue
            rates = [
                UNCONTACTED_SIGNAL_RATIO * self.base_rate(scenario, h) for h in range(tl.hours)
            ]
            for t in arrivals(rng, tl, rates):
                placed = self._place(scenario, t, None)
                stage = self._signal_stage(scenario, placed.domain, placed.journey_stage)
                self.out.signal_events.append(
                    AppEvent(
                        t,
                        placed.domain,
                        placed.customer_id,
                        self.world.new_session(self.seed),
                        placed.order_id,
                        stage,
                        rng.choice(scenario.app_event_signals),
                        {"source": "server"},
                    )
                )
        for incident in self.incidents:
            if incident.kind != "step_failure":
                continue
            # (magnitude - 1) x the stage's usual failure events, all of one failure.
            share = UNCONTACTED_SIGNAL_RATIO + SIGNAL_BEFORE_CONTACT_SHARE
            rates = [
                (incident.magnitude - 1.0)
                * share
                * sum(
                    self.base_rate(s, h)
                    for s in self.catalog.scenarios_of(incident.domain)
                    if s.stage == incident.stage and s.app_event_signals
                )
                for h in range(tl.hours)
            ]
            for t in arrivals(rng, tl, rates):
                if not incident.active(t):
                    continue
                placed = self._place(incident.scenario, t, None)
                self.out.signal_events.append(
                    AppEvent(
                        t,
                        incident.domain,
                        placed.customer_id,
                        self.world.new_session(self.seed),
                        placed.order_id,
                        incident.stage,
                        incident.subject,
                        {"source": "server"},
                    )
                )
                key = incident.incident_id
                self.out.extra_by_incident[key] = self.out.extra_by_incident.get(key, 0) + 1
                self.out.incident_event_times.setdefault(key, []).append(t)

    # ----------------------------------------------------------------- calls

    def _entry_point(self, scenario: Scenario | None) -> str:
        rng = self.rng
        if scenario and scenario.entry_point_signals and rng.random() < 0.6:
            return rng.choice(scenario.entry_point_signals)
        if self._special and rng.random() < 0.04:
            return rng.choice(self._special)
        return rng.choices(self._voice, weights=[3.0] + [1.0] * (len(self._voice) - 1))[0]

    def _ivr(self, contact: Contact, entry_point: str, language: str) -> list[str]:
        rng = self.rng
        scenario = contact.scenario
        if "app" in entry_point or "order" in entry_point:
            path = ["app_entry"]
        else:
            path = ["welcome", f"lang_{language}", f"menu_{contact.domain}"]
        if rng.random() < 0.2:
            path += ["self_service", "back"]
        if scenario is None:
            topic = "other"
        elif rng.random() < 0.7:
            topic = scenario.stage
        else:
            stages = self.catalog.stages_of(contact.domain)
            topic = rng.choice(stages).id if stages else "other"
        path += [f"topic_{topic}", "agent"]
        return path

    def _call(
        self,
        contact: Contact,
        ctx: texts.TextContext,
        emotion: str,
        key: texts.ScenarioKey | None,
        also: texts.ScenarioKey | None,
    ) -> tuple[str, str, bool]:
        rng = self.rng
        scenario = contact.scenario
        self._n_call += 1
        call_id = f"call-{self.seed}-{self._n_call:06d}"
        entry_point = self._entry_point(scenario)
        busy = any(i.active(contact.time_s) for i in self.incidents if i.kind == "contact_spike")
        queue_wait = round(rng.expovariate(1 / 45.0) * (2.5 if busy else 1.0), 1)
        talk = round(
            math.exp(rng.gauss(math.log(200), 0.5)) * (1.3 if emotion == "angry" else 1.0), 1
        )
        agent = rng.choice(self._agents)
        if scenario is None:
            outcome = "resolved"
        elif rng.random() < _SEVERITY_TICKET.get(scenario.severity, 0.4):
            outcome = "ticket"
        else:
            outcome = "resolved" if rng.random() < 0.72 else "open"
        said = self._with_threat(texts.customer_text(rng, key, ctx, spoken=True, also=also))
        priority = self._priority(scenario, emotion)
        sla_h = scenario.sla_hours.get(priority) if scenario else None
        transcript = texts.transcript(
            rng, key, ctx, said, agent_id=agent, outcome=outcome, sla_hours=sla_h
        )
        transcript = add_personal_data(transcript, call_id, ctx.language, contact.customer_id)
        ticket_id = None
        if outcome == "ticket" and scenario is not None:
            dept = self.catalog.departments.get(scenario.owner, scenario.owner)
            summary = texts.call_summary(rng, ctx, said, dept)
            end = contact.time_s + int(queue_wait + talk)
            ticket_id, _, _ = self._ticket(
                contact, ctx, end, "call", summary, call_id, emotion, priority
            )
        survey = None
        if rng.random() < 0.55:
            base = {"resolved": 4.4, "ticket": 3.4, "open": 2.6}[outcome]
            base -= {"calm": 0.0, "anxious": 0.4, "angry": 1.2}[emotion]
            survey = int(min(5, max(1, round(rng.gauss(base, 0.8)))))
        nps = None
        if survey is not None and self._nps.random() < NPS_ANSWER_SHARE:
            # Recommending the company follows how the call went, loosely.
            nps = int(min(10, max(0, round(self._nps.gauss(2.0 * survey - 0.5, 1.6)))))
        record = {
            "schema_version": SCHEMA_VERSION,
            "event_id": call_id,
            "event_time": iso(contact.time_s),
            "domain": contact.domain,
            "customer_id": contact.customer_id,
            "order_id": contact.order_id,
            "entry_point": entry_point,
            "ivr_path": self._ivr(contact, entry_point, ctx.language),
            "queue_wait_s": queue_wait,
            "talk_time_s": talk,
            "agent_id": agent,
            "transcript": transcript,
            "language": ctx.language,
            "emotion": emotion,
            "emotion_score": _emotion_score(rng, emotion),
            "survey_score": survey,
            "nps_score": nps,
            "resolved_on_call": outcome == "resolved",
            "ticket_id": ticket_id,
            "related_ticket_id": self._related,
        }
        self.out.calls.append((contact.time_s, record))
        return call_id, said, outcome != "resolved"

    # ---------------------------------------------------------------- social

    def _social(
        self,
        contact: Contact,
        ctx: texts.TextContext,
        emotion: str,
        key: texts.ScenarioKey | None,
        also: texts.ScenarioKey | None,
    ) -> tuple[str, str, bool]:
        rng = self.rng
        self._n_social += 1
        post_id = f"soc-{self.seed}-{self._n_social:06d}"
        platforms = _PLATFORMS[ctx.language]
        platform = rng.choices([p for p, _ in platforms], weights=[w for _, w in platforms])[0]
        if ctx.language == "zh":
            handle = f"{rng.choice(_HANDLE_ZH)}{rng.randint(10, 9999)}"
        else:
            handle = f"{rng.choice(_HANDLE_EN)}_{rng.randint(10, 9999)}"
        # A person keeps one handle per platform: the marts link posts by it.
        handle = self._handles.setdefault((contact.customer_id, platform), handle)
        known = rng.random() < 0.35  # the listening tool matched the author to a customer
        said = self._with_threat(texts.social_text(rng, key, ctx, also=also))
        if contact.scenario is None:
            sentiment: float | None = round(rng.uniform(-0.1, 0.6), 3)
        else:
            sentiment = _emotion_score(rng, emotion)
        if rng.random() < 0.08:
            sentiment = None
        record = {
            "schema_version": SCHEMA_VERSION,
            "event_id": post_id,
            "event_time": iso(contact.time_s),
            "domain": contact.domain,
            "platform": platform,
            "author_handle": handle,
            "customer_id": contact.customer_id if known else None,
            "order_id": contact.order_id if known else None,
            "text": add_personal_data(said, post_id, ctx.language, contact.customer_id),
            "language": ctx.language,
            "reach": int(math.exp(rng.gauss(5.0, 1.8))),
            "sentiment": sentiment,
        }
        self.out.social.append((contact.time_s, record))
        if contact.scenario is not None:
            self._social_care(contact, ctx, said, post_id, emotion, known)
        return post_id, said, True

    def _social_care(
        self,
        contact: Contact,
        ctx: texts.TextContext,
        said: str,
        post_id: str,
        emotion: str,
        known: bool,
    ) -> None:
        """The social team answers a post about a problem (or not). It cannot help
        an author it cannot match to a customer before it knows who they are, so it
        asks for an order number or a phone number in a private message; when it
        has the customer, it opens a ticket that names the post. A post nobody
        answers, or whose author never writes back, stays anonymous."""
        care = self._care
        if care.random() >= SOCIAL_ANSWERED_SHARE:
            return
        at = contact.time_s + int(math.exp(care.gauss(math.log(SOCIAL_ANSWER_MEDIAN_S), 1.0)))
        order = phone = None
        if not known:
            if care.random() >= SOCIAL_DM_REPLY_SHARE:
                return
            at += int(math.exp(care.gauss(math.log(SOCIAL_DM_MEDIAN_S), 1.0)))
            order = contact.order_id
            phone = None if order else person(contact.customer_id).mobile(care)
        if at >= self.timeline.end_s:
            return  # the exchange ends after the data does: no ticket in it
        note = texts.social_care_note(care, ctx, said, order, phone)
        self._ticket(contact, ctx, at, "social", note, post_id, emotion, rng=care, life=care)

    # --------------------------------------------------------------- tickets

    def _priority(
        self, scenario: Scenario | None, emotion: str, rng: random.Random | None = None
    ) -> str:
        rng = rng or self.rng
        if scenario is None:
            return "low"
        options = _SEVERITY_PRIORITY.get(scenario.severity, _SEVERITY_PRIORITY["medium"])
        priority = rng.choices([p for p, _ in options], weights=[w for _, w in options])[0]
        if emotion == "angry" and rng.random() < 0.5:
            priority = _PRIORITY_UP[priority]
        return priority

    def _ticket(
        self,
        contact: Contact,
        ctx: texts.TextContext,
        created: int,
        channel: str,
        said: str,
        source_contact_id: str | None,
        emotion: str,
        priority: str | None = None,
        *,
        rng: random.Random | None = None,
        life: random.Random | None = None,
    ) -> tuple[str, str, str | None]:
        """Emit one ticket's lifecycle; return (ticket_id, id of its created event,
        its category code). `rng` and `life` replace the simulator's streams for a
        ticket that has its own (social care)."""
        rng = rng or self.rng
        life = life or self._life
        scenario = contact.scenario
        self._n_ticket += 1
        ticket_id = f"tkt-{self.seed}-{self._n_ticket:06d}"
        priority = priority or self._priority(scenario, emotion, rng)
        sla_h = scenario.sla_hours.get(priority, _DEFAULT_SLA_H) if scenario else _DEFAULT_SLA_H
        sla_s = int(sla_h * 3600)
        category = self._ticket_code(scenario, rng)
        department = scenario.owner if scenario else "customer_service"
        # The ticketing system stamps the due date on the department's business
        # clock: the target counts working hours (DECISIONLOG "SLA clocks").
        due = sla.business_deadline(
            self._windows.get(department, sla.ALWAYS_OPEN),
            _utc(created),
            dt.timedelta(seconds=sla_s),
        )
        common = {
            "domain": contact.domain,
            "ticket_id": ticket_id,
            "customer_id": contact.customer_id,
            "order_id": contact.order_id,
            "priority": priority,
            "sla_due_at": iso(_epoch(due)),
            "category_code": category,
            "language": ctx.language,
        }
        n = 0
        end_s = self.timeline.end_s

        def emit(t: int, event_type: str, **extra: Any) -> str:
            nonlocal n
            n += 1
            event_id = f"tev-{self.seed}-{self._n_ticket:06d}-{n:02d}"
            if t < end_s:
                record = {
                    "schema_version": SCHEMA_VERSION,
                    "event_id": event_id,
                    "event_time": iso(t),
                    "event_type": event_type,
                    **common,
                    **extra,
                }
                self.out.tickets.append((t, record))
            return event_id

        created_id = emit(
            created,
            "created",
            channel=channel,
            source_contact_id=source_contact_id,
            related_ticket_id=self._related,
            text=add_personal_data(said, f"{ticket_id}-created", ctx.language, contact.customer_id),
        )
        urgent = priority in ("urgent", "high")
        t = created + rng.randint(60, 600 if urgent else 1800)
        emit(t, "assigned", department=department, tier="L1")
        pace = self._dept_pace.get(department, 1.0)
        resolve_s = max(600, int(sla_s * math.exp(rng.gauss(math.log(0.55 * pace), 0.55))))
        escalate_p = 0.12 + (0.15 if emotion == "angry" else 0.0)
        escalate_p += 0.1 if scenario and scenario.severity in ("high", "critical") else 0.0
        respond_at = t + int(resolve_s * rng.uniform(0.08, 0.35))
        emit(respond_at, "responded")
        pauses: list[tuple[int, int]] = []
        first_resolution = max(created + resolve_s, respond_at + 60)
        if life.random() < PENDING_SHARE and first_resolution - respond_at > 1800:
            # The agent asks the customer for something; the clock waits for the reply.
            pend_at = respond_at + life.randint(60, 900)
            reply_at = min(pend_at + life.randint(1800, 12 * 3600), first_resolution - 60)
            if reply_at > pend_at:
                emit(pend_at, "pending")
                emit(reply_at, "customer_replied")
                pauses.append((pend_at, reply_at))
        compensation = None
        if scenario is not None and scenario.is_guarantee and life.random() < COMPENSATION_SHARE:
            compensation = self._compensate(ticket_id, created, scenario, emit, life)
        escalations: list[tuple[int, str]] = []
        if rng.random() < escalate_p:
            tiers = ["L2"]
            while len(tiers) < 3 and rng.random() < 0.3:
                tiers.append(f"L{len(tiers) + 2}")
            if priority == "urgent" and life.random() < DIRECT_HQ_SHARE:
                tiers = ["L4"]  # urgent, high-value, disputed: straight to HQ
            for k, tier in enumerate(tiers):
                at = respond_at + max(60, created + resolve_s - respond_at) * (k + 1) // (
                    len(tiers) + 2
                )
                emit(at, "escalated", department=department, tier=tier)
                escalations.append((at, tier))
        resolved_at = max(created + resolve_s, respond_at + 60)
        emit(resolved_at, "resolved")
        # Reopen and rating odds follow the breach the customer lives through: on
        # the department's business clock, waits on the customer excluded, as
        # the truth (and the SLA marts) count it, not the wall clock.
        breached = self._business_elapsed(department, created, resolved_at, pauses) > sla_s
        reopened = rng.random() < (0.08 + (0.12 if breached else 0.0))
        reopen_at = None
        if reopened:
            t = resolved_at + rng.randint(2 * 3600, 30 * 3600)
            reopen_at = t
            emit(t, "reopened")
            t += int(sla_s * rng.uniform(0.05, 0.2))
            emit(t, "responded")
            resolved_at = t + int(sla_s * rng.uniform(0.2, 0.8))
            emit(resolved_at, "resolved")
            breached = self._business_elapsed(department, created, resolved_at, pauses) > sla_s
        if rng.random() < 0.6:
            score = 4.4 - (1.5 if breached else 0.0) - (1.2 if reopened else 0.0)
            score -= {"calm": 0.0, "anxious": 0.3, "angry": 0.7}[emotion]
            rating = int(min(5, max(1, round(rng.gauss(score, 0.8)))))
            rated_at = resolved_at + rng.randint(600, 86400)
            emit(rated_at, "rated", rating=rating)
        else:
            rating = rated_at = None
        self._opened_ticket, self._opened_at = ticket_id, created
        self._ticket_truth(
            ticket_id,
            created,
            department,
            priority,
            sla_s,
            respond_at,
            first_resolution,
            resolved_at,
            reopen_at,
            pauses,
            escalations,
            rating,
            rated_at,
            compensation,
        )
        return ticket_id, created_id, category

    def _business_elapsed(
        self, department: str, created: int, stop: int, pauses: list[tuple[int, int]]
    ) -> float:
        """Seconds of the department's working time from `created` to `stop`,
        less the waits on the customer before `stop` (voc.sla)."""
        window = self._windows.get(department, sla.ALWAYS_OPEN)
        spans = [(_utc(a), _utc(min(b, stop))) for a, b in pauses if a < stop]
        return sla.business_seconds(window, _utc(created), _utc(stop), spans)

    def _compensate(
        self, ticket_id: str, created: int, scenario: Scenario, emit, life: random.Random
    ) -> dict:
        """先行赔付: a guarantee claim paid before the dispute is settled (target 2 h)."""
        requested = created + life.randint(120, 1800)
        approved = requested + int(math.exp(life.gauss(math.log(2400), 0.6)))
        paid = approved + int(math.exp(life.gauss(math.log(1500), 0.7)))
        amount = round(math.exp(life.gauss(math.log(80), 0.8)), 2)
        owner = scenario.owner if life.random() < 0.7 else "customer_service"
        emit(requested, "compensation_requested", compensation_amount_cny=amount)
        emit(approved, "compensation_approved", compensation_amount_cny=amount, budget_owner=owner)
        emit(paid, "compensation_paid", compensation_amount_cny=amount, budget_owner=owner)
        row = {
            "ticket_id": ticket_id,
            "scenario_id": scenario.id,
            "requested_at": iso(requested),
            "approved_at": iso(approved) if approved < self.timeline.end_s else None,
            "paid_at": iso(paid) if paid < self.timeline.end_s else None,
            "amount_cny": amount,
            "budget_owner": owner,
            "paid_within_2h": paid - requested <= 2 * 3600 if paid < self.timeline.end_s else None,
        }
        if requested < self.timeline.end_s:
            self.out.compensation_truth.append(row)
        return row

    def _ticket_truth(
        self,
        ticket_id,
        created,
        department,
        priority,
        sla_s,
        respond_at,
        first_resolution,
        resolved_at,
        reopen_at,
        pauses,
        escalations,
        rating,
        rated_at,
        compensation,
    ) -> None:
        """The ticket's resolution SLA on the department's business clock, as the
        simulator knows it (pauses while pending on the customer do not count)."""
        end_s = self.timeline.end_s
        if created >= end_s:
            return
        # What the records show by the end of the data: a reopen after the end
        # leaves the first resolution standing.
        reopened = reopen_at is not None and reopen_at < end_s
        if reopen_at is not None and not reopened:
            resolved_at = first_resolution
        done = resolved_at < end_s
        stop = resolved_at if done else end_s
        elapsed = self._business_elapsed(department, created, stop, pauses)
        if done:
            breached: bool | None = elapsed > sla_s
        else:
            breached = True if elapsed > sla_s else None  # running: undecided until it passes
        self.out.ticket_truth.append(
            {
                "ticket_id": ticket_id,
                "department_id": department,
                "priority": priority,
                "created_at": iso(created),
                "target_business_s": sla_s,
                "resolved_at": iso(resolved_at) if done else None,
                "elapsed_business_s": elapsed,
                "is_breached": breached,
                "is_reopened": reopened,
                "paused_s": sum(b - a for a, b in pauses),
                "tier_path": ["L1"] + [t for at, t in escalations if at < end_s],
                "rating": rating if rated_at is not None and rated_at < end_s else None,
                "has_compensation": compensation is not None,
            }
        )


def scenario_key(scenario: Scenario) -> texts.ScenarioKey:
    """What the text generator may know of a scenario (not its catalog wording)."""
    return texts.ScenarioKey(scenario.id, scenario.domain, scenario.stage, scenario.category)


def coarse_code(domain: str, category: str) -> str:
    """A ticket form's coarse category, e.g. `freight/delay`: what most agents pick."""
    return f"{domain}/{category}"


def _utc(t: int) -> dt.datetime:
    """Epoch seconds as a naive UTC datetime (voc.sla's convention)."""
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=t)


def _epoch(at: dt.datetime) -> int:
    """A naive UTC datetime on whole seconds as epoch seconds (inverse of _utc)."""
    return int((at - dt.datetime(1970, 1, 1)).total_seconds())


def _emotion_score(rng: random.Random, emotion: str) -> float:
    low, high = {"calm": (-0.2, 0.5), "anxious": (-0.6, -0.1), "angry": (-1.0, -0.5)}[emotion]
    return round(rng.uniform(low, high), 3)


def _entry_points(catalog: Catalog) -> tuple[list[str], list[str]]:
    """Voice entry points: general lines, and special lines used mostly as signals."""
    written = ("chat", "form", "wechat", "web", "email", "mail")
    voice = [e for e in catalog.entry_points if not any(w in e for w in written)]
    signalled = {e for s in catalog.scenarios for e in s.entry_point_signals}
    general = [e for e in voice if e not in signalled]
    special = [e for e in voice if e in signalled]
    if not general:
        general = voice or sorted(catalog.entry_points) or ["hotline"]
    return general, special


__all__ = ["COMMON_DOMAIN", "ContactGenerator", "Output", "iso"]
