"""The loop's steps as plain functions, shared by `voc run`, `voc build` and
`voc demo`: run the pipeline, check and build the warehouse, score the alerts
against a simulation's ground truth, and summarise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from voc.contracts.streams import INPUT_STREAMS
from voc.contracts.validate import parse_time


@dataclass
class IncidentScore:
    injected: int
    detected: int
    false_alerts: int
    minutes_to_detect: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    alerts_by_kind: dict[str, int] = field(default_factory=dict)
    detected_by_kind: dict[str, str] = field(default_factory=dict)  # kind -> "found/planted"


def score_incidents(warehouse: Path, streams: Path) -> IncidentScore:
    """Score raw.alerts against the simulation's ground truth with the rules of
    `voc eval detection` (voc.evaluation.detection): planted incidents only
    count towards found/missed; an alert matching no incident (planted or
    one the simulated customers made anyway) is false."""
    from voc.evaluation.detection import alerts_from_warehouse, read_truth, score

    truth = read_truth(streams)
    alerts = alerts_from_warehouse(warehouse)
    scored = score(alerts, truth)
    out = IncidentScore(injected=0, detected=0, false_alerts=0)
    found: dict[str, list[int]] = {}
    for row, inc in zip(scored["incidents"], truth.rows, strict=True):
        if not inc.get("planted", True):
            continue
        out.injected += 1
        tally = found.setdefault(inc["kind"], [0, 0])
        tally[1] += 1
        if row["detected"]:
            out.detected += 1
            tally[0] += 1
            out.minutes_to_detect.append(round(row["ttd_min"], 1))
        else:
            out.missed.append(inc["incident_id"])
    out.false_alerts = sum(1 for a in scored["alerts"] if not a["true"])
    for a in alerts:
        out.alerts_by_kind[a.kind] = out.alerts_by_kind.get(a.kind, 0) + 1
    out.detected_by_kind = {k: f"{f}/{n}" for k, (f, n) in found.items()}
    return out


def _naive_utc(value: str) -> datetime:
    # The warehouse stores UTC as naive TIMESTAMPs.
    return parse_time(value).replace(tzinfo=None)


def warehouse_summary(warehouse: Path) -> dict[str, Any]:
    """The counts every run reports, read back from the warehouse itself (so a
    re-run reports what is there, not what it re-read)."""
    from voc.warehouse.dbt_runner import mart_row_counts

    with duckdb.connect(str(warehouse), read_only=True) as con:

        def one(sql: str) -> Any:
            return con.execute(sql).fetchall()[0][0]

        dead = dict(
            con.execute("SELECT stream, count(*) FROM raw.dead_letters GROUP BY 1").fetchall()
        )
        events_in = {
            str(s): one(f"SELECT count(*) FROM raw.{s}") + dead.get(str(s), 0)
            for s in INPUT_STREAMS
        }
        contacts = one("SELECT count(*) FROM raw.contacts")
        tagged = one("SELECT count(*) FROM raw.contacts WHERE scenario_id IS NOT NULL")
        summary: dict[str, Any] = {
            "warehouse": str(warehouse),
            "events_in": events_in,
            "dead_letters": sum(dead.values()),
            "contacts": contacts,
            "tagged_share": round(tagged / contacts, 4) if contacts else 0.0,
            "tagged_by_method": dict(
                con.execute(
                    "SELECT method, count(*) FROM raw.contacts GROUP BY 1 ORDER BY 1"
                ).fetchall()
            ),
            "alerts": one("SELECT count(*) FROM raw.alerts"),
        }
    summary["marts"] = mart_row_counts(warehouse)
    summary.update(mart_headlines(warehouse, summary["marts"]))
    return summary


def mart_headlines(warehouse: Path, marts: dict[str, int]) -> dict[str, Any]:
    """Headline figures, each on its own definition (DECISIONLOG "SLA clocks",
    "Satisfaction"): resolution breach on completed clocks; call and ticket CSAT apart."""
    out: dict[str, Any] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def one(sql: str) -> float | None:
            value = con.execute(sql).fetchall()[0][0]
            return round(value, 4) if value is not None else None

        if "fct_ticket_sla" in marts:
            out["sla_breach_rate"] = one(
                "SELECT avg(CASE WHEN is_breached THEN 1.0 ELSE 0.0 END) FROM main.fct_ticket_sla"
                " WHERE metric = 'resolution' AND applied_reason = 'created' AND is_completed"
            )
        if "fct_contacts" in marts:
            out["call_csat"] = one(
                "SELECT avg(CASE WHEN is_call_satisfied THEN 1.0 ELSE 0.0 END)"
                " FROM main.fct_contacts WHERE is_call_surveyed"
            )
            out["fcr"] = one(
                "SELECT avg(CASE WHEN is_first_contact_resolved THEN 1.0 ELSE 0.0 END)"
                " FROM main.fct_contacts WHERE is_first_contact_resolved IS NOT NULL"
            )
        if "fct_ticket_metrics" in marts:
            out["ticket_csat"] = one(
                "SELECT avg(CASE WHEN is_satisfied THEN 1.0 ELSE 0.0 END)"
                " FROM main.fct_ticket_metrics WHERE is_rated"
            )
    return out


def tagging_accuracy(warehouse: Path, truth_file: Path) -> dict[str, Any]:
    """Share of simulated contacts tagged with their true scenario; of the
    off-topic ones (true scenario null), the share left untagged; and the
    accuracy split by the evidence a contact carried besides its text
    (DECISIONLOG "Tag accuracy by evidence"): a ticket category code on the
    contact's own ticket, else its true scenario's app signal just before it
    (ground truth `signal_event`), else the text only.
    `tag_accuracy_text_only` is the headline: what the tagger gets from the
    customer's words alone."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            WITH truth AS (
                SELECT contact_id, scenario_id AS true_id, signal_event
                FROM read_json_auto(?, format = 'newline_delimited')
            ),
            coded AS (
                SELECT DISTINCT event_id AS contact_id FROM raw.ticket_events
                WHERE event_type = 'created' AND category_code IS NOT NULL
            ),
            scored AS (
                SELECT
                    t.true_id,
                    c.scenario_id,
                    CASE
                        WHEN k.contact_id IS NOT NULL THEN 'ticket_code'
                        WHEN t.signal_event IS NOT NULL THEN 'app_signal'
                        ELSE 'text_only'
                    END AS evidence
                FROM truth t
                JOIN raw.contacts c USING (contact_id)
                LEFT JOIN coded k USING (contact_id)
            )
            SELECT
                evidence,
                count(*) FILTER (WHERE true_id IS NOT NULL) AS in_scope,
                count(*) FILTER (WHERE true_id IS NOT NULL AND scenario_id = true_id),
                count(*) FILTER (WHERE true_id IS NOT NULL AND scenario_id IS NOT NULL),
                count(*) FILTER (WHERE true_id IS NULL),
                count(*) FILTER (WHERE true_id IS NULL AND scenario_id IS NULL)
            FROM scored
            GROUP BY 1 ORDER BY 1
            """,
            [str(truth_file)],
        ).fetchall()
    in_scope, correct, tagged, oos, oos_abstained = (sum(r[i] for r in rows) for i in range(1, 6))
    out: dict[str, Any] = {
        "tag_accuracy": round(correct / in_scope, 4) if in_scope else None,
        "tag_precision": round(correct / tagged, 4) if tagged else None,
        "oos_abstained": round(oos_abstained / oos, 4) if oos else None,
    }
    by_evidence = {r[0]: (r[1], r[2]) for r in rows}
    for name in ("ticket_code", "app_signal", "text_only"):
        n, right = by_evidence.get(name, (0, 0))
        out[f"tag_accuracy_{name}"] = round(right / n, 4) if n else None
        out[f"contacts_{name}"] = n
    return out
