"""Every query a page runs, in one module: parameterised (user input is never
spliced into SQL, it is bound as a parameter after being checked against the
values the data holds), read-only (they run on a snapshot opened read-only),
against the snapshot's tables, named after voc_dashboard.marts' logical names.

A page calls `parse_filters` on the URL's query string, then these functions
with a cursor from `SnapshotStore.cursor()`; each returns plain rows (lists of
dicts) that the page draws and the tests compare with SQL on the warehouse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

# An alert keeps firing silently until 3 windows in a row are below its
# threshold (DECISIONLOG, Breakpoints): it is open until 3 windows after its last.
REARM_WINDOWS = 3
NOW_MINUTES = 60
EXPECTED_DAYS = 7
TOP_N = 15
DRILL_LEVELS = ("domain", "stage", "category", "scenario")
CONTACTS_SHOWN = 50
MIN_RATED = 5
GROWTH_MIN_CONTACTS = 5
DIMENSIONS = {"domain": "domain", "department": "department_id", "channel": "channel"}
GRAINS = ("day", "week")


Row = dict[str, Any]


def rows(cur: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None):
    result = cur.execute(sql, dict(params or {}))
    names = [d[0] for d in result.description]
    return [dict(zip(names, r, strict=True)) for r in result.fetchall()]


def has_table(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        cur.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
    )


# -- filters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """The values a filter may take: what the snapshot holds."""

    domains: tuple[str, ...]
    departments: tuple[tuple[str, str, str], ...]  # (id, name_zh, name_en)
    channels: tuple[str, ...]
    first_day: date
    last_day: date

    @property
    def department_ids(self) -> tuple[str, ...]:
        return tuple(d[0] for d in self.departments)


def choices(cur: duckdb.DuckDBPyConnection) -> Choices:
    domains = [
        r[0]
        for r in cur.execute(
            "SELECT DISTINCT domain FROM contacts WHERE domain IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    departments = cur.execute(
        "WITH ids AS (SELECT department_id FROM contacts UNION SELECT department_id "
        "FROM ticket_sla), names AS (SELECT DISTINCT owner_department_id AS department_id, "
        "owner_department_name_zh AS zh, owner_department_name_en AS en FROM scenarios) "
        "SELECT ids.department_id, coalesce(any_value(zh), ids.department_id), "
        "coalesce(any_value(en), ids.department_id) FROM ids LEFT JOIN names "
        "USING (department_id) WHERE ids.department_id IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    channels = [
        r[0]
        for r in cur.execute(
            "SELECT DISTINCT channel FROM contacts WHERE channel IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    first, last = cur.execute(
        "SELECT min(contacted_at)::DATE, max(contacted_at)::DATE FROM contacts"
    ).fetchall()[0]
    today = date.today()
    return Choices(
        tuple(domains),
        tuple(tuple(d) for d in departments),
        tuple(channels),
        first or today,
        last or today,
    )


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    domain: str | None = None
    department: str | None = None
    channel: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # page options (drill, grain, by)

    def key(self) -> tuple:
        """Hashable and equal for equal filters (a cache key)."""
        return (
            self.start,
            self.end,
            self.domain,
            self.department,
            self.channel,
            tuple(sorted(self.extra.items())),
        )

    def params(self) -> dict[str, Any]:
        return {
            "start": datetime.combine(self.start, datetime.min.time()),
            "end_excl": datetime.combine(self.end + timedelta(days=1), datetime.min.time()),
            "domain": self.domain,
            "department": self.department,
            "channel": self.channel,
        }


_MAX_PARAM = 200  # longer values cannot be any of the choices; don't even parse them


def parse_filters(args: Mapping[str, str], ch: Choices) -> tuple[Filters, list[str]]:
    """Filters from a URL query string; every value is checked against the data.
    Returns (filters, rejected parameter names): a value that is not one of the
    choices is dropped, so a hostile value filters nothing."""
    rejected: list[str] = []

    def pick(name: str, allowed: tuple[str, ...]) -> str | None:
        value = args.get(name)
        if value in (None, "", "all"):
            return None
        if len(value) <= _MAX_PARAM and value in allowed:
            return value
        rejected.append(name)
        return None

    def day(name: str, default: date) -> date:
        value = args.get(name)
        if not value:
            return default
        try:
            if len(value) > 10:
                raise ValueError
            parsed = date.fromisoformat(value)
        except ValueError:
            rejected.append(name)
            return default
        return min(max(parsed, ch.first_day), ch.last_day)

    start = day("start", ch.first_day)
    end = day("end", ch.last_day)
    if end < start:
        start, end = end, start
    extra = {}
    drill = args.get("drill")
    if drill:
        parts = drill.split("|")
        if (
            len(drill) <= 4 * _MAX_PARAM
            and len(parts) <= len(DRILL_LEVELS)
            and all(parts)
            and drill.isprintable()
        ):
            extra["drill"] = drill
        else:
            rejected.append("drill")
    for name, allowed in (("grain", GRAINS), ("by", tuple(DIMENSIONS))):
        value = pick(name, allowed)
        if value:
            extra[name] = value
    return (
        Filters(
            start,
            end,
            pick("domain", ch.domains),
            pick("department", ch.department_ids),
            pick("channel", ch.channels),
            extra,
        ),
        rejected,
    )


CONTACT_FILTER = """
    c.contacted_at >= $start AND c.contacted_at < $end_excl
    AND ($domain IS NULL OR c.domain = $domain)
    AND ($department IS NULL OR c.department_id = $department)
    AND ($channel IS NULL OR c.channel = $channel)
"""

TICKET_DIMS = """
    ($domain IS NULL OR t.domain = $domain)
    AND ($department IS NULL OR t.department_id = $department)
    AND ($channel IS NULL OR t.channel = $channel)
"""


# -- Now --------------------------------------------------------------------------------


def now_status(cur: duckdb.DuckDBPyConnection) -> Row:
    """Freshness and health: the snapshot's age, the newest event, the dead-letter rate."""
    meta = rows(cur, "SELECT published_at, publisher, newest_event_at FROM _snapshot")[0]
    dl = rows(
        cur,
        "SELECT sum(rows) AS stored, sum(dead_letters) AS dead_letters, "
        "sum(dead_letters) / nullif(sum(rows) + sum(dead_letters), 0) AS dead_letter_rate "
        "FROM live_streams",
    )[0]
    recent = rows(
        cur,
        "SELECT count(*) AS dead_letters_last_day FROM live_dead_letters",
    )[0]
    return meta | dl | recent


def has_episodes(cur: duckdb.DuckDBPyConnection) -> bool:
    return bool(cur.execute("SELECT count(*) FROM live_episodes").fetchall()[0][0])


def open_alerts(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row]:
    """Open alert episodes (not resolved; `voc alerts sync` keeps them) when the
    warehouse has episodes; else alerts still firing: last window ended within
    REARM_WINDOWS windows of the newest event, from the alerts mart plus alerts
    the pipeline stored since the mart was built."""
    if has_episodes(cur):
        return rows(
            cur,
            """
            SELECT e.episode_id AS alert_id, e.kind AS alert_kind,
                   coalesce(e.severity, 'unknown') AS severity, e.status,
                   e.domain, e.journey_stage, e.scenario_id,
                   s.scenario_name_zh, s.scenario_name_en,
                   e.peak_count AS contact_count,
                   round(e.expected_so_far, 2) AS baseline_mean,
                   round(e.threshold, 2) AS threshold,
                   e.owner_department AS owner,
                   e.opened_at AS window_start_at, e.last_window_end AS window_end_at
            FROM live_episodes e LEFT JOIN scenarios s USING (scenario_id)
            WHERE e.status <> 'resolved' AND ($domain IS NULL OR e.domain = $domain)
            ORDER BY e.last_window_end DESC, e.episode_id
            """,
            {"domain": f.domain},
        )
    return rows(
        cur,
        f"""
        WITH newest AS (SELECT newest_event_at AS t FROM _snapshot),
        merged AS (
            SELECT alert_id, alert_kind, domain, journey_stage, scenario_id, contact_count,
                   baseline_mean, threshold, suggested_owner, window_start_at, window_end_at
            FROM alerts
            UNION ALL
            SELECT alert_id, alert_kind, domain, journey_stage, scenario_id, contact_count,
                   baseline_mean, threshold, suggested_owner, window_start_at, window_end_at
            FROM live_alerts WHERE alert_id NOT IN (SELECT alert_id FROM alerts)
        )
        SELECT m.alert_id, m.alert_kind, coalesce(s.severity, 'unknown') AS severity,
               'open' AS status,
               m.domain, m.journey_stage, m.scenario_id,
               s.scenario_name_zh, s.scenario_name_en,
               m.contact_count, round(m.baseline_mean, 2) AS baseline_mean,
               round(m.threshold, 2) AS threshold,
               coalesce(m.suggested_owner, s.owner_department_id) AS owner,
               m.window_start_at, m.window_end_at
        FROM merged m LEFT JOIN scenarios s USING (scenario_id), newest
        WHERE m.window_end_at >= newest.t - {REARM_WINDOWS}
              * (m.window_end_at - m.window_start_at)
          AND ($domain IS NULL OR m.domain = $domain)
        ORDER BY m.window_end_at DESC, m.alert_id
        """,
        {"domain": f.domain},
    )


def alert_counts(alerts: list[Row]) -> list[Row]:
    """Open alerts by (kind, severity), from open_alerts' rows."""
    counts: dict[tuple[str, str], int] = {}
    for a in alerts:
        key = (a["alert_kind"], a["severity"])
        counts[key] = counts.get(key, 0) + 1
    return [{"alert_kind": k, "severity": s, "alerts": n} for (k, s), n in sorted(counts.items())]


def contacts_per_minute(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row]:
    """Contacts per minute by domain over the last NOW_MINUTES minutes before the
    newest contact, each minute with the expected level: the mean count of the
    same minute of the day on up to EXPECTED_DAYS earlier days that have data."""
    return rows(
        cur,
        f"""
        WITH newest AS (SELECT max(minute_at) AS t FROM live_minutes),
        domains AS (SELECT DISTINCT domain FROM live_minutes
                    WHERE $domain IS NULL OR domain = $domain),
        grid AS (
            SELECT d.domain, newest.t - to_minutes(g.i) AS minute_at
            FROM domains d, newest, range(0, {NOW_MINUTES}) g(i)
        ),
        first_minute AS (SELECT min(minute_at) AS t FROM live_minutes),
        history AS (
            SELECT grid.domain, grid.minute_at, k.k,
                   coalesce(lm.contacts, 0) AS contacts
            FROM grid CROSS JOIN range(1, {EXPECTED_DAYS} + 1) k(k)
            CROSS JOIN first_minute
            LEFT JOIN live_minutes lm
                ON lm.domain = grid.domain AND lm.minute_at = grid.minute_at - to_days(k.k)
            WHERE grid.minute_at - to_days(k.k) >= first_minute.t
        )
        SELECT grid.domain, grid.minute_at,
               coalesce(lm.contacts, 0) AS contacts,
               (SELECT avg(h.contacts) FROM history h
                WHERE h.domain = grid.domain AND h.minute_at = grid.minute_at) AS expected
        FROM grid LEFT JOIN live_minutes lm USING (domain, minute_at)
        ORDER BY grid.domain, grid.minute_at
        """,
        {"domain": f.domain},
    )


def latest_alerts(cur: duckdb.DuckDBPyConnection, f: Filters, n: int = 5) -> list[Row]:
    """The newest episodes (any status), else the newest alerts of the mart."""
    if has_episodes(cur):
        sql = """
            SELECT e.episode_id AS alert_id, e.kind AS alert_kind, e.status, e.scenario_id,
                   s.scenario_name_zh, s.scenario_name_en, e.peak_count AS contact_count,
                   e.last_window_end AS window_end_at
            FROM live_episodes e LEFT JOIN scenarios s USING (scenario_id)
            WHERE $domain IS NULL OR e.domain = $domain
            ORDER BY e.last_window_end DESC, e.episode_id LIMIT $n
        """
    else:
        sql = """
            SELECT a.alert_id, a.alert_kind, 'alert' AS status, a.scenario_id,
                   s.scenario_name_zh, s.scenario_name_en, a.contact_count, a.window_end_at
            FROM alerts a LEFT JOIN scenarios s USING (scenario_id)
            WHERE $domain IS NULL OR a.domain = $domain
            ORDER BY a.window_end_at DESC, a.alert_id LIMIT $n
        """
    return rows(cur, sql, {"domain": f.domain, "n": n})


def episode(cur: duckdb.DuckDBPyConnection, episode_id: str) -> Row | None:
    """One alert episode with its evidence (the link alerts carry to owners)."""
    if len(episode_id) > _MAX_PARAM:
        return None
    found = rows(
        cur,
        "SELECT e.*, s.scenario_name_zh, s.scenario_name_en FROM live_episodes e "
        "LEFT JOIN scenarios s USING (scenario_id) WHERE e.episode_id = $id",
        {"id": episode_id},
    )
    return found[0] if found else None


# -- Root causes ------------------------------------------------------------------------


def top_scenarios(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row]:
    """Scenarios by contacts in the filter, with their dissatisfaction."""
    return rows(
        cur,
        f"""
        SELECT c.scenario_id, s.scenario_name_zh, s.scenario_name_en,
               count(*) AS contacts,
               count(*) FILTER (WHERE c.is_rated) AS rated,
               count(*) FILTER (WHERE c.is_rated AND NOT c.is_satisfied) AS dissatisfied
        FROM contacts c LEFT JOIN scenarios s USING (scenario_id)
        WHERE {CONTACT_FILTER}
        GROUP BY ALL ORDER BY contacts DESC, c.scenario_id LIMIT {TOP_N}
        """,
        f.params(),
    )


def growing_scenarios(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row]:
    """Growth = contacts on the filter's last day / mean contacts a day on its
    earlier days, for scenarios with >= GROWTH_MIN_CONTACTS on the last day."""
    days = (f.end - f.start).days
    if days < 1:
        return []
    return rows(
        cur,
        f"""
        WITH per AS (
            SELECT c.scenario_id,
                   count(*) FILTER (WHERE c.contacted_at >= $last_day) AS last_day,
                   count(*) FILTER (WHERE c.contacted_at < $last_day) AS earlier
            FROM contacts c WHERE {CONTACT_FILTER} GROUP BY ALL
        )
        SELECT per.scenario_id, s.scenario_name_zh, s.scenario_name_en, per.last_day,
               round(per.earlier / $days, 2) AS earlier_per_day,
               round(per.last_day / greatest(per.earlier / $days, 1.0 / $days), 2) AS growth
        FROM per LEFT JOIN scenarios s USING (scenario_id)
        WHERE per.last_day >= {GROWTH_MIN_CONTACTS}
        ORDER BY growth DESC, per.scenario_id LIMIT {TOP_N}
        """,
        f.params()
        | {"last_day": datetime.combine(f.end, datetime.min.time()), "days": float(days)},
    )


def dissatisfied_scenarios(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row]:
    """Share of rated contacts not satisfied (score < 4), scenarios with >= MIN_RATED."""
    return rows(
        cur,
        f"""
        SELECT c.scenario_id, s.scenario_name_zh, s.scenario_name_en,
               count(*) FILTER (WHERE c.is_rated) AS rated,
               count(*) FILTER (WHERE c.is_rated AND NOT c.is_satisfied) AS dissatisfied,
               round(count(*) FILTER (WHERE c.is_rated AND NOT c.is_satisfied)
                     / count(*) FILTER (WHERE c.is_rated), 4) AS dissatisfied_rate
        FROM contacts c LEFT JOIN scenarios s USING (scenario_id)
        WHERE {CONTACT_FILTER}
        GROUP BY ALL HAVING count(*) FILTER (WHERE c.is_rated) >= {MIN_RATED}
        ORDER BY dissatisfied_rate DESC, rated DESC, c.scenario_id LIMIT {TOP_N}
        """,
        f.params(),
    )


# One expression per drill level: untagged contacts have no catalog domain or
# stage, so they fall back to the contact's own business and journey stage.
_LEVEL_SQL = {
    "domain": "coalesce(s.domain, c.domain)",
    "stage": "coalesce(s.journey_stage, c.journey_stage)",
    "category": "coalesce(s.category, 'untagged')",
    "scenario": "c.scenario_id",
}
_LEVEL_NAMES = {
    "domain": ("NULL", "NULL"),
    "stage": ("any_value(s.stage_name_zh)", "any_value(s.stage_name_en)"),
    "category": ("NULL", "NULL"),
    "scenario": ("any_value(s.scenario_name_zh)", "any_value(s.scenario_name_en)"),
}


def drill_path(f: Filters) -> list[str]:
    drill = f.extra.get("drill")
    return drill.split("|") if drill else []


def drill_children(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row]:
    """The next level down the drill path: domain -> stage -> category -> scenario."""
    path = drill_path(f)
    level = DRILL_LEVELS[len(path)]
    conditions = " ".join(f"AND {_LEVEL_SQL[DRILL_LEVELS[i]]} = $p{i}" for i in range(len(path)))
    zh, en = _LEVEL_NAMES[level]
    return rows(
        cur,
        f"""
        SELECT {_LEVEL_SQL[level]} AS key, {zh} AS name_zh, {en} AS name_en,
               count(*) AS contacts,
               count(*) FILTER (WHERE c.is_rated AND NOT c.is_satisfied) AS dissatisfied
        FROM contacts c LEFT JOIN scenarios s USING (scenario_id)
        WHERE {CONTACT_FILTER} {conditions}
        GROUP BY 1 ORDER BY contacts DESC, key
        """,
        f.params() | {f"p{i}": p for i, p in enumerate(path)},
    )


def drill_contacts(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row]:
    """The newest contacts at the end of a full drill path, with their journey."""
    path = drill_path(f)
    conditions = " ".join(f"AND {_LEVEL_SQL[DRILL_LEVELS[i]]} = $p{i}" for i in range(len(path)))
    found = rows(
        cur,
        f"""
        SELECT c.contact_id, c.contacted_at, c.channel, c.journey_stage, c.satisfaction_score,
               t.recent_events, t.contact_text
        FROM contacts c LEFT JOIN scenarios s USING (scenario_id)
        LEFT JOIN contact_texts t USING (contact_id)
        WHERE {CONTACT_FILTER} {conditions}
        ORDER BY c.contacted_at DESC, c.contact_id LIMIT {CONTACTS_SHOWN}
        """,
        f.params() | {f"p{i}": p for i, p in enumerate(path)},
    )
    for r in found:
        r["contact_text"] = mask_text(r["contact_text"])
    return found


# Display masking: whatever privacy work upstream did, the page never shows a
# run of 5+ digits (phones, ids, cards), an email or an @handle in full.
_MASKS = (
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "<EMAIL>"),
    (re.compile(r"@\w+"), "@***"),
    (re.compile(r"\d[\d -]{3,}\d"), lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 2)),
)
TEXT_SHOWN = 240


def mask_text(text: str | None) -> str:
    if not text:
        return ""
    out = text[:TEXT_SHOWN]
    for pattern, repl in _MASKS:
        out = pattern.sub(repl, out)
    return out + ("…" if len(text) > TEXT_SHOWN else "")


# -- SLA --------------------------------------------------------------------------------


def sla_clock(cur: duckdb.DuckDBPyConnection) -> str:
    """The business clock when the mart has one, else calendar hours."""
    clocks = {r[0] for r in cur.execute("SELECT DISTINCT clock FROM ticket_sla").fetchall()}
    return "business" if "business" in clocks else "calendar"


# One row per ticket: the resolution clock that applied when the ticket was
# created (fct_ticket_sla re-applies it at each escalation, one row each; those
# rows are the new tier's promise, not the ticket's). Its department, domain,
# channel, highest tier and final resolution are the ticket's.
def _tickets(started: str) -> str:
    return f"""
        SELECT t.ticket_id, t.department_id, coalesce(t.highest_tier, 'L1') AS tier,
               t.started_at, t.completed_at, t.is_completed, t.is_breached
        FROM ticket_sla t
        WHERE t.metric = 'resolution' AND t.applied_reason = 'created' AND t.clock = $clock
          AND {started} AND {TICKET_DIMS}
    """


TICKETS = _tickets("t.started_at >= $start AND t.started_at < $end_excl")


def sla_attainment(cur: duckdb.DuckDBPyConnection, f: Filters, clock: str) -> list[Row]:
    """Resolution SLA of each ticket (the promise made at creation) by department
    and the highest tier the ticket reached: attainment = met / decided (met or
    breached; still-running clocks are not decided yet)."""
    return rows(
        cur,
        f"""
        SELECT department_id, tier,
               count(*) AS tickets,
               count(*) FILTER (WHERE is_breached) AS breached,
               count(*) FILTER (WHERE is_completed AND NOT is_breached) AS met,
               round(count(*) FILTER (WHERE is_completed AND NOT is_breached)
                     / nullif(count(*) FILTER (WHERE is_completed OR is_breached), 0), 4)
                   AS attainment
        FROM ({TICKETS})
        GROUP BY ALL ORDER BY department_id, tier
        """,
        f.params() | {"clock": clock},
    )


def sla_backlog(cur: duckdb.DuckDBPyConnection, f: Filters, clock: str) -> list[Row]:
    """Open tickets at the end of each day, by department: created by then and
    not resolved by then (tickets created before the filter's first day count
    while they are open on it)."""
    return rows(
        cur,
        f"""
        WITH days AS (
            SELECT d::DATE AS day FROM range($start, $end_excl, INTERVAL 1 DAY) r(d)
        ),
        tickets AS ({_tickets("t.started_at < $end_excl")})
        SELECT days.day, tickets.department_id, count(*) AS open_tickets
        FROM days JOIN tickets
            ON tickets.started_at < days.day + INTERVAL 1 DAY
           AND (tickets.completed_at IS NULL OR tickets.completed_at >= days.day + INTERVAL 1 DAY)
        GROUP BY ALL ORDER BY days.day, tickets.department_id
        """,
        f.params() | {"clock": clock},
    )


def escalation_paths(cur: duckdb.DuckDBPyConnection, f: Filters, clock: str) -> list[Row]:
    """Tickets by the tiers they went through, in order (fct_ticket_escalations:
    one row per tier stint, e.g. L1 → L2 → L4), by department, with how many
    breached their resolution SLA and how many went straight to HQ (L4 from
    below L3). A ticket never assigned sat in no tier: path L1."""
    return rows(
        cur,
        f"""
        WITH tickets AS ({TICKETS}),
        paths AS (
            SELECT e.ticket_id, string_agg(e.tier, ' → ' ORDER BY e.tier_sequence) AS path,
                   bool_or(e.is_direct_to_hq) AS is_direct_to_hq
            FROM ticket_escalations e
            WHERE e.ticket_id IN (SELECT ticket_id FROM tickets)
            GROUP BY e.ticket_id
        )
        SELECT tickets.department_id, coalesce(paths.path, 'L1') AS path,
               count(*) AS tickets,
               count(*) FILTER (WHERE tickets.is_breached) AS breached,
               count(*) FILTER (WHERE paths.is_direct_to_hq) AS direct_to_hq
        FROM tickets LEFT JOIN paths USING (ticket_id)
        GROUP BY ALL ORDER BY tickets.department_id, path
        """,
        f.params() | {"clock": clock},
    )


COMPENSATION_BIN_H = 0.5
COMPENSATION_MAX_H = 12.0


def compensation(cur: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, list[Row]]:
    """先行赔付 claims requested in the filter (fct_compensations), by the
    ticket's department: paid within the 2 h target / claims decided (paid, or
    unpaid past the target), median and 90th-percentile hours to pay; and the
    paid claims' hours to pay in COMPENSATION_BIN_H bins (the last bin holds
    everything from COMPENSATION_MAX_H up)."""
    claims = f"""
        SELECT c.* FROM compensations c
        JOIN ticket_sla t ON t.ticket_id = c.ticket_id
             AND t.metric = 'resolution' AND t.applied_reason = 'created'
        WHERE c.requested_at >= $start AND c.requested_at < $end_excl AND {TICKET_DIMS}
    """
    by_department = rows(
        cur,
        f"""
        SELECT department_id, any_value(target_hours) AS target_hours,
               count(*) AS claims,
               count(*) FILTER (WHERE is_paid) AS paid,
               count(*) FILTER (WHERE is_paid_within_target) AS within_target,
               count(*) FILTER (WHERE is_paid_within_target IS NOT NULL) AS decided,
               round(count(*) FILTER (WHERE is_paid_within_target)
                     / nullif(count(*) FILTER (WHERE is_paid_within_target IS NOT NULL), 0), 4)
                   AS within_target_rate,
               round(median(hours_to_pay), 2) AS median_hours_to_pay,
               round(quantile_cont(hours_to_pay, 0.9), 2) AS p90_hours_to_pay,
               round(sum(amount_cny), 2) AS amount_cny
        FROM ({claims}) GROUP BY ALL ORDER BY department_id
        """,
        f.params(),
    )
    hours = rows(
        cur,
        f"""
        SELECT least(floor(hours_to_pay / $bin) * $bin, $max_h) AS hours_from,
               count(*) AS claims
        FROM ({claims}) WHERE is_paid GROUP BY ALL ORDER BY hours_from
        """,
        f.params() | {"bin": COMPENSATION_BIN_H, "max_h": COMPENSATION_MAX_H},
    )
    return {"by_department": by_department, "hours": hours}


# -- Satisfaction -----------------------------------------------------------------------


# The satisfaction measures over a group of contacts, as select-list items, on
# the marts' definitions (DECISIONLOG "Satisfaction, FCR, repeats"; the same as
# fct_cx_daily's): call CSAT over call surveys and ticket CSAT over the rated
# tickets these contacts opened (never blended); FCR over the calls and tickets
# whose window after them is complete; repeat rate over the contacts whose
# window before them is complete (censored contacts are in neither).
SATISFACTION_MEASURES = """
    count(*) AS contacts,
    round(count(*) FILTER (WHERE c.is_call_satisfied)
          / nullif(count(*) FILTER (WHERE c.is_call_surveyed), 0), 4)
        AS call_csat,
    round(count(*) FILTER (WHERE c.is_ticket_satisfied)
          / nullif(count(*) FILTER (WHERE c.is_ticket_rated), 0), 4)
        AS ticket_csat,
    round(count(*) FILTER (WHERE c.is_first_contact_resolved)
          / nullif(count(c.is_first_contact_resolved), 0), 4) AS fcr,
    round(count(*) FILTER (WHERE c.is_repeat_contact AND NOT c.is_repeat_censored)
          / nullif(count(*) FILTER (WHERE NOT c.is_repeat_censored), 0), 4) AS repeat_rate
"""


def has_nps(cur: duckdb.DuckDBPyConnection) -> bool:
    """Marts built before the call survey's NPS question have no nps_score."""
    return bool(
        cur.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'contacts' AND column_name = 'nps_score'"
        ).fetchall()
    )


def _nps_measures(cur: duckdb.DuckDBPyConnection) -> str:
    """NPS = 100 x (promoters 9-10 - detractors 0-6) / answers (fct_contacts'
    is_nps_promoter / is_nps_detractor), with the number of answers."""
    if not has_nps(cur):
        return "NULL::BIGINT AS nps_responses, NULL::DOUBLE AS nps"
    return (
        "count(c.nps_score) AS nps_responses, "
        "round(100.0 * (count(*) FILTER (WHERE c.is_nps_promoter) "
        "- count(*) FILTER (WHERE c.is_nps_detractor)) / nullif(count(c.nps_score), 0), 1) AS nps"
    )


def satisfaction_series(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row]:
    """Per day or week and per domain/department/channel: call CSAT, ticket CSAT,
    first-contact (one-time) resolution and repeat rate."""
    grain = f.extra.get("grain", "day")
    by = DIMENSIONS[f.extra.get("by", "domain")]
    return rows(
        cur,
        f"""
        SELECT date_trunc('{grain}', c.contacted_at)::DATE AS period, c.{by} AS grp,
               {SATISFACTION_MEASURES}, {_nps_measures(cur)}
        FROM contacts c WHERE {CONTACT_FILTER}
        GROUP BY ALL ORDER BY period, grp
        """,
        f.params(),
    )


def satisfaction_totals(cur: duckdb.DuckDBPyConnection, f: Filters) -> Row:
    return rows(
        cur,
        f"SELECT {SATISFACTION_MEASURES}, {_nps_measures(cur)} "
        f"FROM contacts c WHERE {CONTACT_FILTER}",
        f.params(),
    )[0]


# -- Issues -----------------------------------------------------------------------------


def issue_ledger(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[Row] | None:
    """The issue ledger (fct_issues: the closed loop), filtered by business and
    owning department, newest first; None when the warehouse has no issue mart."""
    if not has_table(cur, "issues"):
        return None
    return rows(
        cur,
        """
        SELECT issue_id, title, scenario_id, scenario_name_zh, scenario_name_en, domain,
               owner_department_id, status, is_overdue, is_verified, is_closed,
               last_verdict, rate_ratio, contacts_avoided_per_week, opened_at, fix_due_at,
               fix_released_at, verified_at
        FROM issues
        WHERE ($domain IS NULL OR domain = $domain)
          AND ($department IS NULL OR owner_department_id = $department)
        ORDER BY opened_at DESC, issue_id LIMIT 500
        """,
        {"domain": f.domain, "department": f.department},
    )


def issue_totals(ledger: list[Row]) -> Row:
    return {
        "issues": len(ledger),
        "open": sum(not r["is_closed"] for r in ledger),
        "overdue": sum(bool(r["is_overdue"]) for r in ledger),
        "verified": sum(bool(r["is_verified"]) for r in ledger),
        "contacts_avoided_per_week": round(
            sum(r["contacts_avoided_per_week"] or 0 for r in ledger), 1
        ),
    }
