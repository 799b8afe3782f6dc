"""Chaos on a real broker, publishing on: the broker killed -9 while the
streams are produced, the job killed -9 at five random moments mid-stream,
the broker killed -9 again while the job consumes. The end state must equal
an uninterrupted run's, id for id, in every raw table, the contacts and the
alerts, and the alert and dead-letter topics must hold exactly the stored ids.

Size: 7 simulated days at scale 4 (315,020 records; more offsets when the
broker kill makes the producer send a stream again) on 3 partitions per
topic. The time it takes: DECISIONLOG.md, "Kafka delivery and watermark"
("Chaos test")."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time

import duckdb
import pytest
from kafka import KafkaConsumer

from tests.kafka.conftest import _free_port
from tests.kafka.test_pipeline_kafka import (
    TABLES,
    content_differences,
    durable_offsets,
    end_offsets_by_partition,
    expected,
    table_ids,
    voc_run,
)
from voc.contracts.streams import INPUT_STREAMS
from voc.kafka import broker
from voc.kafka.produce import produce_path
from voc.kafka.topics import ALERTS, DEAD_LETTERS, ensure_topics
from voc.simulate import simulate

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
KILLS = 5
# The job kills fall in KILLS equal slots of this share of the offsets, one
# in the middle of each, and each at least MIN_GAP past what the previous
# kill left durable: every kill interrupts the job at a new durable point.
KILL_SPAN = (0.08, 0.8)
MIN_GAP = 0.03


def kill_broker(home) -> None:
    """SIGKILL, not a stop: no controlled shutdown, no flush."""
    pid = broker.status(home).pid
    assert pid is not None, "the broker is not running"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while broker.status(home).pid is not None and time.monotonic() < deadline:
        time.sleep(0.05)


def stored_rows(warehouse) -> int:
    if not warehouse.exists():
        return 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sum(
            con.execute(f"SELECT count(*) FROM raw.{s}").fetchall()[0][0] for s in INPUT_STREAMS
        )


def published_keys(bootstrap: str, topic: str) -> list[str]:
    c = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        bootstrap_timeout_ms=5000,
    )
    try:
        return [m.key.decode() for m in c]
    finally:
        c.close()


def wait_for_fraction(warehouse, ends, proc, fraction: float, timeout_s: float = 600) -> dict:
    """Block until the store is durable past `fraction` of all offsets (but
    not all of them); return the durable offsets."""
    total = sum(ends.values())
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        durable = durable_offsets(warehouse, ends)
        done = sum(durable.values())
        assert done < total, f"the input was all stored before the kill at {fraction:.2f}"
        if done >= fraction * total:
            return durable
        time.sleep(0.05)
    raise AssertionError(f"the store did not reach {fraction:.2f} of the input in time")


@pytest.fixture
def chaos_kafka(tmp_path):
    home = tmp_path / "chaos-kafka"
    home.mkdir()
    (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
    ports = {"port": _free_port(), "controller_port": _free_port()}
    info = broker.start(home, timeout_s=120, **ports)
    ensure_topics(info.bootstrap)
    yield info.bootstrap, home, ports
    broker.stop(home)


def test_kill_9_five_times_and_the_broker_twice_with_publishing_on_equals_a_clean_run(
    chaos_kafka, tmp_path, request
):
    bootstrap, home, ports = chaos_kafka
    # The kill moments are random in every run; the seed is printed, and
    # VOC_CHAOS_SEED=<seed> repeats them.
    seed = int(os.environ.get("VOC_CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"chaos seed: {seed} (VOC_CHAOS_SEED={seed} repeats these kill moments)", flush=True)
    rng = random.Random(seed)
    started = time.monotonic()
    seconds: dict[str, float] = {}
    streams = tmp_path / "streams"
    simulate(streams, days=7, seed=31, scale=4.0)
    lines = sum(
        1 for s in INPUT_STREAMS for line in (streams / f"{s}.jsonl").open("rb") if line.strip()
    )

    # GIVEN the streams produced while the broker is killed -9 about a third
    # of the way through, then restarted; a stream whose sends failed is
    # produced again whole (an at-least-once producer: same records, new offsets)
    reports: dict[str, object] = {}

    def produce_all():
        for s in INPUT_STREAMS:
            reports[str(s)] = produce_path(bootstrap, streams / f"{s}.jsonl")

    producer = threading.Thread(target=produce_all)
    producer.start()
    while sum(end_offsets_by_partition(bootstrap).values()) < lines // 3:
        assert producer.is_alive(), "producing ended before the broker could be killed"
        time.sleep(0.05)
    produced_at_kill = sum(end_offsets_by_partition(bootstrap).values())
    kill_broker(home)
    assert 0 < produced_at_kill < lines
    time.sleep(1)
    broker.start(home, timeout_s=120, **ports)
    producer.join(timeout=600)
    for s, report in reports.items():
        if report.failed:
            assert produce_path(bootstrap, streams / f"{s}.jsonl").failed == 0
    ends = end_offsets_by_partition(bootstrap)
    assert sum(ends.values()) >= lines
    seconds["simulate_and_produce"] = time.monotonic() - started

    # AND an uninterrupted run reading the same topics meanwhile (its own
    # group and warehouse), done before the broker is killed again: it uses
    # the core that the restarting job leaves idle
    clean = tmp_path / "clean.duckdb"
    clean_run = voc_run(bootstrap, clean, "g-clean", "--bounded", "--no-publish", background=True)
    request.addfinalizer(
        lambda: clean_run.poll() is None and os.killpg(clean_run.pid, signal.SIGKILL)
    )
    clean_output: list[tuple[bytes, bytes]] = []
    clean_reader = threading.Thread(
        target=lambda: clean_output.append(clean_run.communicate(timeout=1800))
    )
    clean_reader.start()

    # WHEN the job (publishing on) is killed -9 at five random moments mid-stream
    warehouse = tmp_path / "chaos.duckdb"
    lo, hi = KILL_SPAN
    slot = (hi - lo) / KILLS
    targets = [lo + (i + rng.uniform(0.2, 0.8)) * slot for i in range(KILLS)]
    at_kills: list[float] = []
    for target in targets:
        if at_kills:
            target = max(target, at_kills[-1] + MIN_GAP)
        proc = voc_run(bootstrap, warehouse, "g-chaos", "--until-idle", "60", background=True)
        durable = wait_for_fraction(warehouse, ends, proc, target)
        time.sleep(rng.uniform(0, 0.3))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # THEN at each kill the work was really mid-way: offsets mid-range,
        # the warehouse incomplete
        durable = durable_offsets(warehouse, ends)
        assert 0 < sum(durable.values()) < sum(ends.values()), durable
        assert any(o < ends[tp] for tp, o in durable.items())
        assert stored_rows(warehouse) < lines
        # AND past the previous kill's durable point: a new moment, not the
        # same one twice
        at_kill = sum(durable.values()) / sum(ends.values())
        assert at_kill >= target and (not at_kills or at_kill > at_kills[-1] + MIN_GAP / 2)
        at_kills.append(round(at_kill, 3))

    seconds["job_kills"] = time.monotonic() - started - sum(seconds.values())
    clean_reader.join(timeout=1800)
    assert clean_run.returncode == 0, clean_output[0][1].decode()[-3000:]
    seconds["uninterrupted_run_after_the_kills"] = (
        time.monotonic() - started - sum(seconds.values())
    )
    # AND the broker is killed -9 while the restarted job consumes
    proc = voc_run(bootstrap, warehouse, "g-chaos", "--until-idle", "15", background=True)
    wait_for_fraction(warehouse, ends, proc, rng.uniform(0.82, 0.9))
    kill_broker(home)
    durable = durable_offsets(warehouse, ends)
    assert sum(durable.values()) < sum(ends.values())
    time.sleep(2)
    broker.start(home, timeout_s=120, **ports)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err.decode()[-3000:]
    seconds["broker_kill_and_drain"] = time.monotonic() - started - sum(seconds.values())

    # THEN every raw table, the contacts and the alerts hold the same ids, and
    # every contact the same journey and tag, every alert the same content
    differences = content_differences(warehouse, clean)
    print("\n".join(differences or ["contacts and alerts equal in content"]), flush=True)
    print(json.dumps({"seed": seed, "produce": {s: r.to_dict() for s, r in reports.items()}}))
    got, want = table_ids(warehouse), table_ids(clean)
    for table in TABLES:
        assert len(got[table]) == len(want[table]) and set(got[table]) == set(want[table]), table
    with duckdb.connect(str(warehouse), read_only=True) as con:
        alerts = {r[0] for r in con.execute("SELECT alert_id FROM raw.alerts").fetchall()}
    with duckdb.connect(str(clean), read_only=True) as con:
        clean_alerts = {r[0] for r in con.execute("SELECT alert_id FROM raw.alerts").fetchall()}
    assert alerts, "the simulation has incidents: an empty alert set proves nothing"
    # AND they are what the files say (valid records once, every contact)
    exp = expected(streams)
    for stream, valid in exp["valid"].items():
        assert set(got[stream]) == valid, stream
    assert set(got["contacts"]) == exp["contacts"]
    # AND the topics hold each stored alert and dead letter, none missing,
    # nothing else (after deduplication by key)
    assert set(published_keys(bootstrap, ALERTS)) == alerts
    assert set(published_keys(bootstrap, DEAD_LETTERS)) == set(got["dead_letters"])
    # AND the contacts and alerts are an uninterrupted run's, id for id and
    # in content
    assert alerts == clean_alerts, (
        f"{len(alerts - clean_alerts)} extra, {len(clean_alerts - alerts)} missing (seed {seed})"
    )
    assert not differences, f"seed {seed}: " + "\n".join(differences)
    # (the shape of this run, for `pytest -rP`)
    print(
        json.dumps(
            {
                "records": lines,
                "offsets": sum(ends.values()),
                "produced_at_broker_kill": produced_at_kill,
                "job_kills": len(at_kills),
                "durable_fraction_at_kills": at_kills,
                "broker_kills": 2,
                "alerts": len(alerts),
                "rows": {t: len(ids) for t, ids in got.items()},
                "seconds": {k: round(v) for k, v in seconds.items()},
            }
        )
    )
