"""Recovered state reaches the job through a snapshot file, read when the job runs."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from voc.pipeline.coders import BatchCoder
from voc.pipeline.elements import RawBatch, ValidRecord
from voc.pipeline.recover import ReadRecovered, Recovered, remove_snapshots, snapshot_path


def test_recovered_rows_come_back_as_one_batch_and_the_snapshot_is_removed(tmp_path):
    # GIVEN contact records read back from the store
    store = tmp_path / "wh.raw"
    records = [
        ValidRecord("calls", 120_000_000, {"event_id": "call-2"}),
        ValidRecord("calls", 60_000_000, {"event_id": "call-1"}),
    ]
    recovered = Recovered(records=records)
    # WHEN a pipeline reads them
    with beam.Pipeline() as p:
        got_records = p | "Records" >> ReadRecovered(recovered, "records", snapshot_path(store))
        # THEN they are one batch, as they were
        assert_that(got_records, equal_to([records]), label="records")
    assert len(list(store.glob("_recovered.*.pickle"))) == 1
    # AND the snapshot files go when the run is over
    remove_snapshots(store)
    assert list(store.iterdir()) == []


def test_nothing_recovered_writes_nothing_and_reads_nothing(tmp_path):
    with beam.Pipeline() as p:
        got = p | ReadRecovered(Recovered(), "records", snapshot_path(tmp_path / "wh.raw"))
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
