"""A small, hand-written raw warehouse for the dbt marts and the quality suites.

`build_raw_warehouse(path)` writes a DuckDB file with every raw table (the DDL of
voc.warehouse.tables), a two-scenario catalog (voc.warehouse.catalog_tables) and the
rows below, each chosen to exercise one rule of the marts. The expected mart values
are worked out next to the rows so a failing assertion can be checked by hand.

Timeline (all 2025-03, UTC). as_of = last ticket event = 03-06 12:30.
03-01/02 are a weekend; finance works 01:00-10:00 UTC on workdays (seed
department_working_windows), dispatch_ops and customer_service around the clock.

scenarios   NDA = freight.matching.no_driver_accepts (dispatch_ops; 1/2/4/8 h)
            DEP = freight.order.deposit_dispute      (finance;      2/8/24/48 h)
calls       call-1 c1 DEP 03-01 08:00 survey 5, opened T-CALL
            call-2 c2 NDA 03-01 09:00 survey 2      -> has a repeat (call-3)
            call-3 c2 NDA 03-03 09:00 survey 4      -> is a repeat of call-2 (48 h);
                                                       resolved on the call -> FCR
            call-4 c3 untagged 03-01 10:00 no survey, resolved on the call -> FCR
            call-5 c2 NDA 03-12 09:00 survey 3      -> 9 days later: not a repeat;
                                                       its 72 h window is censored
tickets     T-CALL   from call-1, normal, DEP 24 h, resolved after 11.8 h  -> met
            T-LATE   contact, high, NDA 2 h, resolved after 3 h, rated 2   -> breached
            T-OPEN   contact, low, DEP 48 h, still open at as_of (36.5 h)  -> active
            T-REOPEN contact, urgent, DEP, own sla_due_at +6 h (300 working minutes
                     of finance) wins over the catalog's 2 h; resolved
                     at 5 h, reopened, resolved again at 60 h, rated 1     -> breached
            T-STALE  contact, normal, untagged -> default 48 h, open 132.5 h -> breached
social      post-1 no customer, NDA, reach 1000
alert       alert-1 contact_spike on NDA
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from voc.catalog import load_catalog
from voc.warehouse.catalog_tables import load_catalog_tables
from voc.warehouse.loop_tables import ensure_loop_tables
from voc.warehouse.tables import RAW_SCHEMA, RAW_TABLES

NDA = "freight.matching.no_driver_accepts"
DEP = "freight.order.deposit_dispute"

FIXTURE_CATALOG_YAML = """\
catalog_version: 1
departments:
  - {id: customer_service, name_zh: 客服中心, name_en: Customer service}
  - {id: dispatch_ops, name_zh: 调度运营, name_en: Dispatch operations}
  - {id: finance, name_zh: 财务结算, name_en: Finance and settlement}
entry_points:
  - {id: hotline, name_zh: 客服热线, name_en: Service hotline}
domains:
  - id: freight
    name_zh: 货运
    name_en: Freight
    stages:
      - {id: order, name_zh: 下单, name_en: Place order, expected_minutes: 15}
      - {id: matching, name_zh: 找车接单, name_en: Driver matching, expected_minutes: 30}
scenarios:
  - id: freight.matching.no_driver_accepts
    domain: freight
    stage: matching
    category: matching
    name_zh: 长时间无司机接单
    name_en: No driver accepts the order
    description_zh: 订单发布后长时间无人接单。
    description_en: The order stays unaccepted for a long time.
    keywords_zh: [没人接单]
    keywords_en: [no driver accepted]
    signals: {app_events: [order_unmatched_timeout], entry_points: [], ticket_categories: []}
    owner: dispatch_ops
    severity: medium
    sla_hours: {urgent: 1, high: 2, normal: 4, low: 8}
    is_guarantee: false
  - id: freight.order.deposit_dispute
    domain: freight
    stage: order
    category: guarantee
    name_zh: 订金纠纷
    name_en: Deposit dispute
    description_zh: 订金被扣或不退。
    description_en: A deposit is withheld or not refunded.
    keywords_zh: [订金]
    keywords_en: [deposit]
    signals: {app_events: [], entry_points: [hotline], ticket_categories: []}
    owner: finance
    severity: high
    sla_hours: {urgent: 2, high: 8, normal: 24, low: 48}
    is_guarantee: true
"""


def ts(text: str) -> datetime:
    """'03-01 08:00' -> 2025-03-01 08:00 (naive UTC, as the raw tables store it)."""
    return datetime.strptime(f"2025-{text}", "%Y-%m-%d %H:%M")


def _call(event_id: str, customer: str, at: str, survey: int | None, **extra: Any) -> dict:
    return {
        "event_id": event_id,
        "event_time": ts(at),
        "domain": "freight",
        "customer_id": customer,
        "entry_point": "hotline",
        "ivr_path": ["1", "2"],
        "queue_wait_s": 12.0,
        "talk_time_s": 180.0,
        "transcript": "订金不退",
        "language": "zh",
        "emotion": "anxious",
        "emotion_score": -0.3,
        "survey_score": survey,
        **extra,
    }


def _ticket_event(
    event_id: str,
    ticket: str,
    customer: str,
    event_type: str,
    at: str,
    priority: str,
    **extra: Any,
) -> dict:
    row = {
        "event_id": event_id,
        "event_time": ts(at),
        "domain": "freight",
        "ticket_id": ticket,
        "customer_id": customer,
        "event_type": event_type,
        "priority": priority,
    }
    if event_type == "created":
        row |= {"channel": "web", "text": "no driver accepted", "language": "en"}
    return row | extra


def _contact(
    contact_id: str,
    channel: str,
    customer: str | None,
    at: str,
    scenario: str | None,
) -> dict:
    return {
        "contact_id": contact_id,
        "channel": channel,
        "event_time": ts(at),
        "domain": "freight",
        "customer_id": customer,
        "text": "text",
        "language": "zh",
        "journey_stage": "matching",
        "recent_events": ["order_created"],
        "is_late": False,
        "scenario_id": scenario,
        "confidence": 0.9 if scenario else 0.0,
        "method": "keyword" if scenario else "untagged",
        "evidence": "kw",
    }


FIXTURE_ROWS: dict[str, list[dict[str, Any]]] = {
    "calls": [
        _call("call-1", "c1", "03-01 08:00", 5, ticket_id="T-CALL"),
        _call("call-2", "c2", "03-01 09:00", 2),
        _call("call-3", "c2", "03-03 09:00", 4, resolved_on_call=True),
        _call("call-4", "c3", "03-01 10:00", None, resolved_on_call=True),
        _call("call-5", "c2", "03-12 09:00", 3),
    ],
    "ticket_events": [
        # T-CALL: opened by call-1, so its created event is not a contact.
        _ticket_event(
            "te-call-1",
            "T-CALL",
            "c1",
            "created",
            "03-01 08:10",
            "normal",
            channel="call",
            source_contact_id="call-1",
        ),
        _ticket_event("te-call-2", "T-CALL", "c1", "responded", "03-01 09:00", "normal"),
        _ticket_event("te-call-3", "T-CALL", "c1", "resolved", "03-01 20:00", "normal"),
        _ticket_event("te-call-4", "T-CALL", "c1", "rated", "03-01 21:00", "normal", rating=4),
        # T-LATE: high priority, NDA 2 h, resolved after 3 h.
        _ticket_event("te-late-1", "T-LATE", "c4", "created", "03-02 10:00", "high"),
        _ticket_event("te-late-2", "T-LATE", "c4", "responded", "03-02 10:30", "high"),
        _ticket_event("te-late-3", "T-LATE", "c4", "resolved", "03-02 13:00", "high"),
        _ticket_event("te-late-4", "T-LATE", "c4", "rated", "03-02 14:00", "high", rating=2),
        # T-OPEN: low priority, DEP 48 h from 03-05 00:00; nothing else happens.
        _ticket_event("te-open-1", "T-OPEN", "c5", "created", "03-05 00:00", "low"),
        # T-REOPEN: urgent, but its own sla_due_at (300 finance minutes) wins over DEP's 2 h.
        _ticket_event(
            "te-reopen-1",
            "T-REOPEN",
            "c6",
            "created",
            "03-04 00:00",
            "urgent",
            channel="app_chat",
            sla_due_at=ts("03-04 06:00"),
        ),
        _ticket_event(
            "te-reopen-2",
            "T-REOPEN",
            "c6",
            "assigned",
            "03-04 00:10",
            "urgent",
            department="finance",
            tier="L1",
        ),
        _ticket_event("te-reopen-3", "T-REOPEN", "c6", "responded", "03-04 00:20", "urgent"),
        _ticket_event("te-reopen-4", "T-REOPEN", "c6", "resolved", "03-04 05:00", "urgent"),
        _ticket_event("te-reopen-5", "T-REOPEN", "c6", "reopened", "03-04 08:00", "urgent"),
        _ticket_event(
            "te-reopen-6",
            "T-REOPEN",
            "c6",
            "escalated",
            "03-04 09:00",
            "urgent",
            department="finance",
            tier="L2",
        ),
        _ticket_event("te-reopen-7", "T-REOPEN", "c6", "resolved", "03-06 12:00", "urgent"),
        _ticket_event("te-reopen-8", "T-REOPEN", "c6", "rated", "03-06 12:30", "urgent", rating=1),
        # T-STALE: untagged, normal, never answered.
        _ticket_event(
            "te-stale-1", "T-STALE", "c7", "created", "03-01 00:00", "normal", channel="email"
        ),
    ],
    "app_events": [
        {
            "event_id": "app-1",
            "event_time": ts("03-01 07:50"),
            "domain": "freight",
            "customer_id": "c2",
            "journey_stage": "matching",
            "event_name": "order_unmatched_timeout",
        },
    ],
    "social_posts": [
        {
            "event_id": "post-1",
            "event_time": ts("03-02 12:00"),
            "domain": "freight",
            "platform": "weibo",
            "author_handle": "@someone",
            "text": "still no driver",
            "language": "en",
            "reach": 1000,
            "sentiment": -0.8,
        },
    ],
    "contacts": [
        _contact("call-1", "call", "c1", "03-01 08:00", DEP),
        _contact("call-2", "call", "c2", "03-01 09:00", NDA),
        _contact("call-3", "call", "c2", "03-03 09:00", NDA),
        _contact("call-4", "call", "c3", "03-01 10:00", None),
        _contact("call-5", "call", "c2", "03-12 09:00", NDA),
        _contact("te-late-1", "ticket", "c4", "03-02 10:00", NDA),
        _contact("te-open-1", "ticket", "c5", "03-05 00:00", DEP),
        _contact("te-reopen-1", "ticket", "c6", "03-04 00:00", DEP),
        _contact("te-stale-1", "ticket", "c7", "03-01 00:00", None),
        _contact("post-1", "social", None, "03-02 12:00", NDA),
    ],
    "alerts": [
        {
            "alert_id": "alert-1",
            "kind": "contact_spike",
            "key": f"freight|matching|{NDA}",
            "domain": "freight",
            "journey_stage": "matching",
            "scenario_id": NDA,
            "subject": NDA,
            "severity": "high",
            "evidence": {"window_s": 600, "ratio": 4.0},
            "window_start": ts("03-01 09:00"),
            "window_end": ts("03-01 09:10"),
            "count": 12,
            "baseline_mean": 3.0,
            "threshold": 9.0,
            "suggested_owner": "dispatch_ops",
        },
    ],
    "dead_letters": [
        {
            "dead_letter_id": "dl-" + "0" * 32,
            "stream": "calls",
            "source": "calls.jsonl:7",
            "kind": "invalid_json",
            "reason": "not JSON",
            "raw_text": "{oops",
            "raw_b64": "e29vcHM=",
            "raw_size_bytes": 5,
            "raw_sha256": "4f5d1ca4bd3bbb5e3f0a0a3b5e5a1f9a1b3d0a4c2f1e0d9c8b7a6f5e4d3c2b1a",
            "is_truncated": False,
        },
    ],
}


# One issue through its whole loop (issue 12): opened 03-01 08:00 with a 24 h fix
# SLA, fix released 03-03 10:00 (late: overdue), verified 03-10 by a check that
# found 40 -> 8 contacts and 12.5 contacts avoided a week.
FIXTURE_ISSUE_SQL = (
    """INSERT INTO raw.issues (issue_id, title, scenario_id, source_kind, source_ref,
       owner_department, severity, fix_sla_hours, rate_unit, opened_at)
       VALUES ('iss-fx1', 'No driver accepts', 'freight.matching.no_driver_accepts',
       'alert_episode', 'ep-fx1', 'dispatch_ops', 'high', 24, 'orders', '2025-03-01 08:00')""",
    """INSERT INTO raw.issue_events (event_id, issue_id, seq, status, occurred_at, actor,
       release_at, owner_department) VALUES
       ('iss-fx1:1', 'iss-fx1', 1, 'open', '2025-03-01 08:00', 'a', NULL, 'dispatch_ops'),
       ('iss-fx1:2', 'iss-fx1', 2, 'acknowledged', '2025-03-01 09:00', 'a', NULL, NULL),
       ('iss-fx1:3', 'iss-fx1', 3, 'fix_released', '2025-03-03 10:00', 'a',
        '2025-03-03 10:00', NULL),
       ('iss-fx1:4', 'iss-fx1', 4, 'verified', '2025-03-10 00:00', 'verifier', NULL, NULL)""",
    """INSERT INTO raw.issue_checks (check_id, issue_id, checked_through, release_at,
       before_start, before_end, after_start, after_end, before_contacts, after_contacts,
       before_exposure, after_exposure, rate_before, rate_after, rate_ratio, ci_low, ci_high,
       p_value, verdict, contacts_avoided_per_week) VALUES
       ('iss-fx1:a', 'iss-fx1', '2025-03-10 00:00', '2025-03-03 10:00', '2025-03-01 12:00',
        '2025-03-03 10:00', '2025-03-03 10:00', '2025-03-10 00:00', 40, 8, 2.0, 2.0, 20.0, 4.0,
        0.2, 0.09, 0.43, 0.00001, 'drop', 12.5)""",
)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert dict rows into raw.<table>; columns a row leaves out are NULL."""
    columns = RAW_TABLES[table].column_names
    placeholders = ", ".join("?" for _ in columns)
    con.executemany(
        f"INSERT INTO {RAW_SCHEMA}.{table} ({', '.join(columns)}) VALUES ({placeholders})",
        [[row.get(c) for c in columns] for row in rows],
    )


def build_raw_warehouse(path: Path, rows: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """Write a warehouse file with all raw tables, the fixture catalog and `rows`
    (FIXTURE_ROWS by default). Returns `path`."""
    catalog_file = path.parent / "fixture_catalog.yaml"
    catalog_file.write_text(FIXTURE_CATALOG_YAML, encoding="utf-8")
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        for table in RAW_TABLES.values():
            con.execute(table.ddl())
        ensure_loop_tables(con)
        load_catalog_tables(con, load_catalog(catalog_file))
        for table, table_rows in (FIXTURE_ROWS if rows is None else rows).items():
            insert_rows(con, table, table_rows)
        if rows is None:
            for sql in FIXTURE_ISSUE_SQL:
                con.execute(sql)
    finally:
        con.close()
    return path


@pytest.fixture
def raw_warehouse(tmp_path: Path) -> Path:
    """A fresh fixture warehouse (raw tables only), one per test."""
    return build_raw_warehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    """The fixture warehouse after one `dbt build` (shared by the session: dbt is slow
    to start). Yields (warehouse path, DbtBuildResult)."""
    from voc.warehouse.dbt_runner import build_marts

    warehouse = build_raw_warehouse(tmp_path_factory.mktemp("dbt") / "warehouse.duckdb")
    result = build_marts(warehouse, raise_on_failure=False)
    yield warehouse, result


def query(warehouse: Path, sql: str) -> list[dict[str, Any]]:
    """Run `sql` read-only against `warehouse`; rows as dicts."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
