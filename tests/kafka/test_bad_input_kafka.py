"""`voc run --source kafka` on topics seeded with every kind of bad input ends
with exact dead-letter counts, stores the good records masked, publishes no
personal data, and listens on loopback only while it runs.

The reference time of every bad record is its Kafka timestamp, set here to a
fixed instant: nothing depends on the day the test runs."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import psutil
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.kafka.conftest import _free_port
from voc.kafka import broker
from voc.kafka.topics import DEAD_LETTERS, ensure_topics, topic_for

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
FIXTURES = Path(__file__).parents[1] / "fixtures"
BROKER_MS = 1_793_836_800_000  # 2026-11-05T00:00:00Z
PHONE, ID_CARD, EMAIL = "13812345678", "11010519900307881X", "wang.fang@163.com"


def social_post(event_id: str, **fields) -> bytes:
    base = json.loads((FIXTURES / "social_post" / "valid").glob("*.json").__next__().read_text())
    return json.dumps({**base, "event_id": event_id, **fields}, ensure_ascii=False).encode()


def app_event(event_id: str, **fields) -> bytes:
    base = json.loads((FIXTURES / "app_event" / "valid").glob("*.json").__next__().read_text())
    return json.dumps({**base, "event_id": event_id, **fields}, ensure_ascii=False).encode()


def deep(levels: int):
    value: object = "x"
    for _ in range(levels):
        value = [value]
    return value


# (topic's stream, payload, expected dead-letter kind or None for a good record)
SEEDED = [
    ("social_posts", social_post("ok-1", text=f"我的手机{PHONE}，身份证{ID_CARD}"), None),
    ("social_posts", social_post("ok-2", text=f"mail {EMAIL} please"), None),
    ("social_posts", social_post("ok-3"), None),
    ("social_posts", social_post("big-reach", reach=2**63), "out_of_range"),
    ("social_posts", social_post("bigger-reach", reach=2**64), "out_of_range"),
    ("app_events", app_event("deep", properties={"a": deep(40)}), "out_of_range"),
    ("social_posts", b'{"text": "' + PHONE.encode() + b" " + b"x" * 1_000_000, "oversized"),
    ("social_posts", social_post("utf8")[:60] + b"\xff\xfe\xfd" + b"}", "invalid_utf8"),
    ("social_posts", social_post("y2099", event_time="2099-01-01T00:00:00Z"), "event_time"),
    ("social_posts", social_post("y0001", event_time="0001-01-01T00:00:00Z"), "event_time"),
    ("social_posts", social_post("y1970", event_time="1970-01-01T00:00:00Z"), "event_time"),
    ("calls", b'{"event_id": "c1", "transcript": "call ' + PHONE.encode() + b'"', "invalid_json"),
    ("social_posts", social_post("neg", reach=-1, text=f"tel {PHONE}"), "schema"),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    home = tmp_path_factory.mktemp("bad-input-kafka")
    (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
    info = broker.start(home, port=_free_port(), controller_port=_free_port(), timeout_s=120)
    try:
        ensure_topics(info.bootstrap)
        producer = KafkaProducer(bootstrap_servers=info.bootstrap, max_request_size=4_000_000)
        for stream, payload, _ in SEEDED:
            producer.send(topic_for(stream), value=payload, timestamp_ms=BROKER_MS).get(30)
        producer.close()
        yield info.bootstrap, home
    finally:
        broker.stop(home)


def listening(pids: set[int]) -> set[tuple[str, int, int]]:
    """(address, port, pid) of every TCP socket these processes listen on."""
    found = set()
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            found.add((conn.laddr.ip, conn.laddr.port, conn.pid))
    return found


def is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1, as Java reports it
    return (mapped or address).is_loopback


def process_tree(pid: int) -> set[int]:
    try:
        root = psutil.Process(pid)
        return {pid} | {c.pid for c in root.children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def broker_pid(home: Path) -> int:
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(home) in part for part in proc.info["cmdline"] or ()):
            return proc.pid
    raise AssertionError(f"no broker process for {home}")


def test_every_bad_input_kind_ends_as_exact_dead_letters_and_nothing_listens_outside(
    seeded, tmp_path
):
    bootstrap, home = seeded
    warehouse = tmp_path / "wh.duckdb"
    # WHEN the pipeline reads the seeded topics to their end, publishing on
    cmd = [
        sys.executable,
        "-m",
        "voc.cli",
        "run",
        "--source",
        "kafka",
        "--bounded",
        "--json",
        "--bootstrap",
        bootstrap,
        "--group",
        "bad-input",
        "--warehouse",
        str(warehouse),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[tuple[str, int, int]] = set()
    kafka_pid = broker_pid(home)
    while proc.poll() is None:
        seen |= listening(process_tree(proc.pid) | {kafka_pid})
        time.sleep(0.2)
    out, err = proc.communicate()
    assert proc.returncode == 0, err[-3000:]

    # THEN every listener seen while the job ran was on loopback: the broker,
    # Prism's job endpoint and the SDK worker pool (at least those three)
    job_listeners = {s for s in seen if s[2] != kafka_pid}
    assert {s for s in seen if s[2] == kafka_pid}, "the broker's listeners were not seen"
    assert len({(ip, port) for ip, port, _ in job_listeners}) >= 2, seen
    assert all(is_loopback(ip) for ip, _, _ in seen), seen

    # AND the dead letters are exactly the seeded bad records, by kind
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kinds = Counter(k for (k,) in con.execute("SELECT kind FROM raw.dead_letters").fetchall())
        letters = con.execute(
            "SELECT dead_letter_id, reason, raw_text, raw_size_bytes FROM raw.dead_letters"
        ).fetchall()
        posts = dict(con.execute("SELECT event_id, text FROM raw.social_posts").fetchall())
        keys = con.execute("SELECT pii_keys FROM raw.social_posts WHERE event_id = 'ok-1'")
        (ok1_keys,) = keys.fetchone()
        every_text = [
            str(row)
            for table in (
                "calls",
                "ticket_events",
                "app_events",
                "social_posts",
                "contacts",
                "dead_letters",
            )  # fmt: skip
            for row in con.execute(f"SELECT * FROM raw.{table}").fetchall()
        ]
    assert kinds == Counter(kind for _, _, kind in SEEDED if kind), kinds
    assert max(size for *_, size in letters) > 1_000_000  # the 1 MB record, kept as an excerpt
    assert any("72 years ahead of its Kafka record timestamp" in r for _, r, _, _ in letters)
    assert set(posts) == {"ok-1", "ok-2", "ok-3"}
    assert posts["ok-1"] == "我的手机<PHONE>，身份证<ID_CARD>"
    assert [k.split(":")[0] for k in ok1_keys] == ["phone"]

    # AND no personal data is in any raw table nor on the dead-letter topic,
    # which holds each dead letter once per key
    for value in (PHONE, ID_CARD, EMAIL):
        assert not [t for t in every_text if value in t], value
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=5000)
    tps = [TopicPartition(DEAD_LETTERS, p) for p in consumer.partitions_for_topic(DEAD_LETTERS)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    published = {m.key.decode(): m.value for m in consumer}
    consumer.close()
    assert set(published) == {dl_id for dl_id, *_ in letters}
    for value in (PHONE, ID_CARD, EMAIL):
        assert not [v for v in published.values() if value.encode() in v], value
    assert max(len(v) for v in published.values()) < 10_000
    assert json.loads(out.strip().splitlines()[-1])["dead_letters"] == len(letters)
