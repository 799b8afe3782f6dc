"""Stateful stages key their state by shard, a fixed hash bucket of a finer
key (a customer, a detection key): a batch of records becomes a handful of
stateful elements instead of thousands, and a watermark advance fires a
handful of timers (DESIGN.md, "Performance")."""

from __future__ import annotations

import zlib

from apache_beam.transforms.window import GlobalWindow

# The timer of a bounded run: it fires once, when all input is in, and the
# stage handles everything it holds in one pass.
END_OF_INPUT = GlobalWindow().max_timestamp()


def shard_of(key: str, shards: int) -> str:
    # crc32, not hash(): the same key lands on the same shard in every
    # process and every run (Python's str hash is salted per process).
    return f"shard-{zlib.crc32(key.encode()) % shards:03d}"
