"""Close the loop on a simulated run (used by `voc demo`): alert episodes are
delivered to a local HTTP receiver through the outbox, an issue is opened
from every episode with a root-cause scenario, the simulator's fixes are
released at their planted times, and the verifier checks them day by day.

The receiver is a real HTTP server on 127.0.0.1 (Python's ThreadingHTTPServer)
that accepts each Idempotency-Key once; it stands in for the team's chat bot
or webhook, which the demo cannot reach.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from voc.paths import DEFAULT_CATALOG


class LocalReceiver:
    """A local webhook that records what it accepted, once per Idempotency-Key."""

    def __init__(self) -> None:
        self.accepted: dict[str, dict[str, Any]] = {}
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests += 1
                receiver.accepted.setdefault(
                    self.headers.get("Idempotency-Key", ""), json.loads(body)
                )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> LocalReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def deliver_to_local_receiver(warehouse: Path, work_dir: Path) -> dict[str, int]:
    """Sync episodes, route every transition to a local webhook, send."""
    from voc.alerting.episodes import sync_episodes
    from voc.alerting.outbox import deliver, enqueue
    from voc.alerting.routing import load_routing
    from voc.catalog import load_catalog
    from voc.warehouse.duck import open_warehouse

    catalog = load_catalog(DEFAULT_CATALOG)
    with LocalReceiver() as rx:
        routing_file = work_dir / "routing.yaml"
        routing_file.write_text(
            "# Written by voc demo: every transition to a local webhook.\n"
            "channels:\n"
            f'  ops-hook: {{type: webhook, url: "{rx.url}"}}\n'
            "routes:\n"
            "  - match: {}\n"
            "    channels: [ops-hook]\n",
            encoding="utf-8",
        )
        routing = load_routing(routing_file, set(catalog.departments))
        with open_warehouse(warehouse) as con:
            sync_episodes(con, catalog)
            enqueue(con, routing)
        deliver(warehouse, routing)
    with open_warehouse(warehouse) as con:
        counts = dict(
            con.execute("SELECT status, count(*) FROM raw.alert_outbox GROUP BY 1").fetchall()
        )
    return {"sent": counts.get("sent", 0), "failed": counts.get("dead", 0)}


def _naive(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def open_and_verify_issues(warehouse: Path, fixes_file: Path | None) -> dict[str, int]:
    """One issue per episode with a catalog scenario (opened when the episode
    opened, acknowledged an hour later); each planted fix released at its time
    on its scenario's issue; then the daily verification replay."""
    from voc.catalog import load_catalog
    from voc.issues.store import episode_root_causes, open_issue, state, update_issue
    from voc.issues.verify import replay_checks
    from voc.warehouse.duck import open_warehouse

    catalog = load_catalog(DEFAULT_CATALOG)
    fixes = []
    if fixes_file is not None and fixes_file.exists():
        fixes = [json.loads(x) for x in fixes_file.read_text().splitlines() if x]
    with open_warehouse(warehouse) as con:
        episodes = episode_root_causes(con)
        by_scenario: dict[str, str] = {}
        for episode_id, scenario_id, opened_at in episodes:
            if scenario_id is None or scenario_id not in catalog or scenario_id in by_scenario:
                continue
            issue_id, created = open_issue(
                con,
                catalog,
                scenario_id=scenario_id,
                source_kind="alert_episode",
                source_ref=episode_id,
                opened_at=opened_at,
                actor="demo",
            )
            by_scenario[scenario_id] = issue_id
            if created:
                update_issue(con, issue_id, "acknowledged", opened_at + timedelta(hours=1), "demo")
        for fix in fixes:
            issue_id = by_scenario.get(fix["scenario_id"])
            if issue_id is None or state(con, issue_id).status != "acknowledged":
                continue
            release = _naive(fix["release_at"])
            update_issue(
                con,
                issue_id,
                "fix_released",
                release,
                "demo",
                release_at=release,
                note=f"simulated {fix['fix_id']}",
            )
        replay_checks(con)
        verified = con.execute(
            "SELECT count(DISTINCT issue_id) FROM raw.issue_events WHERE status = 'verified'"
        ).fetchall()[0][0]
        opened = con.execute("SELECT count(*) FROM raw.issues").fetchall()[0][0]
    return {"opened": opened, "verified": verified}
