"""Small valid records of each input stream, written as simulator-style JSONL."""

from __future__ import annotations

import json
from pathlib import Path

# --- small valid records, one builder per stream --------------------------------


def call(i: int, customer: str, time: str) -> dict:
    return {
        "schema_version": "1",
        "event_id": f"call-{i}",
        "event_time": time,
        "domain": "express",
        "customer_id": customer,
        "entry_point": "hotline",
        "ivr_path": ["main", "parcel"],
        "queue_wait_s": 12.5,
        "talk_time_s": 140,
        "transcript": "我的快递三天没有更新了",
        "language": "zh",
    }


def ticket_event(i: int, customer: str, time: str) -> dict:
    return {
        "schema_version": "1",
        "event_id": f"tkt-{i}",
        "event_time": time,
        "domain": "freight",
        "ticket_id": f"T{i}",
        "customer_id": customer,
        "event_type": "created",
        "channel": "web",
        "text": "Truck did not arrive for pickup",
        "language": "en",
        "priority": "high",
    }


def app_event(i: int, customer: str, time: str) -> dict:
    return {
        "schema_version": "1",
        "event_id": f"app-{i}",
        "event_time": time,
        "domain": "ecommerce",
        "customer_id": customer,
        "journey_stage": "checkout",
        "event_name": "payment_failed",
        "properties": {"code": 502},
    }


def social_post(i: int, customer: str | None, time: str) -> dict:
    return {
        "schema_version": "1",
        "event_id": f"post-{i}",
        "event_time": time,
        "domain": "express",
        "platform": "weibo",
        "author_handle": "@someone",
        "customer_id": customer,
        "text": "Courier left my parcel in the rain",
        "language": "en",
        "reach": 1200,
    }


BUILDERS = {
    "calls": call,
    "ticket_events": ticket_event,
    "app_events": app_event,
    "social_posts": social_post,
}


def write_stream_folder(folder: Path, per_stream: int = 5) -> dict[str, list[bytes]]:
    """Write <stream>.jsonl files; calls.jsonl also gets a malformed line and a
    blank one. Return the non-blank lines of each stream, as bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[bytes]] = {}
    for s, build in BUILDERS.items():
        rows = [
            json.dumps(
                build(i, f"C{i % 3}", f"2026-11-02T0{i % 10}:1{i % 6}:00Z"), ensure_ascii=False
            )
            for i in range(per_stream)
        ]
        if s == "calls":
            rows.insert(2, '{"event_id": "broken", "customer_id": "C1", ')  # truncated JSON
        lines[s] = [r.encode() for r in rows]
        text = "\n".join(rows) + "\n"
        if s == "calls":
            text += "\n"  # a trailing blank line: not a record
        (folder / f"{s}.jsonl").write_text(text, encoding="utf-8")
    return lines
