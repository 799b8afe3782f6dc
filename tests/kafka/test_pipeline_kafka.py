"""The pipeline on a real Kafka broker: nothing lost, nothing duplicated,
through malformed records, and a `kill -9` mid-stream with fusion broken
between the reader and the sinks (the chaos tests are in test_chaos.py).

Every run is `voc run --source kafka` in its own process (the Prism runner,
the raw store, the DuckDB file), exactly as a user starts it; the expected
values come from the simulator's files, read independently of the pipeline."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.kafka.conftest import _free_port
from voc.contracts.streams import INPUT_STREAMS
from voc.kafka import broker
from voc.kafka.produce import produce_path
from voc.kafka.topics import ALERTS, DEAD_LETTERS, INPUT_TOPICS, ensure_topics, stream_of_topic
from voc.simulate import simulate
from voc.warehouse.store import RawStore, kafka_source, store_path

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
TABLES = ["calls", "ticket_events", "app_events", "social_posts", "contacts", "dead_letters"]


@pytest.fixture(scope="module")
def kafka(tmp_path_factory):
    """A broker of this module's own: the tests stop and restart it."""
    home = tmp_path_factory.mktemp("pipeline-kafka")
    (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
    ports = {"port": _free_port(), "controller_port": _free_port()}
    info = broker.start(home, timeout_s=120, **ports)
    ensure_topics(info.bootstrap)
    yield info.bootstrap, home, ports
    broker.stop(home)


@pytest.fixture(scope="module")
def streams(tmp_path_factory, kafka):
    """Two simulated days, malformed lines included, published to the topics."""
    out = tmp_path_factory.mktemp("streams")
    simulate(out, days=2, seed=11, scale=0.3)
    for stream in INPUT_STREAMS:
        report = produce_path(kafka[0], out / f"{stream}.jsonl")
        assert report.failed == 0
    return out


def expected(streams: Path) -> dict:
    """What a perfect run must hold, read from the files themselves."""
    valid: dict[str, set[str]] = {}
    bad = 0
    for stream in INPUT_STREAMS:
        ids = set()
        for line in (streams / f"{stream}.jsonl").read_bytes().splitlines():
            try:
                rec = json.loads(line)
                eid = rec["event_id"]
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            if eid.startswith("bad-"):
                bad += 1
            else:
                ids.add(eid)
        valid[str(stream)] = ids
    truth = [json.loads(x) for x in (streams / "ground_truth" / "contacts.jsonl").open()]
    malformed = sum(1 for _ in (streams / "ground_truth" / "malformed.jsonl").open())
    assert bad == malformed
    return {"valid": valid, "contacts": {t["contact_id"] for t in truth}, "malformed": malformed}


REPO = Path(__file__).resolve().parents[2]


TEST_PII_KEY = "00112233445566778899aabbccddeeff"


def voc_run(
    bootstrap: str,
    warehouse: Path,
    group: str,
    *extra: str,
    background=False,
    reshuffle=False,
    timeout_s: float = 600,
):
    # With `reshuffle`, the same command with a Reshuffle before the sinks.
    entry = ["tests.kafka.run_job", "--reshuffle"] if reshuffle else ["voc.cli", "run"]
    cmd = [
        sys.executable,
        "-m",
        *entry,
        "--source",
        "kafka",
        "--bootstrap",
        bootstrap,
        "--group",
        group,
        "--warehouse",
        str(warehouse),
        "--json",
        *extra,
    ]
    if reshuffle:
        cmd.remove("--source")
        cmd.remove("kafka")
    # One PII hash key for every run, as in one deployment: warehouses of
    # different runs are compared row for row, pii_keys included.
    env = {**os.environ, "VOC_PII_KEY": TEST_PII_KEY}
    if background:
        return subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            cwd=REPO,
            env=env,
        )
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table_ids(warehouse: Path) -> dict[str, list[str]]:
    keys = {"contacts": "contact_id", "dead_letters": "dead_letter_id"}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            t: [
                r[0]
                for r in con.execute(f"SELECT {keys.get(t, 'event_id')} FROM raw.{t}").fetchall()
            ]
            for t in TABLES
        }


def committed(bootstrap: str, group: str) -> int:
    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        bootstrap_timeout_ms=5000,
    )
    try:
        return sum(
            c.committed(TopicPartition(t, p)) or 0
            for t in INPUT_TOPICS
            for p in c.partitions_for_topic(t) or ()
        )
    finally:
        c.close()


def total_records(bootstrap: str) -> int:
    c = KafkaConsumer(bootstrap_servers=bootstrap, bootstrap_timeout_ms=5000)
    try:
        tps = [TopicPartition(t, p) for t in INPUT_TOPICS for p in c.partitions_for_topic(t)]
        return sum(c.end_offsets(tps).values())
    finally:
        c.close()


def end_offsets_by_partition(bootstrap: str) -> dict[tuple[str, int], int]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, bootstrap_timeout_ms=5000)
    try:
        tps = [TopicPartition(t, p) for t in INPUT_TOPICS for p in c.partitions_for_topic(t)]
        return {(tp.topic, tp.partition): o for tp, o in c.end_offsets(tps).items()}
    finally:
        c.close()


def durable_offsets(warehouse: Path, ends: dict) -> dict[tuple[str, int], int]:
    """How far each partition is durable in the run's raw store (from offset 0)."""
    store = RawStore(store_path(warehouse))
    return {
        (t, p): store.durable_next(str(stream_of_topic(t)), kafka_source(t, p), 0) for t, p in ends
    }


def wait_until_stored(warehouse: Path, ends: dict, proc, fraction: float, timeout_s=180) -> dict:
    """Block until the store holds at least `fraction` of the input, and not
    all of it; return the durable offsets then."""
    total = sum(ends.values())
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        durable = durable_offsets(warehouse, ends)
        assert sum(durable.values()) < total, "the run finished before it could be killed"
        if sum(durable.values()) >= max(1, fraction * total):
            return durable
        time.sleep(0.02)
    raise AssertionError("the pipeline stored nothing in time")


def produce_all(bootstrap: str, streams: Path) -> dict[tuple[str, int], int]:
    """Produce the streams; the end offsets then."""
    for stream in INPUT_STREAMS:
        assert produce_path(bootstrap, streams / f"{stream}.jsonl").failed == 0
    return end_offsets_by_partition(bootstrap)


def alert_ids(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT alert_id FROM raw.alerts").fetchall()}


def assert_as_uninterrupted(warehouse: Path, clean: Path, streams: Path) -> None:
    """The warehouse holds exactly what the uninterrupted run's holds."""
    assert_exactly_once(warehouse, expected(streams))
    # (dead-letter ids name the topic offset, which differs on another broker:
    # assert_exactly_once has counted them)
    assert {t: sorted(ids) for t, ids in table_ids(warehouse).items() if t != "dead_letters"} == {
        t: sorted(ids) for t, ids in table_ids(clean).items() if t != "dead_letters"
    }


def assert_exactly_once(warehouse: Path, exp: dict) -> None:
    ids = table_ids(warehouse)
    for stream, valid in exp["valid"].items():
        assert set(ids[stream]) == valid, stream
    assert sorted(ids["contacts"]) == sorted(exp["contacts"])
    assert len(ids["dead_letters"]) == exp["malformed"]


@pytest.fixture(scope="module")
def clean_run(kafka, streams, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("wh") / "clean.duckdb"
    return warehouse, voc_run(kafka[0], warehouse, "g-clean", "--bounded")


def test_every_valid_contact_once_and_every_malformed_record_a_dead_letter(
    kafka, streams, clean_run
):
    warehouse, summary = clean_run
    exp = expected(streams)
    # THEN each valid record is in its table once, each contact once
    assert_exactly_once(warehouse, exp)
    # AND each malformed record is a dead letter with its reason, in the
    # warehouse and on the dead-letter topic
    with duckdb.connect(str(warehouse), read_only=True) as con:
        reasons = [r[0] for r in con.execute("SELECT reason FROM raw.dead_letters").fetchall()]
    assert all(reasons) and len(reasons) == exp["malformed"]
    c = KafkaConsumer(
        DEAD_LETTERS,
        bootstrap_servers=kafka[0],
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
        bootstrap_timeout_ms=5000,
    )
    published = {m.key for m in c}
    c.close()
    assert len(published) == exp["malformed"]
    # AND the summary says the same, and every offset is committed
    assert summary["contacts"] == len(exp["contacts"])
    assert summary["dead_letters"] == exp["malformed"]
    assert committed(kafka[0], "g-clean") == total_records(kafka[0])


def test_kill_9_with_fusion_broken_before_the_sinks_loses_and_duplicates_nothing(
    own_kafka, streams, clean_run, tmp_path
):
    bootstrap = own_kafka
    ends = produce_all(bootstrap, streams)
    warehouse = tmp_path / "killed.duckdb"
    # GIVEN a run with a Reshuffle between the reader and the raw-store sinks
    # (the runner may finalise a read before its records are stored), killed
    # with SIGKILL, runner and all, at a random moment once part of the input
    # is stored
    proc = voc_run(
        bootstrap,
        warehouse,
        "g-kill",
        "--until-idle",
        "60",
        "--no-publish",
        background=True,
        reshuffle=True,
    )
    # (a random point of a small stream: kill as soon as it is reached)
    wait_until_stored(warehouse, ends, proc, random.Random(7).uniform(0.1, 0.6))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # THEN at the kill, the store held part of the input only
    durable = durable_offsets(warehouse, ends)
    assert 0 < sum(durable.values()) < sum(ends.values()), durable
    # WHEN the pipeline is started again (fusion still broken) and drains
    voc_run(bootstrap, warehouse, "g-kill", "--bounded", "--no-publish", reshuffle=True)
    # THEN the warehouse holds exactly what an uninterrupted run holds
    assert_as_uninterrupted(warehouse, clean_run[0], streams)
    # AND the group's offsets end where the store is durable: everything
    assert committed(bootstrap, "g-kill") == total_records(bootstrap)
    alerts, clean_alerts = alert_ids(warehouse), alert_ids(clean_run[0])
    assert clean_alerts, "the simulation has incidents: an empty alert set proves nothing"
    # AND the alerts are an uninterrupted run's, id for id: the detector
    # resumed from its saved state and judged what the clean run judged
    assert alerts == clean_alerts, (
        f"{len(alerts - clean_alerts)} extra, {len(clean_alerts - alerts)} missing"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_mid_stream_drains_exits_0_and_a_restart_loses_and_duplicates_nothing(
    own_kafka, streams, clean_run, tmp_path
):
    bootstrap = own_kafka
    ends = produce_all(bootstrap, streams)
    warehouse = tmp_path / "interrupted.duckdb"
    # GIVEN `voc run --source kafka` left to run until it is told to stop
    # (no --bounded, no --until-idle), publishing on
    proc = voc_run(bootstrap, warehouse, "g-sigint", background=True)
    # WHEN Ctrl-C is pressed mid-stream: a terminal sends SIGINT to the whole
    # foreground process group, the job and the Prism runner it started
    wait_until_stored(warehouse, ends, proc, random.Random(11).uniform(0.05, 0.2))
    calls = [tp for tp in ends if stream_of_topic(tp[0]) == "calls"]
    while not any(durable_offsets(warehouse, ends)[tp] for tp in calls):
        wait_until_stored(warehouse, ends, proc, 0)  # (calls stored too: contacts to drain)
        time.sleep(0.05)
    group = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    # THEN the job drains and exits 0 with its summary
    assert proc.returncode == 0, err.decode()[-3000:]
    assert "draining" in err.decode()
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["reconciled_contacts"] == 0, "the drain left contacts unstitched"
    # AND it stopped mid-stream, its group's offsets where its store is durable
    durable = durable_offsets(warehouse, ends)
    assert 0 < sum(durable.values()) < sum(ends.values()), durable
    assert committed(bootstrap, "g-sigint") == sum(durable.values())
    # AND nothing it started outlives it (the runner, its workers)
    time.sleep(1)
    assert not [p.pid for p in group if _alive(p.pid) and p.status() != psutil.STATUS_ZOMBIE]
    # AND every contact it stored was stitched and tagged before it exited
    # (a restart has nothing to recover)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first_contacts = con.execute("SELECT count(*) FROM raw.contacts").fetchall()[0][0]
    assert first_contacts > 0
    # WHEN it is started again and reads to the end
    again = voc_run(bootstrap, warehouse, "g-sigint", "--bounded")
    assert again["recovered_records"] == 0
    # THEN the warehouse holds exactly what an uninterrupted run holds
    assert_as_uninterrupted(warehouse, clean_run[0], streams)
    assert committed(bootstrap, "g-sigint") == total_records(bootstrap)
    # AND the same alerts, each on the topic (once after deduplication by key)
    alerts = alert_ids(warehouse)
    assert alerts and alerts == alert_ids(clean_run[0])
    c = KafkaConsumer(
        ALERTS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
        bootstrap_timeout_ms=5000,
    )
    keys = [m.key.decode() for m in c]
    c.close()
    assert set(keys) == alerts


# What a contact's judgement rests on: the journey it was stitched to and the
# tag it got. (Not is_late: it tells how the contact met that run's progress,
# which kills and load change; the detector does not read it.)
CONTACT_CONTENT = (
    "journey_stage",
    "recent_events",
    "scenario_id",
    "method",
    "confidence",
    "text",
)
ALERT_CONTENT = ("kind", "key", "window_start", "window_end", "count", "baseline_mean", "threshold")


def content_differences(warehouse: Path, clean: Path, limit: int = 20) -> list[str]:
    """Where two warehouses' contacts and alerts differ in content, not only in
    ids: each contact whose stitched journey or tag differs (both sides), and
    each alert of one side only, beside the other side's alerts of the same
    (kind, key). Empty when they are equal."""
    out: list[str] = []
    cols = ", ".join(CONTACT_CONTENT)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{warehouse}' AS got (READ_ONLY)")
        con.execute(f"ATTACH '{clean}' AS want (READ_ONLY)")
        pairs = con.execute(
            f"SELECT coalesce(g.contact_id, w.contact_id), "
            f"strftime(coalesce(g.event_time, w.event_time), '%Y-%m-%d %H:%M:%S'), "
            f"g.contact_id IS NOT NULL, w.contact_id IS NOT NULL, "
            f"struct_pack({', '.join(f'g.{c}' for c in CONTACT_CONTENT)})::VARCHAR, "
            f"struct_pack({', '.join(f'w.{c}' for c in CONTACT_CONTENT)})::VARCHAR "
            f"FROM (SELECT contact_id, event_time, {cols} FROM got.raw.contacts) g "
            f"FULL OUTER JOIN (SELECT contact_id, event_time, {cols} FROM want.raw.contacts) w "
            "USING (contact_id) "
            f"WHERE g.contact_id IS NULL OR w.contact_id IS NULL OR "
            f"({', '.join(f'g.{c}' for c in CONTACT_CONTENT)}) IS DISTINCT FROM "
            f"({', '.join(f'w.{c}' for c in CONTACT_CONTENT)}) "
            "ORDER BY 2, 1"
        ).fetchall()
        for cid, at, in_got, in_want, g, w in pairs[:limit]:
            out.append(
                f"contact {cid} at {at}: run {g if in_got else 'missing'}"
                f" | uninterrupted {w if in_want else 'missing'}"
            )
        if len(pairs) > limit:
            out.append(f"... {len(pairs) - limit} more contacts differ")
        acols = ", ".join(ALERT_CONTENT)
        alerts = con.execute(
            f"SELECT 'run' AS side, alert_id, {acols} FROM got.raw.alerts "
            f"WHERE alert_id NOT IN (SELECT alert_id FROM want.raw.alerts) "
            f"UNION ALL SELECT 'uninterrupted', alert_id, {acols} FROM want.raw.alerts "
            f"WHERE alert_id NOT IN (SELECT alert_id FROM got.raw.alerts) ORDER BY 3, 4, 5"
        ).fetchall()
        for side, alert_id, kind, key, *rest in alerts[:limit]:
            out.append(f"alert of the {side} only {alert_id}: {kind} {key} {rest}")
            for other, *orest in con.execute(
                "SELECT 'run', window_start, window_end, count FROM got.raw.alerts "
                "WHERE kind = ? AND key = ? UNION ALL "
                "SELECT 'uninterrupted', window_start, window_end, count FROM want.raw.alerts "
                "WHERE kind = ? AND key = ? ORDER BY 2, 1",
                [kind, key, kind, key],
            ).fetchall():
                out.append(f"    same key in the {other}: {orest}")
    return out
