"""kafka-python clients with short timeouts.

kafka-python 3.x blocks for `bootstrap_timeout_ms` (30 s by default) when no
broker answers; a CLI or a test should fail in seconds and say why instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import kafka.errors
from kafka import KafkaAdminClient

CLIENT_ID = "voc-loop"
_UNAVAILABLE = (kafka.errors.KafkaTimeoutError, kafka.errors.KafkaConnectionError)


class BrokerUnavailable(RuntimeError):
    """No Kafka broker answered at the bootstrap address in time."""


def short_timeouts(timeout_s: float) -> dict[str, Any]:
    ms = max(int(timeout_s * 1000), 500)
    return {"bootstrap_timeout_ms": ms, "request_timeout_ms": max(ms, 5000)}


@contextlib.contextmanager
def admin_client(bootstrap: str, *, timeout_s: float = 5) -> Iterator[KafkaAdminClient]:
    """An admin client, closed on exit; connection failures become BrokerUnavailable."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, client_id=CLIENT_ID, **short_timeouts(timeout_s)
        )
    except _UNAVAILABLE as exc:
        raise BrokerUnavailable(f"no Kafka broker answered at {bootstrap}: {exc}") from None
    try:
        yield admin
    except _UNAVAILABLE as exc:
        raise BrokerUnavailable(
            f"the Kafka broker at {bootstrap} stopped answering: {exc}"
        ) from exc
    finally:
        admin.close()
