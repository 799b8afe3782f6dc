"""Delivery through an outbox in the warehouse: nothing lost, nothing twice.

1. `enqueue`: every alert transition x every channel its route names becomes
   one `raw.alert_outbox` row (`pending`), keyed `<transition>@<channel>`, so
   enqueueing again adds nothing. The idempotency key is per (episode,
   transition): the same on every channel and every retry.
2. `deliver`: due rows are attempted with retries and exponential backoff
   (tenacity); every attempt is counted in the row; after `max_attempts`
   failures a row is `dead` (kept, with the last error, shown by
   `voc alerts list`). Sent rows are marked `sent` right after the receiver
   accepted them.

The warehouse is opened only to claim and to mark rows, never during a
request, so a slow receiver does not lock the DuckDB file. A kill between
"accepted" and "marked" re-sends that one delivery on restart with the same
`Idempotency-Key`: delivery is at-least-once on the wire and exactly-once for
a receiver that honours the key (as every receiver we name does, or must).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from voc.alerting.channels import DeliveryError, send_email, send_http
from voc.alerting.routing import Routing


def idempotency_key(transition_id: str) -> str:
    return "voc-" + hashlib.blake2b(transition_id.encode(), digest_size=16).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def enqueue(con: duckdb.DuckDBPyConnection, routing: Routing) -> int:
    """Add an outbox row per (transition, routed channel) not yet there."""
    rows = con.execute(
        """
        SELECT t.transition_id, t.episode_id, t.transition, t.payload
        FROM raw.alert_transitions t
        WHERE NOT EXISTS (SELECT 1 FROM raw.alert_outbox o WHERE o.transition_id = t.transition_id)
        ORDER BY t.occurred_at, t.transition_id
        """
    ).fetchall()
    now = _now()
    new = []
    for tid, episode_id, transition, payload in rows:
        p = json.loads(payload)
        facts = {
            "department": p.get("owner_department"),
            "severity": p.get("severity"),
            "kind": p.get("kind"),
            "transition": transition,
        }
        for channel in routing.channels_for(facts):
            new.append(
                [
                    f"{tid}@{channel}",
                    tid,
                    episode_id,
                    channel,
                    routing.channels[channel].type,
                    idempotency_key(tid),
                    "pending",
                    0,
                    now,
                ]
            )
    if new:
        con.executemany(
            "INSERT OR IGNORE INTO raw.alert_outbox (delivery_id, transition_id, episode_id,"
            " channel, channel_type, idempotency_key, status, attempts, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            new,
        )
    return len(new)


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    attempts: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "pending": self.pending}


class _RateLimiter:
    """Per-channel minimum spacing between sends (rate_per_minute)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def wait(self, channel: str, rate_per_minute: float) -> None:
        gap = 60.0 / rate_per_minute
        last = self._last.get(channel)
        if last is not None:
            delay = last + gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self._last[channel] = time.monotonic()


def _with_warehouse(path: Path, fn: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
    with duckdb.connect(str(path)) as con:
        return fn(con)


def deliver(
    warehouse: Path,
    routing: Routing,
    *,
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> DeliveryResult:
    """Attempt every due pending delivery once through its retry budget."""
    result = DeliveryResult()
    due = _with_warehouse(
        warehouse,
        lambda con: con.execute(
            """
            SELECT o.delivery_id, o.channel, o.idempotency_key, o.attempts, t.payload
            FROM raw.alert_outbox o JOIN raw.alert_transitions t USING (transition_id)
            WHERE o.status = 'pending' AND o.next_attempt_at <= ?
            ORDER BY t.occurred_at, o.delivery_id
            """
            + (f" LIMIT {int(limit)}" if limit else ""),
            [_now()],
        ).fetchall(),
    )
    limiter = _RateLimiter()
    with httpx.Client() as client:
        for delivery_id, channel_name, key, attempts_before, payload in due:
            if channel_name not in routing.channels:
                # The channel left the routing file: keep the row pending, say so.
                result.errors.append(f"{delivery_id}: channel {channel_name!r} not in routing")
                continue
            status, made, exc = _deliver_one(
                client,
                routing,
                limiter,
                warehouse,
                delivery_id,
                channel_name,
                key,
                attempts_before,
                json.loads(payload),
            )
            result.attempts += made
            if status == "sent":
                result.sent += 1
                if progress:
                    progress(f"sent {delivery_id}")
            else:
                result.failed += 1
                result.errors.append(f"{delivery_id}: {exc}")
                if progress:
                    progress(f"dead-lettered {delivery_id} after {attempts_before + made} attempts")
    result.pending = _with_warehouse(
        warehouse,
        lambda con: con.execute(
            "SELECT count(*) FROM raw.alert_outbox WHERE status = 'pending'"
        ).fetchall()[0][0],
    )
    return result


def _deliver_one(
    client: httpx.Client,
    routing: Routing,
    limiter: _RateLimiter,
    warehouse: Path,
    delivery_id: str,
    channel_name: str,
    key: str,
    attempts_before: int,
    p: dict[str, Any],
) -> tuple[str, int, BaseException | None]:
    """One delivery through its remaining retry budget: ("sent" | "dead",
    attempts made, last error). Each failed attempt is recorded before the
    backoff sleep, so a kill during the backoff loses no count."""
    channel = routing.channels[channel_name]
    budget = max(routing.setting(channel_name, "max_attempts") - attempts_before, 1)
    timeout_s = routing.setting(channel_name, "timeout_s")
    rate = routing.setting(channel_name, "rate_per_minute")

    def attempt() -> Any:
        limiter.wait(channel_name, rate)
        if channel.type == "email":
            return send_email(channel, p, key, timeout_s)
        return send_http(client, channel, p, key, timeout_s)

    def record_failure(state: Any) -> None:
        exc = state.outcome.exception()
        _mark(warehouse, delivery_id, "pending", attempts_before + state.attempt_number, exc)

    retrying = Retrying(
        stop=stop_after_attempt(budget),
        wait=wait_exponential_jitter(
            initial=routing.defaults.backoff_s,
            max=routing.defaults.backoff_max_s,
            jitter=routing.defaults.backoff_s / 4,
        ),
        retry=retry_if_exception_type(DeliveryError),
        before_sleep=record_failure,
        reraise=False,
    )
    try:
        outcome = retrying(attempt)
    except RetryError as e:
        made = e.last_attempt.attempt_number
        exc = e.last_attempt.exception()
        _mark(warehouse, delivery_id, "dead", attempts_before + made, exc)
        return "dead", made, exc
    made = retrying.statistics.get("attempt_number", 1)
    _mark(warehouse, delivery_id, "sent", attempts_before + made, None, outcome)
    return "sent", made, None


def _mark(
    warehouse: Path,
    delivery_id: str,
    status: str,
    attempts: int,
    exc: BaseException | None,
    outcome: Any = None,
) -> None:
    code = getattr(exc, "status_code", None) if exc else getattr(outcome, "status_code", None)
    _with_warehouse(
        warehouse,
        lambda con: con.execute(
            """
            UPDATE raw.alert_outbox
            SET status = ?, attempts = ?, last_error = ?, last_status_code = ?,
                sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END
            WHERE delivery_id = ?
            """,
            [status, attempts, str(exc)[:500] if exc else None, code, status, _now(), delivery_id],
        ),
    )
