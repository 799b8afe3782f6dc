"""voc.kafka.produce and `voc produce`: what goes into the topics, byte for byte."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tests.kafka.sample_streams import write_stream_folder
from voc.commands.produce import produce as produce_cli
from voc.contracts.streams import Stream
from voc.contracts.validate import DeadLetter, validate_record
from voc.kafka.consume import end_offsets, read_batches
from voc.kafka.produce import (
    OutgoingRecord,
    TokenBucket,
    infer_stream,
    open_source,
    produce,
    produce_path,
)
from voc.kafka.topics import INPUT_TOPICS, topic_for

HELPDESK_CSV = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "helpdesk_log" / "helpdesk.csv"
)
needs_helpdesk = pytest.mark.skipif(not HELPDESK_CSV.exists(), reason="no help-desk log")


def _ms(t: str) -> int:
    return int(datetime.fromisoformat(t).timestamp() * 1000)


def _read_new(bootstrap: str, topics, since: dict) -> dict[str, list]:
    """Every record of `topics` after the offsets in `since`, per topic."""
    out: dict[str, list] = {t: [] for t in topics}
    for batch in read_batches(
        bootstrap, topics, "voc-test-reader", bounded=True, start_offsets=since
    ):
        out[batch.topic].extend(batch.records)
    return out


# --- pure ------------------------------------------------------------------------


def test_token_bucket_paces_to_the_rate():
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    bucket = TokenBucket(100, burst=1, clock=lambda: now[0], sleep=sleep)
    for _ in range(101):
        bucket.take()
    assert now[0] == pytest.approx(1.0, abs=0.02)


def test_stream_inferred_from_file_name():
    assert infer_stream(Path("calls.jsonl")) is Stream.CALLS
    assert infer_stream(Path("x/ticket_events-2024.jsonl")) is Stream.TICKET_EVENTS
    assert infer_stream(Path("voc.app_events.jsonl")) is Stream.APP_EVENTS
    assert infer_stream(Path("events.jsonl")) is None


def test_unknown_stream_asks_for_stream_option(tmp_path):
    f = tmp_path / "events.jsonl"
    f.write_text("{}\n")
    with pytest.raises(ValueError, match="--stream"):
        open_source(f)
    assert open_source(f, stream="calls").files == [(f, Stream.CALLS)]


def test_fixture_records_are_valid(tmp_path):
    lines = write_stream_folder(tmp_path)
    for stream, rows in lines.items():
        results = [validate_record(Stream(stream), r, "test") for r in rows]
        bad = [r for r in results if isinstance(r, DeadLetter)]
        assert len(bad) == (1 if stream == "calls" else 0), [b.reason for b in bad]


def test_folder_source_interleaves_streams_by_event_time(tmp_path):
    write_stream_folder(tmp_path)
    source = open_source(tmp_path)
    records = list(source.records)
    assert source.total == 22  # 4 x 5 records + 1 malformed + 1 blank line
    assert len(records) == 21 and sum(source.blank_lines.values()) == 1
    stamped = [r.timestamp_ms for r in records if r.timestamp_ms is not None]
    assert stamped == sorted(stamped)


@needs_helpdesk
def test_helpdesk_log_converts_to_valid_ticket_events():
    source = open_source(HELPDESK_CSV, fmt="helpdesk-csv")
    records = list(source.records)
    rows = sum(1 for _ in HELPDESK_CSV.open()) - 1
    # THEN every row of the log became one valid record
    assert source.rejected == []
    assert len(records) == source.total == rows
    types = Counter(orjson.loads(r.value)["event_type"] for r in records)
    cases = {orjson.loads(r.value)["ticket_id"] for r in records}
    assert types["created"] == len(cases)
    assert {"assigned", "escalated", "responded", "resolved", "reopened"} <= set(types)
    first = orjson.loads(records[0].value)
    assert first["domain"] == "common" and records[0].key == first["customer_id"].encode()


BANK_LOG = (
    HELPDESK_CSV.parents[1] / "callcenter_anonymous_bank" / "data_anonymous_bank_february.txt"
)


@pytest.mark.skipif(not BANK_LOG.exists(), reason="no bank call-centre log")
def test_bank_call_log_converts_to_valid_calls_and_phantom_dead_letters():
    # WHEN the real call-centre log is opened as a source
    source = open_source(BANK_LOG, fmt="callcenter-tsv")
    records = [orjson.loads(r.value) for r in source.records]
    # THEN every row is a valid call record or a dead letter (the PHANTOM rows)
    rows = sum(1 for _ in BANK_LOG.open()) - 1
    assert len(records) + len(source.rejected) == rows
    assert len(source.rejected) == 278
    assert all("PHANTOM" in d.reason for d in source.rejected)
    assert Counter(r["outcome"] for r in records) == {
        "answered": 27162,
        "abandoned_in_queue": 3963,
        "abandoned_in_ivr": 1941,
    }
    assert len({r["event_id"] for r in records}) == len(records)
    times = [r["event_time"] for r in records]
    assert times == sorted(times)


# --- against the broker -------------------------------------------------------------


@pytest.mark.kafka
def test_folder_round_trips_exact_bytes_keys_and_timestamps(kafka_broker, tmp_path):
    # GIVEN a simulator-style folder with a malformed line among the calls
    lines = write_stream_folder(tmp_path / "sim")
    since = end_offsets(kafka_broker.bootstrap, INPUT_TOPICS)
    # WHEN it is produced
    before_ms = int(time.time() * 1000)
    report = produce_path(kafka_broker.bootstrap, tmp_path / "sim")
    # THEN every non-blank line is in its topic, exactly as written
    assert report.produced == 21 and report.failed == 0 and report.blank_lines_skipped == 1
    assert report.per_topic == {topic_for(s): len(rows) for s, rows in lines.items()}
    got = _read_new(kafka_broker.bootstrap, INPUT_TOPICS, since)
    for stream, rows in lines.items():
        records = got[topic_for(stream)]
        assert sorted(r.value for r in records) == sorted(rows)
        for r in records:
            try:
                parsed = json.loads(r.value)
            except json.JSONDecodeError:
                # The malformed line: no key, stamped with the time it was sent.
                assert r.key is None and r.timestamp_ms >= before_ms
                continue
            assert r.key == (parsed.get("customer_id") or parsed["event_id"]).encode()
            assert r.timestamp_ms == _ms(parsed["event_time"])
    # AND one customer's records keep their file order within their partition
    calls = sorted(got["voc.calls"], key=lambda r: r.offset)
    c1 = [json.loads(r.value)["event_id"] for r in calls if r.key == b"C1" and r.value[-1:] == b"}"]
    assert c1 == sorted(c1, key=lambda e: int(e.split("-")[1]))


@pytest.mark.kafka
def test_rate_limit_paces_the_producer(kafka_broker, tmp_path):
    write_stream_folder(tmp_path / "sim", per_stream=10)
    t0 = time.monotonic()
    report = produce(kafka_broker.bootstrap, open_source(tmp_path / "sim").records, rate_per_s=80)
    # 41 records at 80/s with a burst of 8: at least (41 - 8) / 80 s
    assert report.produced == 41
    assert time.monotonic() - t0 >= (41 - 8) / 80


@pytest.mark.kafka
@needs_helpdesk
def test_helpdesk_replay_produces_every_converted_record(kafka_broker):
    topic = topic_for(Stream.TICKET_EVENTS)
    before = end_offsets(kafka_broker.bootstrap, [topic])
    report = produce_path(kafka_broker.bootstrap, HELPDESK_CSV, fmt="helpdesk-csv")
    after = end_offsets(kafka_broker.bootstrap, [topic])
    rows = sum(1 for _ in HELPDESK_CSV.open()) - 1
    assert report.rejected == 0 and report.failed == 0
    assert report.produced == rows
    assert sum(after.values()) - sum(before.values()) == rows


@pytest.mark.kafka
def test_cli_produce_json_summary(kafka_broker, tmp_path):
    write_stream_folder(tmp_path / "sim", per_stream=3)
    result = CliRunner().invoke(
        produce_cli,
        ["--input", str(tmp_path / "sim"), "--bootstrap", kafka_broker.bootstrap, "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["produced"] == 13
    assert summary["per_topic"]["voc.calls"] == 4
    assert set(summary) >= {"produced", "per_topic", "seconds", "events_per_s"}


@pytest.mark.kafka
def test_cli_single_file_needs_stream_unless_named(kafka_broker, tmp_path):
    f = tmp_path / "export.jsonl"
    f.write_text('{"event_id": "x1"}\n')
    runner = CliRunner()
    no_stream = runner.invoke(
        produce_cli, ["--input", str(f), "--bootstrap", kafka_broker.bootstrap]
    )
    assert no_stream.exit_code == 1 and "--stream" in no_stream.output
    ok = runner.invoke(
        produce_cli,
        ["--input", str(f), "--stream", "app_events", "--bootstrap", kafka_broker.bootstrap],
    )
    assert ok.exit_code == 0, ok.output


@pytest.mark.kafka
def test_missing_topic_is_a_clear_error(kafka_broker):
    record = OutgoingRecord("voc.nope", None, b"{}", None)
    with pytest.raises(ValueError, match="voc.nope does not exist"):
        produce(kafka_broker.bootstrap, [record])


def test_cli_without_broker_fails_fast(tmp_path):
    write_stream_folder(tmp_path / "sim", per_stream=1)
    t0 = time.monotonic()
    result = CliRunner().invoke(
        produce_cli, ["--input", str(tmp_path / "sim"), "--bootstrap", "127.0.0.1:1"]
    )
    assert result.exit_code == 1
    assert "no Kafka broker answered" in result.output
    assert time.monotonic() - t0 < 20


def test_an_impossible_event_time_is_not_the_record_timestamp(tmp_path):
    # GIVEN a stream whose second record claims a time 70 years ahead and the
    # third one 1970 (relative to the wall clock the producer checks against)
    now_s = int(time.time())

    def at(s: int) -> str:
        return datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    good = {"event_id": "a", "customer_id": "c1", "event_time": at(now_s - 2 * 86400)}
    lines = [
        good,
        {**good, "event_id": "b", "event_time": at(now_s + 70 * 365 * 86400)},
        {**good, "event_id": "c", "event_time": "1970-01-01T00:00:00Z"},
        {**good, "event_id": "d", "event_time": at(now_s - 86400)},
    ]
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    # WHEN the producer plans what to send
    stamps = [r.timestamp_ms for r in open_source(path).records]
    # THEN the impossible ones carry the stream's last good time, so they move
    # no watermark, and the pipeline dead-letters them against it
    first = (now_s - 2 * 86400) * 1000
    assert stamps == [first, first, first, (now_s - 86400) * 1000]
