"""Planted incidents and decoys: the ground truth breakpoint detectors are measured against.

Every kind of journey break is planted, sized from barely visible to obvious,
over days 2..N (day 1 is the detectors' warm-up), together with decoys that
must not raise an alert: busy calendar days (public holidays, promotion days)
that lift all volume, a marketing push that lifts one business's orders and
one scenario's contacts together, a very quiet night, and a noisy but stable
scenario. This module knows nothing of how detectors decide; it only says what
the world did.

Magnitude is the factor by which the broken thing moved at the level where it
is measured: contacts about the stage (contact_spike), the stage's failure
events (step_failure), the share of journeys that do not move on
(funnel_drop: 1 / (1 - drop)), the throughput of the operation that moves
journeys on from the step, which falls to 1 / magnitude (stuck_journeys), the
business's negative posts (social_surge); for case kinds (repeat_loop,
emotion_escalation) it is the number of contacts (1 for a threat).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from voc.catalog import Catalog, Scenario
from voc.simulate.timeline import LOCAL_UTC_OFFSET_H, Timeline

RATE_KINDS = ("contact_spike", "step_failure", "funnel_drop", "stuck_journeys", "social_surge")
CASE_KINDS = ("repeat_loop", "emotion_escalation")
KINDS = RATE_KINDS + CASE_KINDS
DECOY_KINDS = ("promotion_day", "marketing_push", "quiet_night", "noisy_scenario")
# Where customers decide (they may walk away) vs. where an order waits on us.
DECIDING_STAGES = frozenset({"presale", "order"})
# The simulator's own calendar of busy days (month, day): shopping festivals.
PROMOTION_DAYS = {(6, 18): 2.2, (11, 11): 2.5, (12, 12): 1.8}
HOLIDAY_LIFT = 0.75  # a public holiday: fewer freight and parcel orders overall
WEEKEND_LIFT = 0.9
# Scenarios that are, in themselves, a threat to take the problem outside.
THREAT_SCENARIOS = frozenset(
    {
        "common.service.media_threat",
        "common.service.regulator_threat",
        "common.service.legal_threat",
        "ecommerce.complaint.regulator_12315",
        "ecommerce.complaint.regulator_case_received",
        "ecommerce.complaint.consumer_association",
        "ecommerce.complaint.media_exposure",
        "ecommerce.complaint.social_media_post",
        "ecommerce.complaint.lawsuit_threat",
        "ecommerce.complaint.public_opinion_risk",
        "ecommerce.complaint.police_report_threat",
    }
)
# Escalation threats a customer might write; the detector's own words are not read here.
THREATS_ZH = (
    "再不解决我就打12315投诉你们",
    "我已经联系了律师，等着收律师函吧",
    "我要把这事发到微博上曝光你们",
    "我会找电视台的记者来评评理",
    "明天我就去市场监管局反映",
    "不给说法我们法院见",
    "我要去消费者协会告你们",
    "这事我会发到小红书上让大家都看看",
    "我已经打了市长热线",
    "再拖下去我就走法律程序",
)
THREATS_EN = (
    "If this is not fixed today I will talk to my lawyer.",
    "I am going to report you to the consumer protection office.",
    "I will take this to the press and go public.",
    "Expect to hear from my attorney.",
    "I'll sue if I have to.",
    "I'm filing a complaint with the ombudsman.",
    "I'll post this everywhere until someone fixes it.",
    "My solicitor will be in touch.",
    "I'm taking you to small claims court.",
)


@dataclass(frozen=True, slots=True)
class Incident:
    """A planted break. `scenario` is set for contact kinds; `stage`/`subject` say
    which step broke (subject: a failure event, a journey event, a customer or
    a contact id, depending on the kind)."""

    incident_id: str
    scenario: Scenario | None
    start_s: int
    end_s: int
    magnitude: float
    kind: str = "contact_spike"
    domain: str = ""
    stage: str = ""
    subject: str = ""

    def active(self, t: int) -> bool:
        return self.start_s <= t < self.end_s


@dataclass(frozen=True, slots=True)
class Decoy:
    """Something that moves volume but is not a break."""

    decoy_id: str
    kind: str
    start_s: int
    end_s: int
    lift: float
    domain: str = ""
    scenario: Scenario | None = None

    def active(self, t: int) -> bool:
        return self.start_s <= t < self.end_s


@dataclass
class Plan:
    incidents: list[Incident] = field(default_factory=list)
    decoys: list[Decoy] = field(default_factory=list)
    # Per simulated hour: how much all volume is lifted (calendar, promotions, quiet night).
    lift: tuple[float, ...] = ()


def default_incident_count(days: int) -> int:
    """Per kind: one every other day after the first (at least one)."""
    return max(1, (days - 1 + 1) // 2) if days >= 2 else 0


def _local_date(t: int):
    return datetime.fromtimestamp(t + LOCAL_UTC_OFFSET_H * 3600, tz=UTC).date()


def calendar_lift(timeline: Timeline) -> list[float]:
    """The volume of each simulated hour relative to an ordinary weekday."""
    import chinese_calendar

    out = []
    for h in range(timeline.hours):
        day = _local_date(timeline.hour_start(h))
        lift = PROMOTION_DAYS.get((day.month, day.day), 1.0)
        if lift == 1.0:
            try:
                holiday = chinese_calendar.is_holiday(day)
                workday = chinese_calendar.is_workday(day)
            except NotImplementedError:  # a year the package does not know
                holiday, workday = day.weekday() >= 5, day.weekday() < 5
            if holiday and chinese_calendar.get_holiday_detail(day)[1] is not None:
                lift = HOLIDAY_LIFT
            elif not workday:
                lift = WEEKEND_LIFT
        out.append(lift)
    return out


def _magnitude(rng: random.Random) -> float:
    """From barely visible to obvious: a quarter small (<= 2x), the rest medium or large."""
    r = rng.random()
    if r < 0.25:
        return round(rng.uniform(1.5, 2.0), 2)
    if r < 0.6:
        return round(rng.uniform(2.0, 5.0), 2)
    return round(rng.uniform(5.0, 12.0), 2)


def _start(rng: random.Random, timeline: Timeline, day: int, earliest_h: int, latest_h: int):
    """A start on simulated day `day` between local hours earliest_h and latest_h."""
    midnight = timeline.start_s + day * 86400
    midnight -= (midnight + LOCAL_UTC_OFFSET_H * 3600) % 86400
    return midnight + rng.randint(earliest_h * 3600, latest_h * 3600) + 60 * rng.randrange(60)


def plan(
    rng: random.Random,
    catalog: Catalog,
    timeline: Timeline,
    per_kind: int,
    stage_events: dict[tuple[str, str], tuple[str, ...]],
    business_domains: tuple[str, ...],
    *,
    decoys: bool = True,
) -> Plan:
    """Plan `per_kind` incidents of every kind over days 2..N, and the decoys."""
    out = Plan()
    lift = calendar_lift(timeline)
    if timeline.days < 2 or per_kind <= 0:
        out.lift = tuple(lift)
        return out
    days = list(range(1, timeline.days))
    biz = [d for d in business_domains if catalog.scenarios_of(d)]
    taken: list[tuple[str, int, int]] = []  # (footprint, start, end): no two on one step at once

    def free(footprint: str, a: int, b: int) -> bool:
        return all(
            not (f == footprint and a < e + 6 * 3600 and s < b + 6 * 3600) for f, s, e in taken
        )

    n = 0
    for kind in KINDS:
        for i in range(per_kind):
            for _attempt in range(30):
                day = days[
                    (i * len(KINDS) + KINDS.index(kind) + rng.randrange(len(days))) % len(days)
                ]
                domain = rng.choice(biz)
                inc = _one(rng, catalog, timeline, kind, day, domain, stage_events, n + 1)
                if inc is None:
                    continue
                footprint = f"{inc.domain}|{inc.stage}" if kind in RATE_KINDS else inc.subject
                if kind == "social_surge":
                    footprint = inc.domain
                if inc.end_s > timeline.end_s or not free(footprint, inc.start_s, inc.end_s):
                    continue
                taken.append((footprint, inc.start_s, inc.end_s))
                n += 1
                out.incidents.append(inc)
                break
    if decoys:
        out.decoys, lift = _decoys(rng, catalog, timeline, biz, lift, taken)
    out.lift = tuple(lift)
    out.incidents.sort(key=lambda i: (i.start_s, i.incident_id))
    return out


def _one(rng, catalog, timeline, kind, day, domain, stage_events, number) -> Incident | None:
    iid = f"inc-{number:03d}"
    m = _magnitude(rng)
    start = _start(rng, timeline, day, 8, 18)
    duration = rng.randint(90, 240) * 60
    stages = [s.id for s in catalog.stages_of(domain)]
    if kind == "contact_spike":
        # A journey step that breaks shows in the app: contact spikes are planted
        # on scenarios with an app-event signal (DECISIONLOG "Simulated incidents").
        pool = [s for s in catalog.scenarios_of(domain) if s.app_event_signals] or list(
            catalog.scenarios_of(domain)
        )
        sc = rng.choice(pool)
        return Incident(iid, sc, start, start + duration, m, kind, domain, sc.stage, sc.id)
    if kind == "step_failure":
        pool = [s for s in catalog.scenarios_of(domain) if s.app_event_signals]
        if not pool:
            return None
        sc = rng.choice(pool)
        event = rng.choice(sc.app_event_signals)
        return Incident(iid, sc, start, start + duration, m, kind, domain, sc.stage, event)
    if kind == "funnel_drop":
        options = [
            (st, ev)
            for st in stages
            if st in DECIDING_STAGES
            for ev in stage_events.get((domain, st), ())[:-1]
        ]
        if not options:
            return None
        st, ev = rng.choice(options)
        m = round(rng.uniform(2.0, 12.0), 2) if m < 2.0 and rng.random() < 0.5 else m
        return Incident(iid, None, start, start + duration, m, kind, domain, st, ev)
    if kind == "stuck_journeys":
        options = [
            st
            for st in stages
            if st not in DECIDING_STAGES and len(stage_events.get((domain, st), ())) >= 2
        ]
        if not options:
            return None
        st = rng.choice(options)
        first = stage_events[(domain, st)][0]
        return Incident(iid, None, start, start + duration, m, kind, domain, st, first)
    if kind == "social_surge":
        return Incident(iid, None, start, start + duration, m, kind, domain, "", "")
    if kind == "repeat_loop":
        contacts = rng.choice((3, 3, 4))
        # Filled in with a customer and an order by the contact generator.
        return Incident(iid, None, start, start + 1, float(contacts), kind, domain, "", iid)
    if kind == "emotion_escalation":
        return Incident(iid, None, start, start + 1, 1.0, kind, domain, "", iid)
    return None


def _decoys(rng, catalog, timeline, biz, lift, taken):
    decoys: list[Decoy] = []
    lift = list(lift)
    # A store-wide sale on a day the calendar does not know: everything doubles.
    day = rng.randrange(1, timeline.days)
    a = timeline.start_s + day * 86400
    a -= (a + LOCAL_UTC_OFFSET_H * 3600) % 86400
    for h in range(timeline.hours):
        if a <= timeline.hour_start(h) < a + 86400:
            lift[h] *= 2.0
    decoys.append(Decoy("decoy-promotion", "promotion_day", a, a + 86400, 2.0))
    for h, v in enumerate(lift):
        if v != 1.0 and v != 2.0:
            t = timeline.hour_start(h)
            if not decoys or decoys[-1].kind != "calendar_day" or decoys[-1].end_s != t:
                decoys.append(Decoy(f"decoy-calendar-{h}", "calendar_day", t, t + 3600, v))
            else:
                d = decoys[-1]
                decoys[-1] = Decoy(d.decoy_id, d.kind, d.start_s, t + 3600, d.lift)
    # A very quiet night.
    night = rng.randrange(1, timeline.days)
    q = timeline.start_s + night * 86400
    q -= (q + LOCAL_UTC_OFFSET_H * 3600) % 86400
    for h in range(timeline.hours):
        if q <= timeline.hour_start(h) < q + 6 * 3600:
            lift[h] *= 0.3
    decoys.append(Decoy("decoy-quiet-night", "quiet_night", q, q + 6 * 3600, 0.3))
    # A marketing push: one business's orders and one of its scenarios rise together.
    domain = rng.choice(biz)
    sc = rng.choice(catalog.scenarios_of(domain))
    start = _start(rng, timeline, rng.randrange(1, timeline.days), 10, 16)
    decoys.append(Decoy("decoy-push", "marketing_push", start, start + 4 * 3600, 2.5, domain, sc))
    # A noisy but stable scenario: its hourly rate wanders, with no break.
    noisy = rng.choice(catalog.scenarios_of(rng.choice(biz)))
    decoys.append(
        Decoy(
            "decoy-noisy",
            "noisy_scenario",
            timeline.start_s,
            timeline.end_s,
            6.0,
            noisy.domain,
            noisy,
        )
    )
    return decoys, lift


def noise_factor(rng: random.Random) -> float:
    """An hour's rate factor for the noisy scenario: lognormal, mean 1."""
    return math.exp(rng.gauss(-0.245, 0.7))


def threat_line(rng: random.Random, language: str) -> str:
    return rng.choice(THREATS_ZH if language == "zh" else THREATS_EN)
