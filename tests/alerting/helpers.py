"""A real local HTTP receiver for delivery tests, and a small warehouse with
known alert episodes.

The receiver is Python's ThreadingHTTPServer on 127.0.0.1 (a real socket, a
real HTTP exchange); it records every request, and what it accepted by
Idempotency-Key, as a receiver honouring the key would."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from voc.catalog import load_catalog
from voc.warehouse.duck import open_warehouse


class Receiver:
    """mode: ok | error500 | timeout (sleeps `hang_s` before answering 200)."""

    def __init__(self, mode: str = "ok", delay_s: float = 0.0, hang_s: float = 2.0) -> None:
        self.mode = mode
        self.delay_s = delay_s
        self.hang_s = hang_s
        self.requests: list[dict[str, Any]] = []
        self.accepted: dict[str, dict[str, Any]] = {}  # first body per idempotency key
        self.duplicates = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key")
                with receiver._lock:
                    receiver.requests.append(
                        {"path": self.path, "key": key, "body": json.loads(body), "t": time.time()}
                    )
                if receiver.mode == "error500":
                    self._answer(500, b'{"error": "boom"}')
                    return
                if receiver.mode == "timeout":
                    time.sleep(receiver.hang_s)
                    self._answer(200, b"{}")
                    return
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                with receiver._lock:
                    if key in receiver.accepted:
                        receiver.duplicates += 1
                    else:
                        receiver.accepted[key] = json.loads(body)
                self._answer(200, b'{"code": 0, "errcode": 0}')

            def _answer(self, code: int, payload: bytes) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout) or was killed

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


START = datetime(2026, 11, 16)  # a Monday, ISO week 2026-W47


def make_warehouse(path: Path, n_keys: int = 6, ramp: tuple[int, ...] = (10, 16, 30)) -> list[str]:
    """Contacts for `n_keys` scenarios: 1 an hour for 48 hours, and a spike
    following `ramp` contacts an hour from hour 30; one detector alert per
    spike (as `raw.alerts` holds it). Returns the scenario ids."""
    catalog = load_catalog()
    scenarios = [s for s in catalog.scenarios if s.domain != "common"][: n_keys * 7 : 7]
    contacts, alerts = [], []
    n = 0
    for s in scenarios:
        for h in range(48):
            per_hour = 1
            if 30 <= h < 30 + len(ramp):
                per_hour = ramp[h - 30]
            for i in range(per_hour):
                n += 1
                t = START + timedelta(hours=h, minutes=(i * 7) % 60)
                contacts.append(
                    [
                        f"c-{n:06d}",
                        "call",
                        t,
                        s.domain,
                        f"cust-{n % 97}",
                        f"ord-{n % 31}",
                        f"{s.name_zh} 出问题了，电话 13812345678 / {s.name_en} broke",
                        "zh",
                        s.stage,
                        [],
                        False,
                        s.id,
                        0.9,
                        "keyword",
                        "{}",
                    ]
                )
        w = START + timedelta(hours=30)
        alerts.append(
            [
                f"alert-{s.id}",
                "contact_spike",
                f"{s.domain}|{s.stage}|{s.id}",
                s.domain,
                s.stage,
                s.id,
                s.id,
                "high",
                '{"window_s": 3600}',
                w,
                w + timedelta(hours=1),
                ramp[0],
                1.0,
                6.0,
                s.owner,
            ]
        )
    with open_warehouse(path) as con:
        con.executemany(
            "INSERT INTO raw.contacts (contact_id, channel, event_time, domain, customer_id,"
            " order_id, text, language, journey_stage, recent_events, is_late, scenario_id,"
            " confidence, method, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            contacts,
        )
        con.executemany(
            "INSERT INTO raw.alerts (alert_id, kind, key, domain, journey_stage, scenario_id,"
            " subject, severity, evidence, window_start, window_end, count, baseline_mean,"
            " threshold, suggested_owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            alerts,
        )
    return [s.id for s in scenarios]


def write_routing(path: Path, url: str, **defaults: Any) -> Path:
    lines = [
        "channels:",
        f'  ops-hook: {{type: webhook, url: "{url}"}}',
        "routes:",
        "  - match: {}",
        "    channels: [ops-hook]",
    ]
    if defaults:
        lines = ["defaults:", *(f"  {k}: {v}" for k, v in defaults.items()), *lines]
    path.write_text("\n".join(lines) + "\n")
    return path
