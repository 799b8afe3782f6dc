"""Breakpoints judged from the warehouse (voc.warehouse.detect): a detector
killed between any two rounds and started again from what it saved raises
exactly the alerts of one that ran through, and a step is judged only when
every partition and every contact of it is stored.

Real parts: the simulator's streams, the tagger, range files in a raw store,
the loader and a DuckDB warehouse file; only the broker's partition bounds
are given by the test (the store's ranges are the partitions)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from voc.catalog import load_catalog
from voc.contracts.streams import INPUT_STREAMS, Stream
from voc.detect.engine import DetectCatalog
from voc.evaluation.detection import read_stream, tagged_contacts
from voc.kafka.topics import topic_for
from voc.simulate import simulate
from voc.warehouse.detect import StoredDetector
from voc.warehouse.duck import open_warehouse
from voc.warehouse.load import load_store
from voc.warehouse.store import RawStore, kafka_source

CHUNKS = 7  # the input arrives in this many reads per stream


@pytest.fixture(scope="module")
def streams(tmp_path_factory):
    out = tmp_path_factory.mktemp("detect-streams")
    simulate(out, days=3, seed=5, scale=0.3)
    records = {s: read_stream(out / f"{s}.jsonl", s) for s in INPUT_STREAMS}
    return records, tagged_contacts(out)


def _chunks(rows: list, n: int) -> list[list]:
    size = -(-len(rows) // n)
    return [rows[i * size : (i + 1) * size] for i in range(n)]


class Feed:
    """Stores the streams read by read, one Kafka-like partition per stream
    (offsets = positions in the file), and the contacts of each read."""

    def __init__(self, root: Path, streams) -> None:
        self.store = RawStore(root / "wh.raw")
        self.warehouse = root / "wh.duckdb"
        records, contacts = streams
        self.chunks = {s: _chunks(records[s], CHUNKS) for s in INPUT_STREAMS}
        by_id = {c["contact_id"]: c for c in contacts}
        self.contacts = by_id
        self.ends = {(topic_for(s), 0): len(records[s]) for s in INPUT_STREAMS}
        self.next = {s: 0 for s in INPUT_STREAMS}

    def bounds(self):
        return {tp: (0, end) for tp, end in self.ends.items()}

    def store_read(self, k: int, *, contacts: bool = True) -> None:
        for s in INPUT_STREAMS:
            rows = self.chunks[s][k]
            first = self.next[s]
            self.store.write_range(
                str(s),
                kafka_source(topic_for(s), 0),
                first,
                first + len(rows) - 1,
                rows,
                list(range(first, first + len(rows))),
            )
            self.next[s] = first + len(rows)
            if contacts:
                self.store_contacts(rows)

    def store_contacts(self, rows) -> None:
        stitched = [
            {"recent_events": [], "is_late": False, "confidence": 1.0, "evidence": "", **c}
            for r in rows
            if (c := self.contacts.get(r["event_id"]))
        ]
        if stitched:
            self.store.write_rows("contacts", stitched)

    def detector(self) -> StoredDetector:
        return StoredDetector(DetectCatalog.of(load_catalog()), self.bounds)

    def alerts(self) -> set[str]:
        with open_warehouse(self.warehouse) as con:
            return {r[0] for r in con.execute("SELECT alert_id FROM raw.alerts").fetchall()}


def _round(feed: Feed, detector: StoredDetector, *, final=False, zone: str = "UTC"):
    with open_warehouse(feed.warehouse) as con:
        con.execute(f"SET TimeZone = '{zone}'")
        return detector.run(con, final=final, load=lambda: load_store(con, feed.store))


@pytest.fixture(scope="module")
def uninterrupted(streams, tmp_path_factory):
    feed = Feed(tmp_path_factory.mktemp("clean"), streams)
    detector = feed.detector()
    for k in range(CHUNKS):
        feed.store_read(k)
        _round(feed, detector)
    assert _round(feed, detector, final=True).complete
    return feed.alerts()


def test_a_detector_restarted_after_every_read_raises_the_alerts_of_one_that_ran_through(
    streams, uninterrupted, tmp_path
):
    # GIVEN the same reads, with a new detector (a restarted process) for each
    # round, on a machine whose time zone is China's (times are UTC all the same)
    feed = Feed(tmp_path, streams)
    judged = []
    for k in range(CHUNKS):
        feed.store_read(k)
        judged.append(_round(feed, feed.detector(), zone="Asia/Shanghai").judged_until_s)
    # WHEN the input ends
    assert _round(feed, feed.detector(), final=True, zone="Asia/Shanghai").complete
    # THEN the steps were judged as the data came, not all at the end
    assert judged[1] is not None and judged[-1] > judged[1]
    # AND the alerts are the uninterrupted run's, id for id
    assert uninterrupted, "three simulated days raise alerts: an empty set proves nothing"
    assert feed.alerts() == uninterrupted


def test_the_judge_reads_each_rounds_new_files_not_the_whole_ledger_again(streams, tmp_path):
    # GIVEN a detector that runs a round after each read
    feed = Feed(tmp_path, streams)
    detector = feed.detector()
    for k in range(3):
        feed.store_read(k)
        _round(feed, detector)
        # THEN what it knows of the stored ranges, added round by round, is
        # what a read of the whole ledger finds: one range file per stream a read
        whole = feed.detector()
        with open_warehouse(feed.warehouse) as con:
            whole._read_ledger(con, None)
        assert sum(map(len, whole._ranges.values())) == len(INPUT_STREAMS) * (k + 1)
        assert detector._ranges == whole._ranges


def test_a_step_waits_for_its_contacts_and_for_every_partition(streams, tmp_path):
    # GIVEN two reads stored, but the contacts of the second not stitched yet
    feed = Feed(tmp_path, streams)
    feed.store_read(0)
    feed.store_read(1, contacts=False)
    detector = feed.detector()
    first = _round(feed, detector)
    # THEN the steps of the unstitched contacts wait
    assert first.waiting_for.startswith("contact ")
    # WHEN they are stitched, later steps are judged
    feed.store_contacts(feed.chunks[Stream.CALLS][1] + feed.chunks[Stream.SOCIAL_POSTS][1])
    feed.store_contacts(feed.chunks[Stream.TICKET_EVENTS][1])
    second = _round(feed, detector)
    assert second.judged_until_s > first.judged_until_s
    # AND a partition that has not been read holds every step back
    feed.ends[(topic_for(Stream.CALLS), 1)] = 10
    assert _round(feed, detector).judged_until_s == second.judged_until_s
    assert not _round(feed, detector, final=True).complete


def test_a_slow_machine_judges_like_a_fast_one(streams, uninterrupted, tmp_path, monkeypatch):
    # GIVEN a machine so loaded that stitching trails the store by three reads
    # and every look at the clock finds 400 s more gone (a backfill beside a
    # busy test suite: the stitched contacts come minutes after their calls)
    feed = Feed(tmp_path, streams)
    clock = iter(range(0, 10**9, 400))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    detector = feed.detector()
    late = 3
    for k in range(CHUNKS + late):
        if k < CHUNKS:
            feed.store_read(k, contacts=False)
        if k >= late:
            feed.store_contacts([r for s in INPUT_STREAMS for r in feed.chunks[s][k - late]])
        _round(feed, detector)
    # WHEN the input ends
    assert _round(feed, detector, final=True).complete
    # THEN every contact was judged in its step: the alerts are the quiet run's
    assert feed.alerts() == uninterrupted
