"""The dashboard while `voc run --source kafka` writes the warehouse, on the
project's real broker: the run's store loader holds the DuckDB file for the
whole run, so no other process can open it; it publishes the dashboard's
snapshot (marts, once) and live files (raw-table figures, every round). The
Now page, left open in headless Chromium, shows the stored events growing as
records are produced, with no console error; the delay from a record being
produced to the page showing it (the staleness) is measured and printed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.dashboards.conftest import Tab, copy_warehouse, start_dashboard, stop_dashboard
from tests.kafka.conftest import own_kafka  # noqa: F401 - a fresh broker: the newest event is ours
from voc.contracts.streams import INPUT_STREAMS
from voc.kafka.produce import produce_path
from voc.paths import REPO_DIR
from voc.simulate import DEFAULT_START, simulate

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

REFRESH_S = 1.0
CHUNKS = 4
CHUNK_EVERY_S = 3.0  # at least, between slices
# Produced -> read by the job -> stored -> loaded by the loader (every 5 s) ->
# live file -> dashboard refresh -> page tick: 4-13 s measured with the 2 cores
# at load ~20 (DECISIONLOG, Dashboard: staleness).
STALENESS_LIMIT_S = 30


def _event_time(line: bytes) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(line)["event_time"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None  # a malformed record: it goes with the first chunk (a dead letter)


def split_by_event_time(streams: Path, out: Path, start: datetime, chunks: int) -> list[dict]:
    """Cut each stream's day into `chunks` slices of event time, one folder per
    slice; return per slice its folder and its newest event time."""
    span = timedelta(days=1) / chunks
    slices = [{"dir": out / f"chunk-{i}", "newest": None} for i in range(chunks)]
    for s in slices:
        s["dir"].mkdir(parents=True)
    for stream in INPUT_STREAMS:
        parts: list[list[bytes]] = [[] for _ in range(chunks)]
        for line in (streams / f"{stream}.jsonl").read_bytes().splitlines():
            at = _event_time(line)
            i = 0 if at is None else min(max(int((at - start) / span), 0), chunks - 1)
            parts[i].append(line)
            if at is not None and (slices[i]["newest"] is None or at > slices[i]["newest"]):
                slices[i]["newest"] = at
        for i, lines in enumerate(parts):
            (slices[i]["dir"] / f"{stream}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return slices


def test_now_page_grows_while_a_kafka_run_holds_the_warehouse(
    own_kafka,  # noqa: F811
    demo_warehouse,
    browser,
    tmp_path,
):
    bootstrap = own_kafka
    # GIVEN a warehouse with marts (the demo's 4 days) and the next day's
    # streams, not yet produced, cut into 4 slices of event time
    warehouse = copy_warehouse(demo_warehouse, tmp_path / "wh")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (last,) = con.execute("SELECT max(event_time) FROM raw.calls").fetchall()[0]
    day = datetime.combine(last.date() + timedelta(days=1), datetime.min.time())
    start = day.replace(tzinfo=DEFAULT_START.tzinfo)
    simulate(tmp_path / "streams", days=1, seed=29, scale=0.3, start=start)
    slices = split_by_event_time(tmp_path / "streams", tmp_path / "chunks", start, CHUNKS)
    # AND the dashboard serving it, its Now page open
    server = start_dashboard(warehouse, tmp_path / "server.log", refresh_s=REFRESH_S)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = Tab(context.new_page(), server.base)
    tab.page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.page.on("pageerror", lambda e: tab.errors.append(str(e)))
    run = None
    try:
        tab.open("/now?lang=en")
        stored_before = int(tab.data_value("kpi-events-stored"))
        # WHEN `voc run --source kafka` runs on it (holding the file) until it
        # is told to stop ...
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voc.cli",
                "run",
                "--source",
                "kafka",
                "--bootstrap",
                bootstrap,
                "--group",
                "g-dashboard-live",
                "--warehouse",
                str(warehouse),
                "--no-publish",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_DIR,
        )
        # ... and the slices are produced one after another
        produced: list[float] = []
        shown: dict[int, float] = {}  # slice -> when the page first showed its newest event
        published: dict[int, float] = {}  # slice -> when the file the page showed was published
        values: list[tuple[int, str]] = []  # (events stored, newest event) as the page moved
        deadline = time.monotonic() + 300
        next_at = time.monotonic() + 5  # give the job a moment to start reading
        while len(shown) < CHUNKS and time.monotonic() < deadline:
            # (the next slice once the page showed the last: each is a step of its own)
            ready = len(produced) == len(shown) and time.monotonic() >= next_at
            if len(produced) < CHUNKS and ready:
                for stream in INPUT_STREAMS:
                    path = slices[len(produced)]["dir"] / f"{stream}.jsonl"
                    assert produce_path(bootstrap, path).failed == 0
                produced.append(time.time())
                next_at = time.monotonic() + CHUNK_EVERY_S
            assert run.poll() is None, run.stderr.read()[-3000:]
            state = (int(tab.data_value("kpi-events-stored")), tab.data_value("kpi-newest-event"))
            if not values or state != values[-1]:
                values.append(state)
            newest = datetime.fromisoformat(state[1])
            for i in range(len(produced)):
                # (a slice's very newest record might be one the edge rejects)
                due = slices[i]["newest"].replace(tzinfo=None) - timedelta(minutes=2)
                if i not in shown and newest >= due:
                    shown[i] = time.time()
                    at = tab.page.get_attribute("#staleness", "data-published-at")
                    published[i] = datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()
            time.sleep(0.2)
        # THEN the page showed every slice, its figures growing, with no console error
        assert len(shown) == CHUNKS, (values, produced)
        counts = [v[0] for v in values]
        assert counts == sorted(counts) and len(set(counts)) >= 3, values
        assert counts[-1] > stored_before
        delays = [round(shown[i] - produced[i], 2) for i in range(CHUNKS)]
        print(f"staleness (produced -> shown on the open Now page): {delays} s")
        # of which: produced -> stored, loaded and published by the run; published ->
        # on the page (the dashboard's refresh and the page's own tick)
        in_run = [round(published[i] - produced[i], 2) for i in range(CHUNKS)]
        in_dashboard = [round(shown[i] - published[i], 2) for i in range(CHUNKS)]
        print(f"  produced -> published by the run's loader: {in_run} s")
        print(f"  published -> shown on the page: {in_dashboard} s")
        # (the first slice waits for the job to start: Prism, recovery, first read)
        assert max(delays[1:]) <= STALENESS_LIMIT_S, delays
        # AND it said whose files it shows: the run's, which holds the warehouse
        assert tab.page.get_attribute("#staleness", "data-publisher").startswith("writer pid")
        assert tab.page.is_visible("#writer-active")
        tab.screenshot("now-during-kafka-run")
        assert tab.errors == []
    finally:
        context.close()
        stop_dashboard(server)
        if run is not None:
            # (SIGTERM: the run drains, as on Ctrl-C; waiting for it to see
            # 20 s without input cost 20 s of every suite run)
            run.send_signal(signal.SIGTERM)
            out, err = run.communicate(timeout=300)
    # AND the run drained and finished cleanly, its loader having published live files
    assert run.returncode == 0, err[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    print(f"run: dashboard snapshots {summary['dashboard_snapshots']}")
    assert summary["dashboard_snapshots"]["published"] >= 2
