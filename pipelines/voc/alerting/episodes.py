"""Alerts as episodes: one per (kind, key), opened once, updated while it
lasts, resolved when the level returns.

The detector writes one row to `raw.alerts` when a key starts breaking
(de-duplicated until re-armed). This module turns those rows, plus the key's
hourly contact counts from `raw.contacts`, into episodes and their
transitions:

- `opened`   at the end of the first alerting window;
- `updated`  when the episode reaches a new peak at least 1.5 x the last peak
             an owner was told about (so a long incident sends a few updates,
             not one per hour);
- `resolved` at the end of the 3rd consecutive window back below the alert's
             threshold (the detector's own re-arm rule), or by hand;
- `acknowledged` by hand (`voc alerts ack`).

Pure logic in `build_episodes` (no DuckDB), SQL reads and writes in
`sync_episodes`. Transition ids are derived from (episode, transition, n), so
re-deriving the same data adds nothing, and a transition once recorded is
never rewritten (the table is append-only).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from voc.alerting.mask import mask_text
from voc.catalog import Catalog

QUIET_WINDOWS_TO_RESOLVE = 3
UPDATE_PEAK_FACTOR = 1.5
# Kinds whose level is a count of contacts for the key (a scenario's contacts,
# or all / untagged contacts of a stage); other kinds (step failures, funnel,
# stuck journeys, repeat loops, emotion cases) resolve when their alerts stop
# for QUIET_WINDOWS_TO_RESOLVE windows.
CONTACT_KINDS = frozenset({"contact_spike", "social_surge"})
SEVERITIES = ("low", "medium", "high", "critical")
DEFAULT_LINK_BASE = "http://127.0.0.1:8050"


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert_id: str
    kind: str
    key: str
    domain: str
    journey_stage: str
    scenario_id: str
    window_start: datetime
    window_end: datetime
    count: int
    baseline_mean: float
    threshold: float
    suggested_owner: str


@dataclass(frozen=True, slots=True)
class Transition:
    transition_id: str
    episode_id: str
    transition: str  # opened | updated | resolved | acknowledged
    at: datetime
    snapshot: dict[str, Any]


@dataclass
class Episode:
    episode_id: str
    kind: str
    key: str
    domain: str
    journey_stage: str
    scenario_id: str
    opened_at: datetime
    threshold: float
    baseline_mean: float
    alert_ids: list[str]
    last_window_end: datetime
    peak_count: int = 0
    peak_window_start: datetime | None = None
    contacts_so_far: int = 0
    expected_so_far: float = 0.0
    resolved_at: datetime | None = None
    windows: list[tuple[datetime, int]] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "resolved" if self.resolved_at else "open"

    def snapshot(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "domain": self.domain,
            "journey_stage": self.journey_stage,
            "scenario_id": self.scenario_id,
            "opened_at": _iso(self.opened_at),
            "peak_count": self.peak_count,
            "peak_window_start": _iso(self.peak_window_start),
            "contacts_so_far": self.contacts_so_far,
            "expected_so_far": round(self.expected_so_far, 2),
            "threshold": round(self.threshold, 2),
            "baseline_mean": round(self.baseline_mean, 3),
            "resolved_at": _iso(self.resolved_at),
        }


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")


def alert_key(domain: str, stage: str, scenario: str) -> str:
    return f"{domain}|{stage}|{scenario}"


def episode_id_for(kind: str, key: str, first_window_start: datetime) -> str:
    digest = hashlib.blake2b(
        f"{kind}|{key}|{_iso(first_window_start)}".encode(), digest_size=8
    ).hexdigest()
    return f"ep-{digest}"


def build_episodes(
    alerts: list[AlertRow],
    counts: dict[str, dict[datetime, int]],
    data_end: datetime,
    window: timedelta = timedelta(hours=1),
) -> list[Episode]:
    """Group alerts into episodes and walk each key's windows.

    `counts[key][window_start]` = contacts in that window (missing = 0);
    `data_end` = the end of the last complete window of data: an episode
    whose level has not been below threshold for 3 windows by then stays open.
    """
    by_key: dict[tuple[str, str], list[AlertRow]] = {}
    for a in sorted(alerts, key=lambda a: (a.window_start, a.alert_id)):
        by_key.setdefault((a.kind, a.key), []).append(a)
    episodes: list[Episode] = []
    for (kind, key), rows in by_key.items():
        series = counts.get(key, {})
        episode: Episode | None = None
        pending = list(rows)
        while pending:
            first = pending.pop(0)
            episode = Episode(
                episode_id=episode_id_for(kind, key, first.window_start),
                kind=kind,
                key=key,
                domain=first.domain,
                journey_stage=first.journey_stage,
                scenario_id=first.scenario_id,
                opened_at=first.window_end,
                threshold=first.threshold,
                baseline_mean=first.baseline_mean,
                alert_ids=[first.alert_id],
                last_window_end=first.window_end,
            )
            _walk(episode, first, pending, series, data_end, window, kind in CONTACT_KINDS)
            episodes.append(episode)
    return episodes


def _walk(
    ep: Episode,
    first: AlertRow,
    pending: list[AlertRow],
    series: dict[datetime, int],
    data_end: datetime,
    window: timedelta,
    contact_level: bool,
) -> None:
    """Advance window by window from the first alert until resolved or out of data.
    Alerts for the same key that start while the episode is open join it."""
    ep.transitions.append(_transition(ep, "opened", 0, first.window_end, first.count, first))
    notified_peak = 0
    n_updates = 0
    quiet = 0
    # Alerts may come from finer steps (5 minutes): count them in the window
    # of the walk that holds them.
    alerted = {_floor(first.window_start, window): first.count}
    t = _floor(first.window_start, window)
    while t + window <= data_end:
        while pending and _floor(pending[0].window_start, window) <= t:
            joined = pending.pop(0)
            ep.alert_ids.append(joined.alert_id)
            ep.threshold = max(ep.threshold, joined.threshold)
            w = _floor(joined.window_start, window)
            alerted[w] = max(alerted.get(w, 0), joined.count)
            quiet = 0
        if contact_level:
            # The alert's own count wins for its window (it is what the detector saw).
            count = max(series.get(t, 0), alerted.get(t, 0))
            breaking = count >= ep.threshold or t in alerted
        else:
            count = alerted.get(t, 0)
            breaking = t in alerted
        ep.windows.append((t, count))
        ep.last_window_end = t + window
        if breaking:
            quiet = 0
            ep.contacts_so_far += count
            ep.expected_so_far += ep.baseline_mean
            if count > ep.peak_count:
                ep.peak_count = count
                ep.peak_window_start = t
                if notified_peak and count >= UPDATE_PEAK_FACTOR * notified_peak:
                    n_updates += 1
                    ep.transitions.append(
                        _transition(ep, "updated", n_updates, t + window, count, None)
                    )
                    notified_peak = count
                if not notified_peak:
                    notified_peak = count
        elif t + window > ep.opened_at:
            # A quiet window counts only once the alert is out: the windows of
            # its evidence before it (a repeat loop's 72 h, a CUSUM's run) are
            # not a recovery, and an episode never resolves before it opened.
            quiet += 1
            if quiet >= QUIET_WINDOWS_TO_RESOLVE:
                ep.resolved_at = t + window
                ep.transitions.append(_transition(ep, "resolved", 0, t + window, count, None))
                break
        t += window
    # Alerts after the resolution start a new episode: hand them back.
    if ep.resolved_at is not None:
        return
    # Still open at the end of the data: every later alert of the key belongs here.
    while pending:
        ep.alert_ids.append(pending.pop(0).alert_id)


def _floor(t: datetime, window: timedelta) -> datetime:
    step = int(window.total_seconds())
    epoch = int((t - datetime(1970, 1, 1)).total_seconds())
    return datetime(1970, 1, 1) + timedelta(seconds=epoch - epoch % step)


def _transition(
    ep: Episode, kind: str, n: int, at: datetime, count: int, alert: AlertRow | None
) -> Transition:
    tid = f"{ep.episode_id}:{kind}" + (f":{n}" if n else "")
    snap = ep.snapshot()
    snap["window_count"] = count
    if alert is not None:
        snap["alert_id"] = alert.alert_id
    return Transition(tid, ep.episode_id, kind, at, snap)


# ---------------------------------------------------------------- warehouse


def _alert_rows(con: duckdb.DuckDBPyConnection, window_s: int) -> list[AlertRow]:
    """Alert rows in both contracts: the first detector's (hourly windows,
    `threshold` a count, `untagged` as a scenario) and the detector with a
    `key` and `evidence` (5-minute steps, `threshold` a score, scenario null
    for stage-level alerts). For the latter, the level an episode is judged
    against is a count per window derived from the baseline (see DECISIONLOG)."""
    cols = {r[0] for r in con.execute("DESCRIBE raw.alerts").fetchall()}
    key_sql = "key" if "key" in cols else "domain || '|' || journey_stage || '|' || scenario_id"
    evidence_sql = "evidence" if "evidence" in cols else "NULL"
    rows = con.execute(
        f"""
        SELECT alert_id, kind, {key_sql}, domain, journey_stage, scenario_id,
               window_start, window_end, count, baseline_mean, threshold, suggested_owner,
               {evidence_sql}
        FROM raw.alerts ORDER BY window_start, alert_id
        """
    ).fetchall()
    out = []
    for r in rows:
        *fields, evidence = r
        alert = AlertRow(*fields)
        if "evidence" in cols:
            ev = json.loads(evidence) if isinstance(evidence, str) else (evidence or {})
            step_s = float(ev.get("window_s") or 300)
            expected = alert.baseline_mean * window_s / step_s
            level = max(3.0, expected + 3 * math.sqrt(max(expected, 1.0)))
            alert = AlertRow(
                alert.alert_id,
                alert.kind,
                alert.key,
                alert.domain,
                alert.journey_stage,
                alert.scenario_id,
                alert.window_start,
                alert.window_end,
                alert.count,
                expected,
                level,
                alert.suggested_owner,
            )
        out.append(alert)
    return out


def _hourly_counts(
    con: duckdb.DuckDBPyConnection, alerts: list[AlertRow], window_s: int
) -> dict[str, dict[datetime, int]]:
    """Contacts per window for every alerted key: a scenario's tagged contacts,
    or for `untagged` keys the untagged contacts of that domain and stage."""
    keys = {
        (a.key, a.domain, a.journey_stage, a.scenario_id or "*")
        for a in alerts
        if a.kind in CONTACT_KINDS
    }
    if not keys:
        return {}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ep_keys (key VARCHAR, domain VARCHAR, stage VARCHAR,"
        " scenario_id VARCHAR)"
    )
    con.executemany("INSERT INTO _ep_keys VALUES (?, ?, ?, ?)", sorted(keys))
    rows = con.execute(
        f"""
        SELECT k.key,
               to_timestamp(floor(epoch(c.event_time) / {window_s}) * {window_s})::TIMESTAMP AS w,
               count(DISTINCT c.contact_id)
        FROM _ep_keys k
        JOIN raw.contacts c
          ON (k.scenario_id NOT IN ('untagged', '*') AND c.scenario_id = k.scenario_id)
          OR (k.scenario_id = 'untagged' AND c.scenario_id IS NULL
              AND c.domain = k.domain AND c.journey_stage = k.stage)
          OR (k.scenario_id = '*' AND c.domain = k.domain AND c.journey_stage = k.stage)
        GROUP BY 1, 2
        """
    ).fetchall()
    out: dict[str, dict[datetime, int]] = {}
    for key, w, n in rows:
        out.setdefault(key, {})[w] = n
    return out


def data_end_of(con: duckdb.DuckDBPyConnection, window_s: int) -> datetime | None:
    """The end of the last complete window of contacts in the warehouse."""
    latest = con.execute("SELECT max(event_time) FROM raw.contacts").fetchall()[0][0]
    if latest is None:
        return None
    epoch = int(
        latest.timestamp() if latest.tzinfo else (latest - datetime(1970, 1, 1)).total_seconds()
    )
    return datetime(1970, 1, 1) + timedelta(seconds=(epoch // window_s) * window_s)


def _severity(catalog: Catalog, scenario_id: str | None, lift: float) -> str:
    known = scenario_id is not None and scenario_id in catalog
    base = catalog[scenario_id].severity if known else "medium"
    idx = SEVERITIES.index(base) if base in SEVERITIES else 1
    # A peak ten times what is normal for the key is one level worse than the
    # scenario's catalog severity.
    if lift >= 10 and idx < len(SEVERITIES) - 1:
        idx += 1
    return SEVERITIES[idx]


def _owner(catalog: Catalog, scenario_id: str | None, suggested: str) -> str:
    if scenario_id is not None and scenario_id in catalog:
        return catalog[scenario_id].owner
    return suggested or "customer_service"


def _evidence(
    con: duckdb.DuckDBPyConnection, ep: Episode, window: timedelta, catalog: Catalog
) -> dict[str, Any]:
    start = ep.opened_at - window
    end = ep.resolved_at or ep.last_window_end
    if ep.scenario_id in (None, "untagged"):
        # Stage-level alert (or the first detector's untagged key): the stage's contacts.
        untagged_only = " AND c.scenario_id IS NULL" if ep.scenario_id == "untagged" else ""
        where = "c.domain = ? AND c.journey_stage = ?" + untagged_only
        params: list[Any] = [ep.domain, ep.journey_stage]
    else:
        where, params = "c.scenario_id = ?", [ep.scenario_id]
    examples = con.execute(
        f"""SELECT text, language, channel FROM raw.contacts c
            WHERE {where} AND event_time >= ? AND event_time < ?
            ORDER BY length(text) DESC, contact_id LIMIT 3""",
        [*params, start, end],
    ).fetchall()
    orders = con.execute(
        f"""SELECT count(DISTINCT order_id), list(DISTINCT order_id ORDER BY order_id)[1:10]
            FROM raw.contacts c
            WHERE {where} AND event_time >= ? AND event_time < ? AND order_id IS NOT NULL""",
        [*params, start, end],
    ).fetchall()[0]
    stages = con.execute(
        f"""SELECT coalesce(journey_stage, 'unknown'), count(*) FROM raw.contacts c
            WHERE {where} AND event_time >= ? AND event_time < ? GROUP BY 1 ORDER BY 2 DESC""",
        [*params, start, end],
    ).fetchall()
    known = ep.scenario_id is not None and ep.scenario_id in catalog
    scenario = catalog[ep.scenario_id] if known else None
    return {
        "scenario_name_zh": scenario.name_zh
        if scenario
        else f"{ep.domain}/{ep.journey_stage} 环节",
        "scenario_name_en": scenario.name_en
        if scenario
        else f"Stage {ep.domain}/{ep.journey_stage}",
        "first_window": {"start": _iso(start), "end": _iso(ep.opened_at)},
        "counts_vs_expected": [
            {"window_start": _iso(w), "count": n, "expected": round(ep.baseline_mean, 2)}
            for w, n in ep.windows[:48]
        ],
        "threshold": round(ep.threshold, 2),
        "examples": [
            {"text": mask_text(t or ""), "language": lang, "channel": ch}
            for t, lang, ch in examples
        ],
        "affected_orders": {"count": orders[0] or 0, "sample": list(orders[1] or [])},
        "affected_stages": dict(Counter({s: n for s, n in stages})),
    }


def sync_episodes(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    *,
    window_s: int = 3600,
    link_base: str = DEFAULT_LINK_BASE,
) -> dict[str, int]:
    """Re-derive every episode from the warehouse, record new transitions
    (append-only), and replace `raw.alert_episodes`. Returns counts."""
    alerts = _alert_rows(con, window_s)
    window = timedelta(seconds=window_s)
    data_end = data_end_of(con, window_s) or datetime(1970, 1, 1)
    episodes = build_episodes(alerts, _hourly_counts(con, alerts, window_s), data_end, window)
    manual = {
        (ep_id, tr): (at, actor)
        for ep_id, tr, at, actor in con.execute(
            "SELECT episode_id, transition, occurred_at, actor FROM raw.alert_transitions"
            " WHERE actor IS NOT NULL AND actor <> 'detector'"
        ).fetchall()
    }
    before = con.execute("SELECT count(*) FROM raw.alert_transitions").fetchall()[0][0]
    episode_rows = []
    suggested = {a.alert_id: a.suggested_owner for a in alerts}
    for ep in episodes:
        lift = ep.peak_count / max(ep.baseline_mean, 0.5)
        owner = _owner(catalog, ep.scenario_id, suggested.get(ep.alert_ids[0], "customer_service"))
        severity = _severity(catalog, ep.scenario_id, lift)
        evidence = _evidence(con, ep, window, catalog)
        link = f"{link_base.rstrip('/')}/alerts/{ep.episode_id}"
        manual_resolved = manual.get((ep.episode_id, "resolved"))
        transitions = ep.transitions
        if manual_resolved is not None:
            # Resolved by hand: the detector's own resolution is not sent again.
            transitions = [t for t in transitions if t.transition != "resolved"]
        for tr in transitions:
            payload = {
                **tr.snapshot,
                "episode_id": ep.episode_id,
                "transition": tr.transition,
                "owner_department": owner,
                "severity": severity,
                "evidence": evidence,
                "link": link,
            }
            con.execute(
                "INSERT OR IGNORE INTO raw.alert_transitions"
                " (transition_id, episode_id, transition, occurred_at, actor, payload)"
                " VALUES (?, ?, ?, ?, 'detector', ?)",
                [
                    tr.transition_id,
                    ep.episode_id,
                    tr.transition,
                    tr.at,
                    json.dumps(payload, ensure_ascii=False),
                ],
            )
        resolved_at = manual_resolved[0] if manual_resolved else ep.resolved_at
        acked = manual.get((ep.episode_id, "acknowledged"))
        status = "resolved" if resolved_at else ("acknowledged" if acked else "open")
        episode_rows.append(
            [
                ep.episode_id,
                ep.kind,
                ep.key,
                ep.domain,
                ep.journey_stage,
                ep.scenario_id,
                owner,
                severity,
                status,
                ep.opened_at,
                ep.last_window_end,
                resolved_at,
                acked[0] if acked else None,
                ep.peak_count,
                ep.peak_window_start,
                ep.contacts_so_far,
                ep.expected_so_far,
                ep.threshold,
                ep.alert_ids,
                json.dumps(evidence, ensure_ascii=False),
                link,
            ]
        )
    con.execute("BEGIN")
    con.execute("DELETE FROM raw.alert_episodes")
    if episode_rows:
        con.executemany(
            "INSERT INTO raw.alert_episodes (episode_id, kind, key, domain, journey_stage,"
            " scenario_id, owner_department, severity, status, opened_at, last_window_end,"
            " resolved_at, acknowledged_at, peak_count, peak_window_start, contacts_so_far,"
            " expected_so_far, threshold, alert_ids, evidence, link)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            episode_rows,
        )
    con.execute("COMMIT")
    after = con.execute("SELECT count(*) FROM raw.alert_transitions").fetchall()[0][0]
    return {"episodes": len(episodes), "new_transitions": after - before}


def record_manual(
    con: duckdb.DuckDBPyConnection,
    episode_id: str,
    transition: str,
    actor: str,
    note: str | None,
    at: datetime,
) -> bool:
    """`voc alerts ack|resolve`: append the transition (once per episode);
    returns False when it was already recorded."""
    row = con.execute(
        "SELECT payload FROM raw.alert_transitions WHERE episode_id = ?"
        " ORDER BY occurred_at DESC LIMIT 1",
        [episode_id],
    ).fetchall()
    if not row:
        raise KeyError(episode_id)
    payload = json.loads(row[0][0])
    payload.update(transition=transition, actor=actor, note=note)
    tid = f"{episode_id}:{transition}"
    exists = con.execute(
        "SELECT count(*) FROM raw.alert_transitions WHERE transition_id = ?", [tid]
    ).fetchall()[0][0]
    if exists:
        return False
    con.execute(
        "INSERT INTO raw.alert_transitions (transition_id, episode_id, transition,"
        " occurred_at, actor, payload) VALUES (?, ?, ?, ?, ?, ?)",
        [tid, episode_id, transition, at, actor, json.dumps(payload, ensure_ascii=False)],
    )
    status = "resolved" if transition == "resolved" else "acknowledged"
    col = "resolved_at" if transition == "resolved" else "acknowledged_at"
    con.execute(
        f"UPDATE raw.alert_episodes SET status = CASE WHEN status = 'resolved' THEN status"
        f" ELSE ? END, {col} = coalesce({col}, ?) WHERE episode_id = ?",
        [status, at, episode_id],
    )
    return True
