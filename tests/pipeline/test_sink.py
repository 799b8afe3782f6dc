"""The raw-store sinks: a row the store cannot hold becomes a dead letter, the
rest of its batch is stored, and the read's range is still recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from voc.pipeline.elements import StoreBatch
from voc.pipeline.sink import StoreRangeFn
from voc.warehouse.store import RawStore

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_a_row_beyond_64_bits_is_a_dead_letter_and_the_rest_is_stored(tmp_path):
    # GIVEN a read of two schema-valid social posts, one with reach = 2^63
    good = json.loads((FIXTURES / "social_post" / "valid" / "weibo_zh.json").read_text())
    huge = {**good, "event_id": "soc-huge", "reach": 2**63}
    batch = StoreBatch("social_posts", "voc.social_posts/0/", 10, 12, [good, huge], [10, 12], [])
    fn = StoreRangeFn(str(tmp_path))
    fn.setup()
    # WHEN it is stored
    out = list(fn.process(batch))
    # THEN the good row is in the range file, which covers the whole read
    store = RawStore(tmp_path)
    assert out == [("social_posts", 1)]
    rows = pq.read_table(store.files("social_posts")[0]).to_pylist()
    assert [r["event_id"] for r in rows] == [good["event_id"]]
    assert store.durable_next("social_posts", "voc.social_posts/0/", 10) == 13
    # AND the other is a dead letter naming its offset and why
    letters = pq.read_table(store.files("dead_letters")[0]).to_pylist()
    assert [(d["source"], d["stream"]) for d in letters] == [
        ("voc.social_posts/0/12", "social_posts")
    ]
    assert "cannot be stored in raw.social_posts" in letters[0]["reason"]
    assert "OverflowError" in letters[0]["reason"] or "ArrowInvalid" in letters[0]["reason"]
