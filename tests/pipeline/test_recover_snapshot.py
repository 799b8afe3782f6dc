"""Recovered state reaches the job through a snapshot file, read when the job runs."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from voc.pipeline.coders import BatchCoder
from voc.pipeline.elements import RawBatch, ValidRecord
from voc.pipeline.recover import ReadRecovered, Recovered, remove_snapshots, snapshot_path


def test_recovered_rows_come_back_as_one_batch_and_the_snapshot_is_removed(tmp_path):
    # GIVEN tagged contacts and a contact record read back from a warehouse
    store = tmp_path / "wh.raw"
    tagged = [
        {"contact_id": "c-2", "event_time": "2026-01-01T00:02:00Z"},
        {"contact_id": "c-1", "event_time": "2026-01-01T00:01:00Z"},
    ]
    records = [ValidRecord("calls", 60_000_000, {"event_id": "call-1"})]
    recovered = Recovered(records=records, tagged=tagged)
    # WHEN a pipeline reads both parts
    with beam.Pipeline() as p:
        got_tagged = p | "Tagged" >> ReadRecovered(recovered, "tagged", snapshot_path(store))
        got_records = p | "Records" >> ReadRecovered(recovered, "records", snapshot_path(store))
        # THEN each part is one batch, as it was
        assert_that(got_tagged, equal_to([tagged]), label="tagged")
        assert_that(got_records, equal_to([records]), label="records")
    assert len(list(store.glob("_recovered.*.pickle"))) == 2
    # AND the snapshot files go when the run is over
    remove_snapshots(store)
    assert list(store.iterdir()) == []


def test_nothing_recovered_writes_nothing_and_reads_nothing(tmp_path):
    with beam.Pipeline() as p:
        got = p | ReadRecovered(Recovered(), "tagged", snapshot_path(tmp_path / "wh.raw"))
        assert_that(got, equal_to([]))
    assert list(tmp_path.iterdir()) == []


def test_batch_coder_round_trips_and_sizes_a_batch_without_encoding_it():
    coder = BatchCoder()
    batch = RawBatch("calls", "voc.calls/0/", [7, 8], [b'{"a": 1}', b"not json"])
    assert coder.decode(coder.encode(batch)) == batch
    assert coder.estimate_size(batch) == len(b'{"a": 1}') + len(b"not json")
    rows = [{"contact_id": "c-1"}, {"contact_id": "c-2"}]
    assert coder.decode(coder.encode(rows)) == rows
    assert coder.estimate_size(rows) > 0
