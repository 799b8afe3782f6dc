"""Write stream files the way real producers deliver them: mostly in event-time
order, a few lines late, and now and then a broken line."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

LATE_SHARE = 0.01  # lines delivered out of order
MAX_LATENESS_S = 600  # ... by at most ten minutes
MALFORMED_KINDS = ("truncated_json", "missing_field", "wrong_type", "bad_timestamp", "non_utf8")
_REQUIRED = {
    "calls": ("event_time", "customer_id", "transcript", "language", "entry_point"),
    "ticket_events": ("event_time", "ticket_id", "customer_id", "event_type", "priority"),
    "app_events": ("event_time", "customer_id", "journey_stage", "event_name"),
    "social_posts": ("event_time", "platform", "text", "reach"),
}
_WRONG_TYPE = {
    "calls": (
        ("queue_wait_s", "forty seconds"),
        ("ivr_path", "welcome>agent"),
        ("customer_id", 42),
    ),
    "ticket_events": (("priority", 3), ("ticket_id", None), ("event_type", ["created"])),
    "app_events": (
        ("customer_id", 1234567),
        ("event_name", {"name": "page_view"}),
        ("domain", True),
    ),
    "social_posts": (("reach", "a lot"), ("text", None), ("platform", 7)),
}
_BAD_TIMES = (
    "2026-13-45T25:61:00Z",
    "yesterday",
    "2026/11/03 10:00:00",
    "2026-11-03T10:00:00+08:00",
    "",
)


@dataclass(frozen=True, slots=True)
class StreamWrite:
    valid: int
    malformed: list[dict[str, Any]]


def _dumps(record: dict[str, Any]) -> bytes:
    # orjson writes UTF-8 and never escapes non-ASCII (like ensure_ascii=False);
    # keys keep insertion order, so output bytes depend only on the records.
    return orjson.dumps(record)


def _malformed(rng: random.Random, stream: str, record: dict[str, Any], kind: str) -> bytes:
    bad = dict(record)
    bad["event_id"] = f"bad-{record['event_id']}"
    if kind == "truncated_json":
        text = _dumps(bad).decode("utf-8")
        return text[: rng.randint(1, len(text) - 2)].encode("utf-8")
    if kind == "missing_field":
        del bad[rng.choice(_REQUIRED[stream])]
    elif kind == "wrong_type":
        field, value = rng.choice(_WRONG_TYPE[stream])
        bad[field] = value
    elif kind == "bad_timestamp":
        bad["event_time"] = rng.choice(_BAD_TIMES)
    else:  # non_utf8: Latin-1 / GBK bytes where UTF-8 is required
        raw = _dumps(bad)
        cut = raw.index(b'"event_id"')
        return raw[:cut] + b'"note":"\xff\xfe\xc3(",' + raw[cut:]
    return _dumps(bad)


def write_stream(
    path: Path,
    stream: str,
    records: Iterable[tuple[int, dict[str, Any]]],
    rng: random.Random,
    malformed_rate: float,
) -> StreamWrite:
    """Write (event time s, record) pairs as JSON lines; return counts and broken lines."""
    keyed = []
    for seq, (t, record) in enumerate(records):
        late = rng.random() < LATE_SHARE
        keyed.append((t + rng.randint(1, MAX_LATENESS_S) if late else t, seq, record))
    keyed.sort(key=lambda k: (k[0], k[1]))
    malformed: list[dict[str, Any]] = []
    line = 0
    with path.open("wb") as fh:
        for _, _, record in keyed:
            if malformed_rate > 0 and rng.random() < malformed_rate:
                kind = rng.choice(MALFORMED_KINDS)
                line += 1
                fh.write(_malformed(rng, stream, record, kind) + b"\n")
                malformed.append({"stream": stream, "line": line, "kind": kind})
            line += 1
            fh.write(_dumps(record) + b"\n")
    return StreamWrite(valid=len(keyed), malformed=malformed)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with path.open("wb") as fh:
        for row in rows:
            fh.write(_dumps(row) + b"\n")
            n += 1
    return n
