"""Convert the real Anonymous Bank call-centre log
(shared/data/callcenter_anonymous_bank/data_anonymous_bank_february.txt: every
call to an Israeli bank's call centre in February 1999, tab-separated, one row
per call) into call records, so that real calls can be replayed through Kafka
or the embedded pipeline. Pure: no Kafka, no I/O beyond reading the file.

How a row maps onto schemas/call.schema.json (the field notes beside the file
define the columns):

- event_id `bank-<vru+line>-<call_id>`: call_id alone repeats across VRU lines
  (26,387 rows share one with another row); the pair is unique.
- event_time: `date` + `vru_entry` (when the call reached the centre), a clock
  time in Israel (Asia/Jerusalem, UTC+2 in February), converted to UTC.
- customer_id `bank-cust-<customer_id>` for an identified customer; the log's
  0 (not a customer) and the 21 ids a spreadsheet turned into scientific
  notation (6.02701E+11: digits lost, so nobody can be linked by them) become
  `bank-anon-<vru+line>-<call_id>`, a caller of one call.
- outcome: AGENT -> `answered`; HANG after joining the queue (q_start set) ->
  `abandoned_in_queue`; HANG before it -> `abandoned_in_ivr`. PHANTOM rows
  ("a virtual call to be ignored") become dead letters, as do rows whose times
  or numbers do not parse.
- queue_wait_s = q_time and talk_time_s = ser_time, the log's own seconds
  (not recomputed from the clock times); agent_id = server, null for NO_SERVER.
- entry_point `vru_<AA0n>`; ivr_path [vru, line, service type, priority].
- domain `common`, language `en`; transcript: a one-line summary of the row (the
  log has no text). No survey, no resolution on the call, no ticket: unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from voc.contracts.streams import SCHEMA_VERSION, Stream
from voc.contracts.validate import DeadLetter, dead_letter, format_time
from voc.kafka.logfile import read_delimited

SOURCE_TZ = ZoneInfo("Asia/Jerusalem")
NOT_QUEUED = "0:00:00"
NO_SERVER = "NO_SERVER"
SERVICE_TYPES = {
    "PS": "regular activity",
    "PE": "regular activity in English",
    "IN": "internet consulting",
    "NE": "stock exchange activity",
    "NW": "potential customer getting information",
    "TT": "call-back put on hold",
}
_CUSTOMER = re.compile(r"^[1-9][0-9]*$")


@dataclass(frozen=True, slots=True)
class CallRow:
    line_no: int
    attrs: dict[str, str]
    raw: bytes


def read_rows(path: Path) -> list[CallRow]:
    return [CallRow(n, row, raw) for n, row, raw in read_delimited(path, delimiter="\t")]


def outcome_of(outcome: str, q_start: str) -> str | None:
    """The call schema's outcome for the log's outcome column (None: not a call)."""
    if outcome == "AGENT":
        return "answered"
    if outcome == "HANG":
        return "abandoned_in_ivr" if q_start == NOT_QUEUED else "abandoned_in_queue"
    return None


def started_at(date: str, clock: str) -> datetime:
    """`990201` + `7:02:47` (Israel clock time) as an aware UTC datetime."""
    local = datetime.strptime(f"19{date} {clock}", "%Y%m%d %H:%M:%S")
    return local.replace(tzinfo=SOURCE_TZ).astimezone(UTC)


def convert(rows: list[CallRow], source: str) -> Iterator[dict[str, Any] | DeadLetter]:
    """Yield one call record (or a DeadLetter saying why not) per row, in
    event-time order (ties keep the log's order), as a live centre emits them."""
    converted: list[tuple[datetime | None, int, dict[str, Any] | DeadLetter]] = []
    for row in rows:
        record = _convert_row(row, source)
        at = (
            None
            if isinstance(record, DeadLetter)
            else started_at(row.attrs["date"], row.attrs["vru_entry"])
        )
        converted.append((at, row.line_no, record))
    converted.sort(key=lambda t: (t[0] or datetime.min.replace(tzinfo=UTC), t[1]))
    for _, _, record in converted:
        yield record


def _convert_row(row: CallRow, source: str) -> dict[str, Any] | DeadLetter:
    stream = str(Stream.CALLS)
    a = row.attrs
    where = f"line {row.line_no}"
    outcome = outcome_of(a.get("outcome", ""), a.get("q_start", ""))
    if outcome is None:
        if a.get("outcome") == "PHANTOM":
            reason = f"{where}: PHANTOM, a virtual call the log says to ignore"
        else:
            reason = f"{where}: unknown outcome {a.get('outcome')!r}"
        return dead_letter(stream, source, reason, row.raw)
    try:
        at = started_at(a["date"], a["vru_entry"])
        queue_wait_s, talk_time_s = int(a["q_time"]), int(a["ser_time"])
    except (KeyError, ValueError) as exc:
        return dead_letter(stream, source, f"{where}: unreadable time or number ({exc})", row.raw)
    if queue_wait_s < 0 or talk_time_s < 0:
        return dead_letter(stream, source, f"{where}: negative q_time or ser_time", row.raw)
    vru_line = a["vru+line"]
    key = f"{vru_line}-{a['call_id']}"
    customer = a.get("customer_id", "")
    service = a.get("type", "")
    server = a.get("server", "")
    return {
        "schema_version": SCHEMA_VERSION,
        "event_id": f"bank-{key}",
        "event_time": format_time(at),
        "domain": "common",
        "customer_id": f"bank-cust-{customer}" if _CUSTOMER.match(customer) else f"bank-anon-{key}",
        "order_id": None,
        "entry_point": f"vru_{vru_line[:4]}",
        "ivr_path": [
            f"vru_{vru_line[:4]}",
            f"line_{vru_line[4:]}",
            f"service_{service}",
            f"priority_{a.get('priority', '')}",
        ],
        "queue_wait_s": queue_wait_s,
        "talk_time_s": talk_time_s,
        "agent_id": None if server in ("", NO_SERVER) else server,
        "transcript": (
            f"Bank call {key}: {SERVICE_TYPES.get(service, service)}, "
            f"priority {a.get('priority')}, {outcome.replace('_', ' ')}."
        ),
        "language": "en",
        "outcome": outcome,
    }
