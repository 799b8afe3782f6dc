"""The email channel against a real local SMTP server, and the issue CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import warnings
from email import message_from_bytes

import duckdb

from tests.alerting.helpers import make_warehouse
from voc.alerting.episodes import sync_episodes
from voc.alerting.outbox import deliver, enqueue
from voc.alerting.routing import parse_routing
from voc.catalog import load_catalog
from voc.warehouse.duck import open_warehouse

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd


class _Sink(smtpd.SMTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), None, decode_data=False)
        self.messages: list[tuple[str, list[str], bytes]] = []

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):  # noqa: ANN001
        self.messages.append((mailfrom, rcpttos, data))


def test_email_channel_sends_each_transition_once_with_its_key(tmp_path):
    # GIVEN one episode (4 transitions), routed to email through a local SMTP server
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, n_keys=1)
    sink = _Sink()
    port = sink.socket.getsockname()[1]
    loop = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.05}, daemon=True)
    loop.start()
    try:
        routing = parse_routing(
            {
                "channels": {
                    "mail": {
                        "type": "email",
                        "smtp_host": "127.0.0.1",
                        "smtp_port": port,
                        "from": "voc@example.com",
                        "to": ["oncall@example.com"],
                    }
                },
                "routes": [{"match": {}, "channels": ["mail"]}],
            }
        )
        with open_warehouse(warehouse) as con:
            sync_episodes(con, load_catalog())
            enqueue(con, routing)
        # WHEN delivered twice
        first = deliver(warehouse, routing)
        second = deliver(warehouse, routing)
    finally:
        sink.close()
    # THEN 4 mails arrived once each, keyed, with the evidence in the body
    assert (first.sent, first.failed, second.sent) == (4, 0, 0)
    assert len(sink.messages) == 4
    keys = set()
    for mailfrom, rcpts, data in sink.messages:
        msg = message_from_bytes(data)
        assert mailfrom == "voc@example.com" and rcpts == ["oncall@example.com"]
        assert msg["Message-ID"] == f"<{msg['Idempotency-Key']}@voc-loop>"
        keys.add(msg["Idempotency-Key"])
        assert "Owner" in msg.get_payload(decode=True).decode()
    assert len(keys) == 4


def _voc(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "voc.cli", *args, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_issue_cli_open_update_list_show(tmp_path):
    # GIVEN a warehouse with one synced episode
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, n_keys=1)
    _voc("alerts", "sync", "--warehouse", str(warehouse))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        episode = con.execute("SELECT episode_id FROM raw.alert_episodes").fetchall()[0][0]
    w = ["--warehouse", str(warehouse)]
    # WHEN an issue is opened from it, acknowledged, released
    opened = _voc("issues", "open", *w, "--from-episode", episode, "--at", "2026-11-17T08:00:00Z")
    issue = opened["issue_id"]
    _voc("issues", "update", issue, *w, "--status", "acknowledged", "--by", "ops")
    released = _voc(
        "issues",
        "update",
        issue,
        *w,
        "--status",
        "fix_released",
        "--release-at",
        "2026-11-17T12:00:00Z",
        "--external-ref",
        "REQ-7",
    )
    # THEN list and show tell the same story
    assert opened["created"] and released["status"] == "fix_released"
    (row,) = _voc("issues", "list", *w)["issues"]
    assert row["issue_id"] == issue and row["external_ref"] == "REQ-7"
    shown = _voc("issues", "show", issue, *w)
    assert [h["status"] for h in shown["history"]] == ["open", "acknowledged", "fix_released"]
    # AND a refused move is a clear error, not a traceback
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "voc.cli",
            "issues",
            "update",
            issue,
            *w,
            "--status",
            "acknowledged",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "is fix_released: it can go to" in bad.stderr
    assert "Traceback" not in bad.stderr
