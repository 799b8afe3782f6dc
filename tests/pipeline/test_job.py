"""The whole Beam job on files, at the edges a user meets: the stream files in,
the warehouse tables out. Real DirectRunner, real DuckDB file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import duckdb
import pytest

from voc.contracts.streams import INPUT_STREAMS
from voc.pipeline.job import embedded_options, run

FIXTURES = Path(__file__).parents[1] / "fixtures"


def compact(path: Path) -> bytes:
    raw = path.read_bytes()
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        return raw.replace(b"\n", b" ")


@pytest.fixture(scope="module")
def streams(tmp_path_factory) -> tuple[Path, dict[str, list[bytes]], dict[str, list[bytes]]]:
    """One JSONL file per stream holding every valid and invalid example."""
    out = tmp_path_factory.mktemp("streams")
    valid, invalid = {}, {}
    for stream in INPUT_STREAMS:
        good = [compact(p) for p in sorted((FIXTURES / stream.schema_name / "valid").glob("*"))]
        bad = [compact(p) for p in sorted((FIXTURES / stream.schema_name / "invalid").glob("*"))]
        (out / f"{stream}.jsonl").write_bytes(b"\n".join(good + bad) + b"\n")
        valid[str(stream)], invalid[str(stream)] = good, bad
    return out, valid, invalid


@pytest.fixture(scope="module")
def warehouse(streams, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wh") / "voc.duckdb"
    run(embedded_options(input_dir=str(streams[0]), warehouse=str(path)))
    return path


def q(warehouse: Path, sql: str):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_valid_record_lands_once_in_its_table(streams, warehouse):
    _, valid, _ = streams
    for stream, lines in valid.items():
        ids = sorted(r[0] for r in q(warehouse, f"SELECT event_id FROM raw.{stream}"))
        assert ids == sorted(json.loads(line)["event_id"] for line in lines)


def test_every_invalid_record_is_a_dead_letter_with_reason_and_exact_bytes(streams, warehouse):
    _, _, invalid = streams
    rows = q(warehouse, "SELECT stream, reason, raw_b64 FROM raw.dead_letters")
    for stream, lines in invalid.items():
        got = sorted(base64.b64decode(b64) for s, _, b64 in rows if s == stream)
        assert got == sorted(lines)
    assert all(reason for _, reason, _ in rows)


def test_contacts_are_calls_standalone_tickets_and_social_posts(warehouse):
    channels = dict(q(warehouse, "SELECT contact_id, channel FROM raw.contacts"))
    # The ticket created from call-0001 is that call, not a second contact.
    assert "tkt-0001-created" not in channels
    assert channels["call-0001"] == "call"
    assert {channels["soc-0001"], channels["soc-0002"]} == {"social"}


def test_tags_carry_method_and_evidence(warehouse):
    rows = q(
        warehouse,
        "SELECT scenario_id, method, evidence FROM raw.contacts WHERE contact_id = 'call-0001'",
    )
    assert rows == [("freight.loading.wasted_trip", "keyword", rows[0][2])]
    assert "白跑一趟" in rows[0][2]


def test_rerun_on_the_same_input_adds_no_row(streams, warehouse):
    # GIVEN the warehouse after one run
    tables = ["calls", "ticket_events", "app_events", "social_posts", "contacts", "dead_letters"]
    before = {t: q(warehouse, f"SELECT count(*) FROM raw.{t}")[0][0] for t in tables}
    # WHEN the same files run again
    result = run(embedded_options(input_dir=str(streams[0]), warehouse=str(warehouse)))
    # THEN nothing new was inserted anywhere
    after = {t: q(warehouse, f"SELECT count(*) FROM raw.{t}")[0][0] for t in tables}
    assert after == before
    assert not any(result.inserted.values()), result.inserted
    assert result.counters["sink.rows_stored"] > 0  # the run did store its rows again
