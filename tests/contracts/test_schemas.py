"""The schemas and their example files: every valid example passes, every
invalid one becomes a dead letter with a reason and its exact raw bytes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jsonschema_rs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voc.contracts.streams import INPUT_STREAMS, OUTPUT_SCHEMAS, Stream
from voc.contracts.validate import DeadLetter, load_schema, validate_record, validator
from voc.paths import SCHEMAS_DIR

FIXTURES = Path(__file__).parents[1] / "fixtures"
STREAM_OF = {s.schema_name: s for s in INPUT_STREAMS}
ALL_SCHEMAS = [s.schema_name for s in INPUT_STREAMS] + list(OUTPUT_SCHEMAS)


def examples(kind: str) -> list[tuple[str, Path]]:
    return [
        (schema, path)
        for schema in ALL_SCHEMAS
        for path in sorted((FIXTURES / schema / kind).glob("*.json"))
    ]


def test_every_schema_has_valid_and_invalid_examples():
    for schema in ALL_SCHEMAS:
        assert list((FIXTURES / schema / "valid").glob("*.json")), schema
        assert list((FIXTURES / schema / "invalid").glob("*.json")), schema


@pytest.mark.parametrize("path", sorted(SCHEMAS_DIR.glob("*.schema.json")), ids=lambda p: p.name)
def test_schema_files_are_valid_2020_12(path):
    schema = orjson.loads(path.read_bytes())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema_rs.meta.validate(schema)


@pytest.mark.parametrize(("schema", "path"), examples("valid"), ids=lambda x: getattr(x, "stem", x))
def test_valid_example_passes(schema, path):
    raw = path.read_bytes()
    if schema in STREAM_OF:
        result = validate_record(STREAM_OF[schema], raw, path.name)
        assert not isinstance(result, DeadLetter), result
        assert result["event_id"]
    else:
        assert validator(schema).is_valid(orjson.loads(raw))


@pytest.mark.parametrize(
    ("schema", "path"), examples("invalid"), ids=lambda x: getattr(x, "stem", x)
)
def test_invalid_example_is_rejected_with_reason_and_raw_bytes(schema, path):
    raw = path.read_bytes()
    if schema not in STREAM_OF:
        assert not validator(schema).is_valid(orjson.loads(raw))
        return
    # WHEN the validator sees the bad record
    result = validate_record(STREAM_OF[schema], raw, f"{path.name}:1")
    # THEN it is a dead letter that keeps the exact bytes and says why
    assert isinstance(result, DeadLetter)
    assert result.reason
    assert base64.b64decode(result.raw_b64) == raw
    assert result.stream == str(STREAM_OF[schema])
    assert validator("dead_letter").is_valid(result.to_dict())


def test_dead_letter_id_is_stable_and_depends_on_position():
    a = validate_record(Stream.CALLS, b"{oops", "calls.jsonl:3")
    b = validate_record(Stream.CALLS, b"{oops", "calls.jsonl:3")
    c = validate_record(Stream.CALLS, b"{oops", "calls.jsonl:4")
    assert a.dead_letter_id == b.dead_letter_id != c.dead_letter_id


@given(st.binary(max_size=300))
def test_validator_never_raises_on_arbitrary_bytes(raw):
    for stream in INPUT_STREAMS:
        result = validate_record(stream, raw, "fuzz:1")
        assert isinstance(result, (dict, DeadLetter))


@given(
    st.dictionaries(
        st.sampled_from(list(load_schema("call")["properties"])),
        st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.text(max_size=5))),
    )
)
def test_validator_sorts_out_arbitrary_call_shaped_objects(record):
    # GIVEN an object with call fields holding arbitrary values
    raw = json.dumps(record).encode()
    result = validate_record(Stream.CALLS, raw, "fuzz:1")
    # THEN it is either schema-valid or a dead letter; never an exception
    if isinstance(result, dict):
        assert validator("call").is_valid(result)
    else:
        assert result.reason.startswith(("schema violation", "invalid"))


@given(st.integers(0, 4_102_444_800 * 1_000_000))
def test_event_time_micros_round_trip_exactly(us):
    from voc.contracts.validate import from_micros, to_micros

    assert to_micros(from_micros(us)) == us
