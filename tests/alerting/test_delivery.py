"""Delivery through the outbox against a real local HTTP receiver: every
transition arrives once by idempotency key, across kill -9; failures are
retried and then dead-lettered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.alerting.helpers import Receiver, make_warehouse, write_routing

VOC = [sys.executable, "-m", "voc.cli"]


def _send(warehouse: Path, routing: Path) -> dict:
    out = subprocess.run(
        [
            *VOC,
            "alerts",
            "send",
            "--warehouse",
            str(warehouse),
            "--routing",
            str(routing),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _outbox(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute("SELECT status, count(*) FROM raw.alert_outbox GROUP BY 1").fetchall()
        )


def test_send_delivers_each_transition_once_and_a_second_run_sends_nothing(tmp_path):
    # GIVEN 4 episodes (opened, 2 updates, resolved each) and the minimal routing file
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, n_keys=4)
    with Receiver() as rx:
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            "channels:\n"
            f'  ops-hook: {{type: webhook, url: "{rx.url}"}}\n'
            "routes:\n"
            "  - match: {}          # every department and severity\n"
            "    channels: [ops-hook]\n"
        )
        # WHEN sent twice
        first = _send(warehouse, routing)
        second = _send(warehouse, routing)
    # THEN 16 transitions arrived, each once, with the key in header and body
    assert first == {"sent": 16, "failed": 0, "pending": 0}
    assert second == {"sent": 0, "failed": 0, "pending": 0}
    assert len(rx.requests) == 16 and rx.duplicates == 0
    for req in rx.requests:
        assert req["key"] == req["body"]["idempotency_key"]
    kinds = sorted(r["body"]["transition"] for r in rx.requests)
    assert kinds == ["opened"] * 4 + ["resolved"] * 4 + ["updated"] * 8
    opened = next(r["body"] for r in rx.requests if r["body"]["transition"] == "opened")
    assert opened["owner_department"] and opened["severity"] in (
        "low",
        "medium",
        "high",
        "critical",
    )
    assert opened["evidence"]["examples"] and opened["link"].endswith(opened["episode_id"])
    # personal data in the example texts is masked
    assert all("13812345678" not in e["text"] for e in opened["evidence"]["examples"])


@pytest.mark.slow
def test_kill_9_mid_delivery_then_restart_delivers_every_transition_once(tmp_path):
    # GIVEN 8 episodes = 32 transitions and a receiver that takes 0.15 s per request
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, n_keys=8)
    with Receiver(delay_s=0.15) as rx:
        routing = write_routing(tmp_path / "routing.yaml", rx.url)
        proc = subprocess.Popen(
            [*VOC, "alerts", "send", "--warehouse", str(warehouse), "--routing", str(routing)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while len(rx.accepted) < 6 and time.time() < deadline:
            time.sleep(0.02)
        # WHEN it is killed with SIGKILL while delivering
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        at_kill = len(rx.accepted)
        assert 6 <= at_kill < 32, f"not mid-way: {at_kill} of 32 accepted at the kill"
        state = _outbox(warehouse)
        assert state.get("pending", 0) > 0 and state.get("sent", 0) >= at_kill - 1
        # AND restarted
        rerun = _send(warehouse, routing)
        again = _send(warehouse, routing)
    # THEN every transition arrived, none was accepted twice; at most the one in
    # flight at the kill was re-sent (with the same key)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        keys = {
            r[0] for r in con.execute("SELECT idempotency_key FROM raw.alert_outbox").fetchall()
        }
    assert len(keys) == 32
    assert set(rx.accepted) == keys
    assert rx.duplicates <= 1
    assert len(rx.requests) <= 33
    assert rerun["failed"] == 0 and rerun["pending"] == 0
    assert rerun["sent"] == 32 - state.get("sent", 0)
    assert again == {"sent": 0, "failed": 0, "pending": 0}


def test_failing_receiver_is_retried_then_dead_lettered_and_listed(tmp_path):
    # GIVEN one episode (4 transitions) and receivers that answer 500 / hang
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, n_keys=1)
    with Receiver(mode="error500") as bad, Receiver(mode="timeout", hang_s=1.5) as slow:
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            "defaults: {max_attempts: 3, backoff_s: 0.05, backoff_max_s: 0.2, timeout_s: 0.3}\n"
            "channels:\n"
            f'  broken: {{type: webhook, url: "{bad.url}"}}\n'
            f'  hanging: {{type: slack, url: "{slow.url}"}}\n'
            "routes:\n"
            "  - match: {transition: opened}\n"
            "    channels: [broken, hanging]\n"
        )
        # WHEN sent
        result = _send(warehouse, routing)
    # THEN each was tried 3 times, then dead-lettered
    assert result == {"sent": 0, "failed": 2, "pending": 0}
    assert len(bad.requests) == 3 and len(slow.requests) == 3
    assert _outbox(warehouse) == {"dead": 2}
    listed = subprocess.run(
        [*VOC, "alerts", "list", "--warehouse", str(warehouse), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(listed.stdout.strip().splitlines()[-1])
    assert doc["episodes"][0]["deliveries_dead"] == 2
    errors = sorted(d["last_error"] for d in doc["dead_letters"])
    assert errors[0].startswith("HTTP 500") and "timed out" in errors[1]
    assert all(d["attempts"] == 3 for d in doc["dead_letters"])
    assert "dead letter" in listed.stderr
