"""The email channel against a real local SMTP server, and the issue CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from email import message_from_bytes

import duckdb
from aiosmtpd.controller import Controller

from tests.alerting.helpers import make_warehouse
from tests.ports import free_port
from voc.alerting.episodes import sync_episodes
from voc.alerting.outbox import deliver, enqueue
from voc.alerting.routing import parse_routing
from voc.catalog import load_catalog
from voc.warehouse.duck import open_warehouse


class _Sink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 (aiosmtpd API)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def test_email_channel_sends_each_transition_once_with_its_key(tmp_path):
    # GIVEN one episode (4 transitions), routed to email through a local SMTP server
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, n_keys=1)
    sink = _Sink()
    port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
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
        smtp.stop()
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
