"""Deterministic simulator of the four input streams, with ground truth.

`simulate(out_dir, days, seed)` writes, for three businesses (freight matching,
express delivery, e-commerce) and the cross-cutting `common` scenarios:

    calls.jsonl, ticket_events.jsonl, app_events.jsonl, social_posts.jsonl
        one JSON object per line, valid against schemas/<stream>.schema.json
        except the deliberately malformed lines listed in ground truth;
    ground_truth/incidents.jsonl   one row per planted incident;
    ground_truth/contacts.jsonl    one row per contact (call, standalone
        ticket's created event, social post): its true scenario or null;
    ground_truth/malformed.jsonl   one row per broken line (stream, line, kind);
    ground_truth/fixes.jsonl       one row per planted fix (release time, effective
        or decoy), when fixes are asked for (voc.simulate.fixes);
    ground_truth/tickets.jsonl     one row per ticket: its resolution SLA on the
        department's business clock (pauses excluded), breach, tier path, rating;
    ground_truth/compensations.jsonl  one row per 先行赔付 claim;
    manifest.json                  counts, seed, days, start, catalog.

Pure Python, no Beam. Same arguments -> byte-identical files: every random
draw comes from a `random.Random` derived from the seed (one per component, so
that changing one component does not reshuffle the others), iteration is over
lists and insertion-ordered dicts only, and nothing reads the wall clock.

Ground-truth conventions: `domain`/`stage` of a contact are its scenario's
(`common` for cross-cutting scenarios); `business_domain` is the business the
customer used, which is also the `domain` field of the stream records. Only
the extra contacts an incident causes (inside its window) carry its
`incident_id`; a later repeat contact about the same problem does not, but is
marked `is_repeat`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from voc.catalog import Catalog, load_catalog
from voc.simulate.contacts import ContactGenerator, iso
from voc.simulate.fixes import chronic_rates, plan_fixes
from voc.simulate.incidents import default_incident_count, plan
from voc.simulate.journeys import STAGE_EVENTS, AppEvent, build_world, business_domains
from voc.simulate.timeline import Timeline
from voc.simulate.writer import write_jsonl, write_stream

DEFAULT_START = datetime(2026, 11, 2, tzinfo=UTC)
STREAM_FILES = {
    "calls": "calls.jsonl",
    "ticket_events": "ticket_events.jsonl",
    "app_events": "app_events.jsonl",
    "social_posts": "social_posts.jsonl",
}
GENERATOR = "voc.simulate/1"

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class SimulationSummary:
    """What one simulate() run wrote. `events` counts valid lines per stream."""

    events: dict[str, int]
    contacts: int
    incidents: int
    malformed: int
    out_dir: Path
    malformed_by_stream: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        return d


def _rng(seed: int, component: str) -> random.Random:
    # str seeds are hashed with SHA-512 by random.seed: stable across runs and
    # Python processes (unlike hash()).
    return random.Random(f"voc-sim:{seed}:{component}")


def simulate(
    out_dir: Path,
    days: int = 7,
    seed: int = 42,
    catalog: Catalog | None = None,
    start: datetime = DEFAULT_START,
    scale: float = 1.0,
    malformed_rate: float = 0.002,
    progress: Progress | None = None,
    *,
    incidents: int | None = None,
    fixes: int = 0,
    decoys: bool = True,
) -> SimulationSummary:
    """Write `days` of simulated streams and ground truth into `out_dir`.

    `scale` multiplies customer (and so contact) volume; `incidents` is the
    number planted of each kind (default: one every other day after the first;
    day 1 is the detectors' warm-up); `decoys` adds the volume movements that
    are not breaks (voc.simulate.incidents). `fixes`: up to this many contact
    spikes get a chronic tail and a fix released at a known time, one of them
    a decoy (voc.simulate.fixes); 0 leaves the streams as they were.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if scale <= 0:
        raise ValueError("scale must be positive")
    if not 0 <= malformed_rate < 1:
        raise ValueError("malformed_rate must be in [0, 1)")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    catalog = catalog or load_catalog()
    report = progress or (lambda _step, _n: None)
    out_dir = Path(out_dir)
    (out_dir / "ground_truth").mkdir(parents=True, exist_ok=True)
    timeline = Timeline.of(start, days)

    per_kind = default_incident_count(days) if incidents is None else incidents
    planned = plan(
        _rng(seed, "incidents"),
        catalog,
        timeline,
        per_kind,
        STAGE_EVENTS,
        business_domains(catalog),
        decoys=decoys,
    )
    planted = planned.incidents
    timeline = Timeline(timeline.start_s, timeline.days, planned.lift)
    report("incidents planned", len(planted))

    world = build_world(
        _rng(seed, "journeys"),
        catalog,
        timeline,
        planted,
        seed=seed,
        scale=scale,
        decoys=planned.decoys,
    )
    report("journeys", len(world.events))

    generator = ContactGenerator(
        _rng(seed, "contacts"),
        catalog,
        timeline,
        world,
        planted,
        seed=seed,
        scale=scale,
        decoys=planned.decoys,
    )
    planted_fixes = plan_fixes(
        _rng(seed, "fixes"),
        [i for i in planted if i.kind == "contact_spike"],
        timeline,
        fixes,
    )
    for fix in planted_fixes:
        generator.chronic.setdefault(fix.scenario_id, []).append(
            chronic_rates(fix, timeline, scale)
        )
    out = generator.run()
    report("contacts", len(out.truth))

    app_events = sorted(world.events + out.signal_events, key=lambda e: e.time_s)
    streams = {
        "calls": out.calls,
        "ticket_events": sorted(out.tickets, key=lambda r: r[0]),
        "app_events": [(e.time_s, _app_record(e, i, seed)) for i, e in enumerate(app_events, 1)],
        "social_posts": out.social,
    }
    counts: dict[str, int] = {}
    malformed: list[dict[str, Any]] = []
    malformed_by_stream: dict[str, int] = {}
    for stream, filename in STREAM_FILES.items():
        written = write_stream(
            out_dir / filename,
            stream,
            streams[stream],
            _rng(seed, f"write:{stream}"),
            malformed_rate,
        )
        counts[stream] = written.valid
        malformed += written.malformed
        malformed_by_stream[stream] = len(written.malformed)
        report(f"wrote {filename}", written.valid)

    gt = out_dir / "ground_truth"
    effects = _Effects(timeline, out, world, app_events, planted)
    truth_rows = [_incident_row(i, out, effects) for i in planted]
    # A social post joins a customer's case only when it says who wrote it.
    named = {r["event_id"] for _, r in out.social if r.get("customer_id")}
    truth_rows += _background_cases(out.truth, catalog, len(truth_rows), named)
    write_jsonl(gt / "incidents.jsonl", truth_rows)
    write_jsonl(
        gt / "decoys.jsonl",
        (
            {
                "decoy_id": d.decoy_id,
                "kind": d.kind,
                "domain": d.domain or None,
                "scenario_id": d.scenario.id if d.scenario else None,
                "start": iso(d.start_s),
                "end": iso(d.end_s),
                "lift": d.lift,
            }
            for d in planned.decoys
        ),
    )
    write_jsonl(
        gt / "contacts.jsonl", sorted(out.truth, key=lambda r: (r["event_time"], r["contact_id"]))
    )
    write_jsonl(gt / "malformed.jsonl", malformed)
    if fixes:
        write_jsonl(
            gt / "fixes.jsonl",
            (
                {
                    "fix_id": f.fix_id,
                    "incident_id": f.incident.incident_id,
                    "scenario_id": f.scenario_id,
                    "domain": f.incident.scenario.domain,
                    "chronic_start": iso(f.incident.end_s),
                    "release_at": iso(f.release_s),
                    "effective": f.effective,
                }
                for f in planted_fixes
            ),
        )
    write_jsonl(gt / "tickets.jsonl", sorted(out.ticket_truth, key=lambda r: r["ticket_id"]))
    write_jsonl(
        gt / "compensations.jsonl", sorted(out.compensation_truth, key=lambda r: r["ticket_id"])
    )
    manifest = {
        "generator": GENERATOR,
        "seed": seed,
        "days": days,
        "start": iso(timeline.start_s),
        "end": iso(timeline.end_s),
        "scale": scale,
        "malformed_rate": malformed_rate,
        "catalog": catalog.source,
        "catalog_version": catalog.version,
        "scenarios": len(catalog),
        "counts": counts,
        "malformed": malformed_by_stream,
        "contacts": len(out.truth),
        "incidents": len(planted),
        "files": {
            **STREAM_FILES,
            "incidents": "ground_truth/incidents.jsonl",
            "decoys": "ground_truth/decoys.jsonl",
            "contacts": "ground_truth/contacts.jsonl",
            "malformed_lines": "ground_truth/malformed.jsonl",
            "tickets": "ground_truth/tickets.jsonl",
            "compensations": "ground_truth/compensations.jsonl",
        },
    }
    (out_dir / "manifest.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"
    )
    report("ground truth", len(out.truth))
    return SimulationSummary(
        events=counts,
        contacts=len(out.truth),
        incidents=len(planted),
        malformed=len(malformed),
        out_dir=out_dir,
        malformed_by_stream=malformed_by_stream,
    )


class _Effects:
    """What each planted rate or journey break did to the count of its own key,
    from what the simulator generated (recorded, never drawn: the streams stay
    as they were). `added_events`: the events the incident added (contacts
    about its scenario, failure events, negative posts) or, negative, the moves
    on from its step it withheld (a funnel drop's customers who left and would
    have moved on, a stuck step's held moves); `expected_events`: the key's
    count over the incident window without the incident. Contact kinds: the
    key's events not caused by any incident in the same clock window on every
    day of the run, per unit of the timeline's activity, times the window's
    activity (the calendar and the hour of day move it); journey kinds: the
    journeys that reached the step while the incident ran and would have
    moved on. Keys: the true scenario (contact_spike), the business, stage and
    failure event (step_failure), the business's angry social posts
    (social_surge): the simulator's own notion of each, not a detector's."""

    def __init__(self, timeline: Timeline, out, world, app_events, planted) -> None:
        self.timeline, self.out, self.world = timeline, out, world
        self._step_failures = [i for i in planted if i.kind == "step_failure"]
        self._contacts: dict[tuple[str, ...], list[int]] = {}
        for t in out.truth:
            if t["incident_id"] is not None:
                continue
            at = _epoch_s(t["event_time"])
            if t["scenario_id"]:
                self._contacts.setdefault(("scenario", t["scenario_id"]), []).append(at)
            if t["channel"] == "social" and t["emotion"] == "angry":
                self._contacts.setdefault(("angry_posts", t["business_domain"]), []).append(at)
        self._app_events = app_events
        self._failures: dict[tuple[str, str, str], list[int]] | None = None

    def of(self, i) -> tuple[float | None, float | None]:
        if i.kind in ("funnel_drop", "stuck_journeys"):
            e = self.world.effects.get(i.incident_id, {"due": 0, "held": 0, "moves_on": 1.0})
            return 0.0 - round(e["held"] * e["moves_on"], 1), round(e["due"] * e["moves_on"], 1)
        if i.kind == "contact_spike":
            times = self._contacts.get(("scenario", i.scenario.id), [])
        elif i.kind == "social_surge":
            times = self._contacts.get(("angry_posts", i.domain), [])
        elif i.kind == "step_failure":
            times = self._failure_times(i)
        else:
            return None, None
        added = self.out.extra_by_incident.get(i.incident_id, 0)
        return added, round(self._expected(sorted(times), i.start_s, i.end_s), 2)

    def _failure_times(self, i) -> list[int]:
        """The failure event's times at the step, less those any step failure added."""
        if self._failures is None:
            self._failures = {}
            for e in self._app_events:
                self._failures.setdefault((e.domain, e.stage, e.name), []).append(e.time_s)
        times = list(self._failures.get((i.domain, i.stage, i.subject), []))
        for other in self._step_failures:
            if (other.domain, other.stage, other.subject) == (i.domain, i.stage, i.subject):
                for t in self.out.incident_event_times.get(other.incident_id, ()):
                    times.remove(t)
        return times

    def _activity(self, a: int, b: int) -> float:
        tl = self.timeline
        return sum(tl.activity(tl.hour_of(t)) for t in range(a, b, 300)) / 12.0

    def _expected(self, times: list[int], a: int, b: int) -> float:
        import bisect

        tl = self.timeline
        seen = 0
        activity = 0.0
        for k in range(-tl.days, tl.days + 1):
            lo, hi = a + k * 86400, b + k * 86400
            if lo < tl.start_s or hi > tl.end_s:
                continue
            seen += bisect.bisect_left(times, hi) - bisect.bisect_left(times, lo)
            activity += self._activity(lo, hi)
        # Half an event in all the days seen: a key never seen is not expected at zero.
        return (seen + 0.5) / activity * self._activity(a, b) if activity else 0.0


def _epoch_s(value: str) -> int:
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _incident_row(i, out, effects: _Effects | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "incident_id": i.incident_id,
        "kind": i.kind,
        "domain": i.domain,
        "stage": i.stage or None,
        "scenario_id": i.scenario.id if i.scenario else None,
        "subject": i.subject or None,
        "start": iso(i.start_s),
        "end": iso(i.end_s),
        "magnitude": i.magnitude,
        "extra_contacts": out.extra_by_incident.get(i.incident_id, 0),
        "planted": True,
    }
    if effects is not None:
        row["added_events"], row["expected_events"] = effects.of(i)
    case = out.cases.get(i.incident_id)
    if case is not None:
        # A case starts when it is complete: the third contact, the threat itself.
        start = case["start_s"]
        ids = case.get("contact_ids", [])
        if i.kind == "repeat_loop" and len(ids) >= 3:
            start = next(
                (t["event_time"] for t in out.truth if t["contact_id"] == ids[2]), iso(start)
            )
        else:
            start = iso(start)
        row.update(
            customer_id=case["customer_id"],
            order_id=case.get("order_id"),
            contact_ids=ids,
            start=start,
            end=start,
        )
    return row


def _background_cases(
    truth: list[dict[str, Any]], catalog, numbered: int, named: set[str] = frozenset()
) -> list[dict]:
    """Case breaks nobody planted but the simulated customers produced anyway:
    a customer's third contact about one scenario within 72 h, across channels
    (a social post counts when its record names the customer, `named`: most
    do not say who wrote them), and every contact whose customer threatened to
    take the problem outside (the truth row's `threat`: the words are in the
    text; a contact about a threat scenario carries a threat line)."""
    from voc.contracts.validate import to_micros

    rows: list[dict[str, Any]] = []
    by_case: dict[tuple[str, str], list[dict]] = {}
    for t in sorted(truth, key=lambda r: r["event_time"]):
        if t["threat"] and t["incident_kind"] != "emotion_escalation":
            rows.append(
                {
                    "kind": "emotion_escalation",
                    "domain": t["business_domain"],
                    "scenario_id": t["scenario_id"],
                    "customer_id": t["customer_id"],
                    "contact_ids": [t["contact_id"]],
                    "start": t["event_time"],
                    "end": t["event_time"],
                    "magnitude": 1.0,
                }
            )
        seen = t["channel"] != "social" or t["contact_id"] in named
        if seen and t["scenario_id"] and t["incident_id"] is None:
            by_case.setdefault((t["customer_id"], t["scenario_id"]), []).append(t)
    for (customer, scenario), items in by_case.items():
        times = [to_micros(t["event_time"]) // 1_000_000 for t in items]
        last_open = None
        for k in range(2, len(items)):
            if times[k] - times[k - 2] <= 72 * 3600 and (
                last_open is None or times[k] - last_open > 72 * 3600
            ):
                last_open = times[k]
                rows.append(
                    {
                        "kind": "repeat_loop",
                        "domain": items[k]["business_domain"],
                        "scenario_id": scenario,
                        "customer_id": customer,
                        "order_id": items[k]["order_id"],
                        "contact_ids": [t["contact_id"] for t in items[k - 2 : k + 1]],
                        "start": items[k]["event_time"],
                        "end": items[k]["event_time"],
                        "magnitude": 3.0,
                    }
                )
    for n, row in enumerate(rows, numbered + 1):
        row.update(incident_id=f"bg-{n:03d}", stage=None, subject=None, planted=False)
        row.setdefault("extra_contacts", 0)
        row.update(added_events=None, expected_events=None)
    return rows


def _app_record(event: AppEvent, number: int, seed: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema_version": "1",
        "event_id": f"app-{seed}-{number:07d}",
        "event_time": iso(event.time_s),
        "domain": event.domain,
        "customer_id": event.customer_id,
        "session_id": event.session_id,
        "order_id": event.order_id,
        "journey_stage": event.stage,
        "event_name": event.name,
    }
    if event.properties is not None:
        record["properties"] = event.properties
    return record


__all__ = ["DEFAULT_START", "STREAM_FILES", "SimulationSummary", "simulate"]
