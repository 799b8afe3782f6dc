"""The Kafka reader's watermark is event time only: an idle partition follows
the newest record time the job's other partitions read, whatever the date."""

from __future__ import annotations

import time

from voc.pipeline import kafka_source
from voc.pipeline.kafka_source import KafkaPartitionReader, KafkaReadConfig

CONFIG = KafkaReadConfig(bootstrap="127.0.0.1:1", group_id="g", streams=("calls",))


def test_an_idle_partition_follows_the_newest_event_time_of_the_others_not_the_clock(
    monkeypatch,
):
    # GIVEN data dated 2026-01-01, partition 1 idle after reading up to 00:00,
    # partition 0 having read up to 06:00, and a wall clock in 2099
    t0 = 1767225600  # 2026-01-01T00:00:00Z
    monkeypatch.setattr(kafka_source, "_NEWEST_MS", {("voc.calls", 0): (t0 + 6 * 3600) * 1000})
    monkeypatch.setattr(time, "time", lambda: 4_070_908_800.0)  # 2099-01-01
    idle = KafkaPartitionReader(CONFIG, "voc.calls", 1, start=0)
    idle._max_ts_ms = t0 * 1000
    # WHEN it is caught up, and when it is not
    busy_mark = idle.get_watermark().micros / 1e6
    idle._caught_up = True
    idle_mark = idle.get_watermark().micros / 1e6
    # THEN busy: its own newest minus the disorder bound; idle: the others'
    # newest minus the same bound; never near the 2099 clock
    assert busy_mark == t0 - CONFIG.max_out_of_order_s
    assert idle_mark == t0 + 6 * 3600 - CONFIG.max_out_of_order_s


def test_a_reader_rebuilt_from_a_checkpoint_commits_from_the_jobs_floor_not_its_offset(
    tmp_path,
):
    # GIVEN a store holding offsets 100-199 of a partition but not 0-99 (a
    # sink not fused with the reader wrote the later read first), and a
    # reader checkpointed at 200 by a job that started from the floor 0
    from voc.pipeline.kafka_source import KafkaCheckpoint, KafkaPartitionSource
    from voc.warehouse.store import RawStore, kafka_source

    config = KafkaReadConfig(
        bootstrap="127.0.0.1:1", group_id="g", streams=("calls",), store=str(tmp_path)
    )
    RawStore(str(tmp_path)).write_range("calls", kafka_source("voc.calls", 0), 100, 199, [], [])
    mark = KafkaCheckpoint(config, "voc.calls", 0, 200, durable_from=0)
    # WHEN the runner rebuilds the reader from that checkpoint (a reader cache miss)
    reader = KafkaPartitionSource(config, "voc.calls", 0).create_reader(None, mark)
    # THEN its checkpoints still commit from the floor: nothing is durable
    # from 0, so finalising commits nothing (no broker is asked)
    again = reader.get_checkpoint_mark()
    assert (again.next_offset, again.durable_from) == (200, 0)
    again.finalize_checkpoint()
