"""The edge: every record is stored or becomes a dead letter with a reason an
operator understands; nothing raised by one record escapes; dead letters are
bounded and hold no personal data; event times are bounded against a reference
(the Kafka record timestamp), never against today's date."""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voc.contracts.batch import check_batch
from voc.contracts.streams import INPUT_STREAMS, Stream
from voc.contracts.validate import (
    DEAD_LETTER_KINDS,
    EdgeRules,
    load_schema,
    to_micros,
    validator,
)
from voc.pipeline.elements import StoreBatch
from voc.pipeline.sink import StoreRangeFn, split_storable
from voc.privacy.evaluate import load_eval_set
from voc.privacy.mask import Masker, find_pii
from voc.warehouse.duck import open_warehouse
from voc.warehouse.load import load_store
from voc.warehouse.store import RawStore

FIXTURES = Path(__file__).parents[1] / "fixtures"
MASKER = Masker(b"edge-test-key-0123")
RULES = EdgeRules()
# The reference every time check below is made against: a fixed instant, so
# that no test depends on the day it runs.
BROKER_MS = to_micros("2026-11-05T00:00:00Z") // 1000


def social_post(**fields) -> bytes:
    base = json.loads((FIXTURES / "social_post" / "valid").glob("*.json").__next__().read_text())
    return json.dumps({**base, **fields}, ensure_ascii=False).encode()


def check(stream: Stream, payloads: list[bytes], timestamps_ms: list[int] | None = None):
    if timestamps_ms is None:
        timestamps_ms = [BROKER_MS] * len(payloads)
    return check_batch(
        stream, "voc.test/0/", list(range(len(payloads))), payloads, MASKER, RULES, timestamps_ms
    )


BAD_INPUTS = [
    ("reach 2^63", social_post(reach=2**63), "out_of_range", "does not fit a 64-bit integer"),
    ("reach 2^64", social_post(reach=2**64), "out_of_range", "does not fit a 64-bit integer"),
    ("1 MB malformed", b'{"text": "' + b"x" * 1_000_000, "oversized", "over the limit"),
    ("invalid UTF-8", social_post()[:40] + b"\xff\xfe" + b"}", "invalid_utf8", "invalid UTF-8"),
    ("2099", social_post(event_time="2099-01-01T00:00:00Z"), "event_time", "72 years ahead"),
    ("year 1", social_post(event_time="0001-01-01T00:00:00Z"), "event_time", "older than"),
    ("1970", social_post(event_time="1970-01-01T00:00:00Z"), "event_time", "older than"),
    ("not JSON", b"{oops", "invalid_json", "invalid JSON"),
    ("schema", social_post(reach=-1), "schema", "schema violation"),
]


@pytest.mark.parametrize(
    ("payload", "kind", "says"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_each_bad_input_is_a_dead_letter_of_its_kind(payload, kind, says):
    # WHEN the edge sees one bad record of a social-post batch
    rows, dead, _ = check(Stream.SOCIAL_POSTS, [payload])
    # THEN it is one dead letter that says what is wrong, where it was, what it was
    assert rows == []
    [letter] = dead
    assert letter["kind"] == kind and kind in DEAD_LETTER_KINDS
    assert says in letter["reason"], letter["reason"]
    assert letter["source"] == "voc.test/0/0"
    assert letter["raw_size_bytes"] == len(payload)
    assert letter["raw_sha256"] == hashlib.sha256(payload).hexdigest()
    assert validator("dead_letter").is_valid(letter)
    assert len(orjson.dumps(letter)) < 4 * RULES.max_excerpt_bytes + 2000


def test_the_2099_reason_names_the_broker_time():
    _, [letter], _ = check(Stream.SOCIAL_POSTS, [social_post(event_time="2099-01-01T00:00:00Z")])
    assert letter["reason"].startswith(
        "event time 2099-01-01T00:00:00Z is 72 years ahead of its Kafka record timestamp "
        "2026-11-05T00:00:00Z"
    )


def test_event_time_within_skew_and_horizon_is_accepted():
    day_ahead = social_post(event_time="2026-11-05T23:00:00Z")
    years_back = social_post(event_id="old", event_time="2010-01-04T08:00:00Z")
    rows, dead, _ = check(Stream.SOCIAL_POSTS, [day_ahead, years_back])
    assert dead == [] and len(rows) == 2


def test_without_a_reference_time_no_event_time_is_bounded():
    rows, dead, _ = check_batch(
        Stream.SOCIAL_POSTS, "f:", [1], [social_post(event_time="2099-01-01T00:00:00Z")], MASKER
    )
    assert len(rows) == 1 and dead == []


def test_a_record_without_kafka_timestamp_is_not_time_bounded():
    rows, _, _ = check(Stream.SOCIAL_POSTS, [social_post(event_time="2099-01-01T00:00:00Z")], [-1])
    assert len(rows) == 1


def test_dead_letter_excerpt_is_bounded_and_masked():
    payload = b'{"text": "call 13812345678 ' + b"y" * 10_000
    _, [letter], _ = check(Stream.SOCIAL_POSTS, [payload])
    excerpt = base64.b64decode(letter["raw_b64"])
    assert letter["is_truncated"] and len(excerpt) == RULES.max_excerpt_bytes
    assert b"13812345678" not in excerpt and "13812345678" not in letter["raw_text"]
    assert excerpt.startswith(b'{"text": "call <PHONE> y')


def test_a_reason_that_quotes_personal_data_is_masked():
    _, [letter], _ = check(Stream.SOCIAL_POSTS, [social_post(reach="13812345678")])
    assert letter["kind"] == "schema"
    assert "13812345678" not in letter["reason"] and "<PHONE>" in letter["reason"]


def test_valid_records_leave_masked_with_keyed_hashes():
    [row], _, _ = check(Stream.SOCIAL_POSTS, [social_post(text="我的电话13812345678，邮箱a@b.cn")])
    assert row["text"] == "我的电话<PHONE>，邮箱<EMAIL>"
    assert sorted(k.split(":")[0] for k in row["pii_keys"]) == ["email", "phone"]


def test_nesting_deeper_than_the_limit_is_out_of_range():
    nested: object = "x"
    for _ in range(RULES.max_depth + 1):
        nested = [nested]
    base = json.loads((FIXTURES / "app_event" / "valid").glob("*.json").__next__().read_text())
    payload = json.dumps({**base, "properties": {"deep": nested}}).encode()
    _, [letter], _ = check(Stream.APP_EVENTS, [payload])
    assert letter["kind"] == "out_of_range" and "nests deeper" in letter["reason"]


# ---- the property test: arbitrary input through the real validate -> store path ----

TEXTS = [s.text for s in load_eval_set()]
_ID = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,20}\Z")
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**65), 2**65)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=30,
)


def _time() -> st.SearchStrategy[str]:
    return st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + "Z") | st.sampled_from(
        ["2026-11-04T10:00:00Z", "2099-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]
    )


def _value(prop: dict) -> st.SearchStrategy:
    if "oneOf" in prop:
        return st.one_of([_value(b) for b in prop["oneOf"]])
    if "const" in prop:
        return st.just(prop["const"])
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    kind = prop.get("type")
    if kind == "null":
        return st.none()
    if kind == "string":
        if prop.get("format") == "date-time":
            return _time()
        if "pattern" in prop:
            return _ID if "A-Za-z0-9]" in prop["pattern"] else st.just("phone:" + "0" * 32)
        size = min(prop.get("maxLength", 200), 200)
        return st.text(min_size=prop.get("minLength", 0), max_size=size) | st.sampled_from(TEXTS)
    if kind == "integer":
        low = prop.get("minimum", -(2**65))
        return st.integers(low, prop.get("maximum", 2**65))
    if kind == "number":
        return st.floats(prop.get("minimum"), prop.get("maximum"), allow_nan=False) | st.integers(
            0, 2**70
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_value(prop["items"]), max_size=4)
    if kind == "object":
        return st.dictionaries(st.text(max_size=8), _JSON, max_size=4)
    raise AssertionError(prop)


def records(stream: Stream) -> st.SearchStrategy[bytes]:
    """Objects with the stream's fields, values drawn from each field's schema
    (plus out-of-range integers, far times, PII texts): most are schema-valid,
    some are not, which is the point."""
    props = load_schema(stream.schema_name)["properties"]
    fields = {name: _value(prop) for name, prop in props.items()}
    return st.fixed_dictionaries(fields).map(lambda r: json.dumps(r, ensure_ascii=False).encode())


@pytest.mark.parametrize("stream", INPUT_STREAMS, ids=str)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_arbitrary_input_is_stored_or_dead_lettered_and_counts_add_up(stream, data):
    # GIVEN a batch of arbitrary bytes and arbitrary records of the stream
    payloads = data.draw(st.lists(st.binary(max_size=200) | records(stream), max_size=12))
    stamps = data.draw(
        st.lists(
            st.just(BROKER_MS) | st.integers(-1, 2**42),
            min_size=len(payloads),
            max_size=len(payloads),
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        # WHEN the edge checks it, the job's raw-store sink writes both outputs
        # as one range, and the launcher loads the store into DuckDB
        rows, dead, kept = check(stream, payloads, stamps)
        assert split_storable(str(stream), rows, kept)[2] == []  # no row left for the safety net
        sink = StoreRangeFn(tmp)
        sink.setup()
        batch = StoreBatch(str(stream), "voc.test/0/", 0, len(payloads), rows, kept, dead)
        list(sink.process(batch))
        con = open_warehouse(Path(tmp) / "wh.duckdb")
        try:
            load_store(con, RawStore(tmp))
            stored = con.execute(f"SELECT count(*) FROM raw.{stream}").fetchone()[0]
            stored_dead = con.execute("SELECT count(*) FROM raw.dead_letters").fetchone()[0]
        finally:
            con.close()
    # THEN every input is one or the other, and the tables hold exactly them:
    # one row per event id, the dead letters, and one conflict dead letter per
    # other version of an event id
    assert len(rows) + len(dead) == len(payloads)
    ids = {r["event_id"] for r in rows}
    versions = {(r["event_id"], orjson.dumps(r, option=orjson.OPT_SORT_KEYS)) for r in rows}
    assert stored == len(ids)
    assert stored_dead == len(dead) + len(versions) - len(ids)
    for letter in dead:
        assert validator("dead_letter").is_valid(letter), letter
        assert not letter["reason"].startswith("unexpected error"), letter["reason"]
        assert find_pii(letter["raw_text"]) == []
    for row in rows:
        assert validator(stream.schema_name).is_valid(row)
