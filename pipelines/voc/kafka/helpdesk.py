"""Convert the real help-desk event log (shared/data/helpdesk_log/helpdesk.csv)
into ticket_event records, so that real data can be replayed through Kafka.

The log (an Italian software company's ticketing process, anonymised: every
attribute reads "Value N") has one row per activity of a case; a case is a
ticket. Pure: no Kafka, no I/O beyond reading the CSV.

How the log maps onto schemas/ticket_event.schema.json (one record per row):

- ticket_id `hd-<case number>`; event_id `hd-<case>-<row within case>`.
- customer_id `hd-cust-<n>` from the log's own `customer` attribute of the
  case's first row (a few cases change customer midway; a ticket keeps one).
- event_type: a case's first row is `created` whatever its activity (the
  log has no separate creation row; it opens with "Assign seriousness" or
  "Insert ticket"). After that:
      Assign seriousness, Insert ticket, Take in charge ticket -> assigned
      Require upgrade                                         -> escalated (tier L2)
      Create SW anomaly                                       -> escalated (tier L3, software)
      Wait, Schedule intervention                             -> responded
      Resolve SW anomaly, RESOLVED, VERIFIED, INVALID, DUPLICATE
          (states of the linked software anomaly, not of the ticket) -> responded
      Resolve ticket, Closed                                  -> resolved
  except that the first non-closing row after a "Resolve ticket" is
  `reopened` (work started again on a resolved ticket).
- category_code keeps the original activity name; priority comes from the
  case's `seriousness_2` (Value 1..4 -> low, normal, high, urgent; the
  `seriousness` column has a single value); department from
  `support_section`; tier L1 until an escalation raises it.
- domain `common`; channel `web` and language `en` on the created row, whose
  text is a one-line summary of the case attributes (the log has no text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from voc.contracts.streams import SCHEMA_VERSION, Stream
from voc.contracts.validate import DeadLetter, dead_letter, format_time
from voc.kafka.logfile import read_delimited

ACTIVITY_EVENT_TYPE: dict[str, str] = {
    "Assign seriousness": "assigned",
    "Insert ticket": "assigned",
    "Take in charge ticket": "assigned",
    "Require upgrade": "escalated",
    "Create SW anomaly": "escalated",
    "Wait": "responded",
    "Schedule intervention": "responded",
    "Resolve SW anomaly": "responded",
    "RESOLVED": "responded",
    "VERIFIED": "responded",
    "INVALID": "responded",
    "DUPLICATE": "responded",
    "Resolve ticket": "resolved",
    "Closed": "resolved",
}
_ESCALATION_TIER = {"Require upgrade": "L2", "Create SW anomaly": "L3"}
_SOFTWARE_DEPARTMENT = "software"
_RESOLVE = "Resolve ticket"
PRIORITY_OF_SERIOUSNESS = {"1": "low", "2": "normal", "3": "high", "4": "urgent"}
_VALUE_N = re.compile(r"^Value (\d+)$")


@dataclass(frozen=True, slots=True)
class HelpdeskRow:
    line_no: int
    case: str
    activity: str
    time: datetime
    attrs: dict[str, str]
    raw: bytes


def read_rows(path: Path) -> list[HelpdeskRow]:
    return [
        HelpdeskRow(
            line_no=line_no,
            case=row["case:concept:name"],
            activity=row["concept:name"],
            time=datetime.fromisoformat(row["time:timestamp"]),
            attrs=row,
            raw=raw,
        )
        for line_no, row, raw in read_delimited(path)
    ]


def convert(rows: list[HelpdeskRow], source: str) -> Iterator[dict[str, Any] | DeadLetter]:
    """Yield one ticket_event (or a DeadLetter saying why not) per row, in event-time
    order across cases (ties keep the log's order), as a live help desk emits them."""
    by_case: dict[str, list[HelpdeskRow]] = {}
    for row in rows:
        by_case.setdefault(row.case, []).append(row)
    converted: list[tuple[datetime, int, dict[str, Any] | DeadLetter]] = []
    for case_rows in by_case.values():
        for row, record in zip(case_rows, _convert_case(case_rows, source), strict=True):
            converted.append((row.time, row.line_no, record))
    converted.sort(key=lambda t: (t[0], t[1]))
    for _, _, record in converted:
        yield record


def _convert_case(rows: list[HelpdeskRow], source: str) -> Iterator[dict[str, Any] | DeadLetter]:
    stream = str(Stream.TICKET_EVENTS)
    case_no = _number(rows[0].case)
    customer_no = _number(rows[0].attrs.get("customer", ""))
    if case_no is None or customer_no is None:
        for row in rows:
            yield dead_letter(
                stream, source, f"line {row.line_no}: no case/customer number", row.raw
            )
        return
    tier = "L1"
    department: str | None = None
    after_resolve = False
    for seq, row in enumerate(rows, start=1):
        event_type = ACTIVITY_EVENT_TYPE.get(row.activity)
        if event_type is None:
            yield dead_letter(
                stream, source, f"line {row.line_no}: unknown activity {row.activity!r}", row.raw
            )
            continue
        section = _number(row.attrs.get("support_section", ""))
        department = f"support-section-{section}" if section is not None else department
        if row.activity in _ESCALATION_TIER:
            tier = max(tier, _ESCALATION_TIER[row.activity])
        if row.activity == "Create SW anomaly":
            department = _SOFTWARE_DEPARTMENT
        if seq == 1:
            event_type = "created"
        elif after_resolve and event_type not in ("resolved", "responded"):
            event_type = "reopened"
        after_resolve = row.activity == _RESOLVE or (after_resolve and event_type == "responded")
        seriousness = _number(row.attrs.get("seriousness_2", ""))
        record: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "event_id": f"hd-{case_no}-{seq:02d}",
            "event_time": format_time(row.time),
            "domain": "common",
            "ticket_id": f"hd-{case_no}",
            "customer_id": f"hd-cust-{customer_no}",
            "order_id": None,
            "event_type": event_type,
            "source_contact_id": None,
            "department": department,
            "tier": tier,
            "priority": PRIORITY_OF_SERIOUSNESS.get(str(seriousness), "normal"),
            "sla_due_at": None,
            "category_code": row.activity,
            "text": None,
            "language": "en",
            "rating": None,
        }
        if event_type == "created":
            a = row.attrs
            record["channel"] = "web"
            record["text"] = (
                f"Help-desk ticket {row.case}: product {a.get('product')}, "
                f"service type {a.get('service_type')}, service level {a.get('service_level')}, "
                f"workgroup {a.get('workgroup')}."
            )
        yield record


def _number(value: str) -> int | None:
    m = _VALUE_N.match(value) or re.match(r"^Case (\d+)$", value)
    return int(m.group(1)) if m else None
