"""The bank call-centre mapping (voc.kafka.callcenter) on hand-written rows."""

from __future__ import annotations

from voc.contracts.validate import DeadLetter
from voc.kafka.callcenter import CallRow, convert

HEADER = [
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
]


def row(line_no: int, caller: str, queue_and_service: str) -> CallRow:
    values = f"{caller} {queue_and_service}"
    attrs = dict(zip(HEADER, values.split(), strict=True))
    return CallRow(line_no, attrs, values.encode())


def test_outcomes_ids_times_and_phantoms():
    # GIVEN an answered call, a queue abandonment, an IVR hang-up, a phantom, a
    # caller with a spreadsheet-mangled id and one with a non-customer id 0
    rows = [
        row(
            2,
            "AA0101 1 23317894 2 PS 990201 8:09:16 8:09:22 6",
            "8:09:22 8:09:27 5 AGENT 8:09:27 8:10:00 33 DORIT",
        ),
        row(
            3,
            "AA0102 1 6.02701E+11 0 PS 990201 8:00:00 8:00:05 5",
            "8:00:05 8:01:05 60 HANG 0:00:00 0:00:00 0 NO_SERVER",
        ),
        row(
            4,
            "AA0103 7 0 0 NW 990201 0:30:00 0:30:09 9",
            "0:00:00 0:00:00 0 HANG 0:00:00 0:00:00 0 NO_SERVER",
        ),
        row(
            5,
            "AA0101 9 0 0 PS 990201 9:00:00 9:00:04 4",
            "9:00:04 9:00:10 6 PHANTOM 9:00:10 9:00:14 4 NO_SERVER",
        ),
    ]
    # WHEN they are converted
    out = list(convert(rows, "bank.txt"))
    calls = [r for r in out if isinstance(r, dict)]
    dead = [r for r in out if isinstance(r, DeadLetter)]
    # THEN the phantom is a dead letter with its reason, the rest are calls
    assert len(dead) == 1 and "line 5: PHANTOM" in dead[0].reason
    # AND in event-time order: Israel is UTC+2 in February, so 00:30 local is
    # the evening before in UTC
    assert [c["event_id"] for c in calls] == ["bank-AA0103-7", "bank-AA0102-1", "bank-AA0101-1"]
    ivr, queue, answered = calls
    assert ivr["event_time"] == "1999-01-31T22:30:00Z"
    assert answered["event_time"] == "1999-02-01T06:09:16Z"
    assert [c["outcome"] for c in calls] == ["abandoned_in_ivr", "abandoned_in_queue", "answered"]
    # AND the queue wait and service time are the log's own seconds
    assert (answered["queue_wait_s"], answered["talk_time_s"]) == (5, 33)
    assert (queue["queue_wait_s"], queue["agent_id"]) == (60, None)
    assert answered["agent_id"] == "DORIT"
    # AND identified customers keep their id; 0 and lost digits are one-call callers
    assert answered["customer_id"] == "bank-cust-23317894"
    assert queue["customer_id"] == "bank-anon-AA0102-1"
    assert ivr["customer_id"] == "bank-anon-AA0103-7"
