"""The one alert contract every breakpoint detector raises (schemas/alert.schema.json),
and the episode rule they share: one alert per episode, re-armed after a quiet spell.

Pure and Beam-free.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "contact_spike",
    "step_failure",
    "funnel_drop",
    "stuck_journeys",
    "repeat_loop",
    "emotion_escalation",
    "social_surge",
)
# Kinds about one case (a customer, a contact) rather than a rate: they go to a
# human queue at once, whatever the volume.
CASE_KINDS = frozenset({"repeat_loop", "emotion_escalation"})
ANY = "*"  # a key part that covers everything (a stage-level key has scenario "*")


@dataclass(frozen=True)
class Alert:
    """One breakpoint, as operations receive it.

    `key` identifies what broke within its kind, "|"-joined: for rate kinds
    domain|stage|subject (subject = scenario id, event name, "A>B" step pair or
    "*"), for case kinds the customer or contact. `at_s` is the event time at
    which the evidence was complete (the end of the step that raised it);
    `window_start_s`..`at_s` is the evidence window. `count`/`expected` are
    the observed and expected numbers in that window (for funnel kinds: the
    cohort's conversions and the expected conversions), `score` how
    surprising (-log10 of the tail probability; for case kinds the number of
    contacts or 1)."""

    kind: str
    key: str
    domain: str
    journey_stage: str
    scenario_id: str | None
    subject: str
    at_s: int
    window_start_s: int
    count: int
    expected: float
    score: float
    suggested_owner: str
    severity: str = "high"
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return alert_id(self.kind, self.key, self.window_start_s)


def alert_id(kind: str, key: str, episode_start_s: int) -> str:
    # Same kind, key and episode start -> same id on every run: sinks stay idempotent.
    digest = hashlib.blake2b(f"{kind}|{key}@{episode_start_s}".encode(), digest_size=12).hexdigest()
    return f"alert-{digest}"


def to_row(alert: Alert, schema_version: str = "1") -> dict[str, Any]:
    """The alert record (schemas/alert.schema.json) stored in raw.alerts and
    published on voc.alerts."""
    from voc.contracts.validate import from_micros

    return {
        "schema_version": schema_version,
        "alert_id": alert.alert_id,
        "kind": alert.kind,
        "key": alert.key,
        "domain": alert.domain,
        "journey_stage": alert.journey_stage,
        "scenario_id": alert.scenario_id,
        "subject": alert.subject,
        "window_start": from_micros(alert.window_start_s * 1_000_000),
        "window_end": from_micros(alert.at_s * 1_000_000),
        "count": int(alert.count),
        "baseline_mean": round(max(0.0, alert.expected), 4),
        "threshold": round(max(0.0, alert.score), 4),
        "severity": alert.severity,
        "suggested_owner": alert.suggested_owner,
        "evidence": alert.evidence,
    }


@dataclass
class Episode:
    """De-dup and re-arm for one key: `fire` says True once per episode; the
    episode ends after `rearm_steps` consecutive quiet steps."""

    firing: bool = False
    quiet: int = 0
    started_s: int = 0

    def update(self, breaking: bool, at_s: int, rearm_steps: int) -> bool:
        if breaking:
            self.quiet = 0
            if not self.firing:
                self.firing = True
                self.started_s = at_s
                return True
            return False
        if self.firing:
            self.quiet += 1
            if self.quiet >= rearm_steps:
                self.firing = False
                self.quiet = 0
        return False
