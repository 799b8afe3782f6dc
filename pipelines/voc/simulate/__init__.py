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
from voc.simulate.incidents import default_incident_count, plan_incidents
from voc.simulate.journeys import AppEvent, build_world
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
) -> SimulationSummary:
    """Write `days` of simulated streams and ground truth into `out_dir`.

    `scale` multiplies customer (and so contact) volume; `incidents` defaults to
    one per day after the first (day 1 is the detectors' warm-up). `fixes`:
    up to this many incidents get a chronic tail and a fix released at a known
    time, one of them a decoy (voc.simulate.fixes); 0 leaves the streams as
    they were.
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

    n_incidents = default_incident_count(days) if incidents is None else incidents
    planted = plan_incidents(_rng(seed, "incidents"), catalog, timeline, n_incidents)
    report("incidents planned", len(planted))

    world = build_world(_rng(seed, "journeys"), catalog, timeline, planted, seed=seed, scale=scale)
    report("journeys", len(world.events))

    generator = ContactGenerator(
        _rng(seed, "contacts"), catalog, timeline, world, planted, seed=seed, scale=scale
    )
    planted_fixes = plan_fixes(_rng(seed, "fixes"), planted, timeline, fixes)
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
    write_jsonl(
        gt / "incidents.jsonl",
        (
            {
                "incident_id": i.incident_id,
                "domain": i.scenario.domain,
                "stage": i.scenario.stage,
                "scenario_id": i.scenario.id,
                "start": iso(i.start_s),
                "end": iso(i.end_s),
                "magnitude": i.magnitude,
                "extra_contacts": out.extra_by_incident.get(i.incident_id, 0),
            }
            for i in planted
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
            "contacts": "ground_truth/contacts.jsonl",
            "malformed_lines": "ground_truth/malformed.jsonl",
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
