"""Two worker processes (two instances of the job in one consumer group, each
reading half of the partitions, both appending to one raw store) store
exactly the rows one worker stores, alerts included: instance 0 judges
breakpoints from the store both append to, once both have stored a step."""

from __future__ import annotations

import duckdb
import pytest

from tests.kafka.conftest import _free_port
from tests.kafka.test_pipeline_kafka import voc_run
from voc.contracts.streams import INPUT_STREAMS
from voc.kafka import broker
from voc.kafka.produce import produce_path
from voc.kafka.topics import ensure_topics
from voc.simulate import simulate
from voc.warehouse.duck import open_warehouse
from voc.warehouse.load import load_store
from voc.warehouse.store import RawStore, store_path
from voc.warehouse.tables import RAW_TABLES

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
COMPARED = [
    "calls",
    "ticket_events",
    "app_events",
    "social_posts",
    "contacts",
    "dead_letters",
    "alerts",
]


def rows(warehouse, table: str) -> list[tuple]:
    cols = ", ".join(RAW_TABLES[table].column_names)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sorted(con.execute(f"SELECT {cols} FROM raw.{table}").fetchall(), key=repr)


@pytest.fixture
def fresh_kafka(tmp_path):
    home = tmp_path / "kafka"
    home.mkdir()
    (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
    info = broker.start(home, port=_free_port(), controller_port=_free_port(), timeout_s=120)
    ensure_topics(info.bootstrap)
    yield info.bootstrap
    broker.stop(home)


def test_two_instances_store_exactly_the_rows_of_one(fresh_kafka, tmp_path):
    bootstrap = fresh_kafka
    streams = tmp_path / "streams"
    simulate(streams, days=2, seed=17, scale=0.3)
    for s in INPUT_STREAMS:
        assert produce_path(bootstrap, streams / f"{s}.jsonl").failed == 0
    # GIVEN the streams run by one worker
    one = tmp_path / "one.duckdb"
    voc_run(bootstrap, one, "g-one", "--bounded", "--no-publish")
    # WHEN two worker processes share them (same group, same store), at once
    two = tmp_path / "two.duckdb"
    procs = [
        voc_run(
            bootstrap,
            two,
            "g-two",
            "--bounded",
            "--no-publish",
            "--instances",
            "2",
            "--instance",
            str(i),
            background=True,
        )
        for i in (0, 1)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-3000:]
    with open_warehouse(two) as con:
        load_store(con, RawStore(store_path(two)))
    # THEN both wrote to the store
    names = {f.name for t in INPUT_STREAMS for f in RawStore(store_path(two)).files(str(t))}
    assert any("%2F0%2F@" in n for n in names) and any("%2F1%2F@" in n for n in names)
    # AND the warehouse holds exactly the rows of the one-worker run, row for row
    for table in COMPARED:
        assert rows(two, table) == rows(one, table), table
    assert len(rows(one, "contacts")) > 100
    assert rows(one, "alerts"), "the simulation has incidents: an empty alert set proves nothing"
