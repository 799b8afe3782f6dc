"""The raw store (append-only Parquet range files) and its loading into the
DuckDB warehouse: durable ranges, idempotence, conflicts as dead letters."""

from __future__ import annotations

import os

import duckdb

from voc.warehouse.duck import open_warehouse
from voc.warehouse.load import load_store
from voc.warehouse.store import RawStore, kafka_source, parse_range


def app_event(event_id: str, stage: str = "order") -> dict:
    return {
        "event_id": event_id,
        "event_time": "2026-01-01T00:00:00Z",
        "domain": "ecommerce",
        "customer_id": "cus-1",
        "journey_stage": stage,
        "event_name": "order_created",
    }


def test_a_restarted_reader_resumes_where_the_contiguous_range_files_end(tmp_path):
    # GIVEN reads of offsets 0-99 and 100-199 stored, and 300-399 stored while
    # 200-299 was lost (a write that never finished, fusion broken)
    store = RawStore(tmp_path)
    src = kafka_source("voc.app_events", 2)
    for first, last in [(100, 199), (0, 99), (300, 399)]:
        store.write_range("app_events", src, first, last, [], [])
    # WHEN the durable position is asked from the group's offset 0 or 150
    # THEN it is the end of the contiguous run, never past the gap
    assert store.durable_next("app_events", src, 0) == 200
    assert store.durable_next("app_events", src, 150) == 200
    # AND another partition is untouched
    assert store.durable_next("app_events", kafka_source("voc.app_events", 1), 0) == 0
    names = [parse_range(p) for p in store.files("app_events")]
    assert {(r.source, r.first, r.last) for r in names} == {
        (src, 0, 99),
        (src, 100, 199),
        (src, 300, 399),
    }


def test_loading_twice_adds_nothing_and_a_replay_is_no_conflict(tmp_path):
    # GIVEN the same record read twice at different offsets (a producer retry)
    store = RawStore(tmp_path / "raw")
    src = kafka_source("voc.app_events", 0)
    store.write_range("app_events", src, 0, 0, [app_event("app-1")], [0])
    store.write_range("app_events", src, 1, 1, [app_event("app-1")], [1])
    con = open_warehouse(tmp_path / "wh.duckdb")
    # WHEN the store is loaded twice
    first = load_store(con, store)
    second = load_store(con, store)
    # THEN one row, no conflict, and the second load reads no file
    assert first.inserted == {"app_events": 1} and first.conflicts == 0
    assert second.files == 0
    assert con.execute("SELECT count(*) FROM raw.app_events").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM raw.dead_letters").fetchall() == [(0,)]


def test_same_event_id_with_different_content_is_a_conflict_dead_letter(tmp_path):
    # GIVEN an event stored, then another record with its id but another stage,
    # once in a later load and once twice within one load
    store = RawStore(tmp_path / "raw")
    src = kafka_source("voc.app_events", 0)
    store.write_range("app_events", src, 0, 0, [app_event("app-1", "order")], [0])
    con = open_warehouse(tmp_path / "wh.duckdb")
    load_store(con, store)
    store.write_range("app_events", src, 1, 2, [app_event("app-1", "payment")], [2])
    store.write_range(
        "app_events", src, 3, 4, [app_event("app-2", "order"), app_event("app-2", "refund")], [3, 4]
    )
    # WHEN loaded
    report = load_store(con, store)
    # THEN the first version of each id stays, each other version is a dead
    # letter that names both records, and nothing is silently dropped
    assert report.conflicts == 2
    stages = dict(con.execute("SELECT event_id, journey_stage FROM raw.app_events").fetchall())
    assert stages == {"app-1": "order", "app-2": "order"}
    letters = con.execute(
        "SELECT source, reason, raw_text FROM raw.dead_letters ORDER BY source"
    ).fetchall()
    assert [s for s, _, _ in letters] == ["voc.app_events/0/2", "voc.app_events/0/4"]
    assert all(r.startswith("conflict: event_id app-") for _, r, _ in letters)
    assert "kept: the warehouse" in letters[0][1]
    assert "kept: voc.app_events/0/3" in letters[1][1]
    assert '"payment"' in letters[0][2] and '"refund"' in letters[1][2]
    con.close()
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as ro:
        assert ro.execute("SELECT count(*) FROM raw.dead_letters").fetchall() == [(2,)]


def test_a_range_file_and_its_rename_are_on_disk_before_the_write_returns(tmp_path, monkeypatch):
    # GIVEN a store that fsyncs (the streaming job's) and one that does not (a file run's)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    src = kafka_source("voc.app_events", 0)
    # WHEN each writes one range file
    RawStore(tmp_path / "durable").write_range("app_events", src, 0, 0, [app_event("a", "x")], [0])
    path = RawStore(tmp_path / "durable").ranges("app_events", src)[0].path
    RawStore(tmp_path / "fast", fsync=False).write_range(
        "app_events", src, 0, 0, [app_event("a", "x")], [0]
    )
    # THEN the durable one synced the file's bytes (under its temporary name,
    # before the rename) and then the folder that holds the new name
    assert len(synced) == 2
    assert synced[0].startswith(str(path.parent / f".{path.name}."))
    assert synced[1] == str(path.parent)
    # AND the other synced nothing
    assert not any("fast" in s for s in synced)


def test_a_warehouse_from_before_a_new_optional_field_gets_its_column(tmp_path):
    from voc.warehouse.tables import RAW_TABLES

    # GIVEN a warehouse whose calls table was created before `outcome` existed
    path = tmp_path / "old.duckdb"
    calls = RAW_TABLES["calls"]
    old = duckdb.connect(str(path))
    old.execute("CREATE SCHEMA raw")
    old.execute(calls.ddl().replace("    outcome VARCHAR,\n", ""))
    old.execute(
        "INSERT INTO raw.calls (event_id, event_time, domain, customer_id, entry_point,"
        " ivr_path, queue_wait_s, talk_time_s, transcript, language)"
        " VALUES ('c1', '2025-01-01', 'common', 'u1', 'hotline', [], 1, 2, 't', 'en')"
    )
    assert "outcome" not in {r[0] for r in old.execute("DESCRIBE raw.calls").fetchall()}
    old.close()
    # WHEN this version opens it
    con = open_warehouse(path)
    # THEN the column is there, null on the rows stored before
    assert con.execute("SELECT event_id, outcome FROM raw.calls").fetchall() == [("c1", None)]
    con.close()
