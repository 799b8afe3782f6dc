"""Parse and validate one raw input record against its stream's JSON Schema.

Pure (no Beam): returns the parsed record or a DeadLetter with the reason and
the exact raw bytes, so the pipeline can route it and never drop it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

import jsonschema_rs
import orjson

from voc.contracts.streams import SCHEMA_VERSION, Stream
from voc.paths import SCHEMAS_DIR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input record that could not be accepted (schemas/dead_letter.schema.json).

    It keeps the record's place (`source`: file:line or topic/partition/offset),
    the size and SHA-256 of its exact bytes, and an excerpt of at most
    `EdgeRules.max_excerpt_bytes` with personal data masked: enough to find the
    original and see what is wrong, never so big that the dead letter itself
    cannot be stored or published, and never a phone number in clear."""

    dead_letter_id: str
    stream: str
    source: str
    kind: str
    reason: str
    raw_text: str
    raw_b64: str
    raw_size_bytes: int
    raw_sha256: str
    is_truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, **dataclasses.asdict(self)}


# What a dead letter's `kind` says (DECISIONLOG.md "Dead letters").
DEAD_LETTER_KINDS = (
    "oversized",  # payload over --max_record_bytes
    "invalid_utf8",
    "invalid_json",
    "schema",  # JSON that breaks its stream's schema
    "out_of_range",  # schema-valid, but the warehouse cannot hold it
    "event_time",  # older than the horizon, or ahead of the reference time
    "conflict",  # an event_id stored before with other content (voc.warehouse.load)
    "invalid",  # anything else (converters, tools)
)
MAX_REASON_CHARS = 600


def dead_letter(
    stream: str,
    source: str,
    reason: str,
    raw: bytes,
    *,
    kind: str = "invalid",
    max_excerpt_bytes: int | None = None,
) -> DeadLetter:
    # The id hashes what identifies the record, not when we saw it: a re-run
    # of the same input yields the same id and the idempotent sink keeps one row.
    from voc.privacy.mask import redact, redact_bytes

    digest = hashlib.blake2b(f"{stream}\x00{source}\x00".encode() + raw, digest_size=16)
    limit = DEFAULT_RULES.max_excerpt_bytes if max_excerpt_bytes is None else max_excerpt_bytes
    excerpt = redact_bytes(raw[: limit + 64])[:limit]  # +64: a token may shorten a number
    reason = redact(reason)
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return DeadLetter(
        dead_letter_id=f"dl-{digest.hexdigest()}",
        stream=stream,
        source=source,
        kind=kind,
        reason=reason,
        raw_text=excerpt.decode("utf-8", errors="replace"),
        raw_b64=base64.b64encode(excerpt).decode("ascii"),
        raw_size_bytes=len(raw),
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        is_truncated=len(raw) > limit,
    )


@dataclass(frozen=True, slots=True)
class EdgeRules:
    """What the edge accepts besides the schema (DECISIONLOG.md "Dead letters",
    "Time"). Plain values: the pipeline options build one and pass it down."""

    max_record_bytes: int = 256 * 1024
    max_excerpt_bytes: int = 2048
    max_depth: int = 16  # nesting of objects/arrays inside a record
    max_string_chars: int = 20_000  # any string, free-form properties included
    event_horizon_s: int = 30 * 365 * 86400  # how far before the reference time
    event_skew_s: int = 86400  # how far after it


DEFAULT_RULES = EdgeRules()
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def validator(name: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(load_schema(name), validate_formats=True)


def parse_time(value: str) -> datetime:
    """Parse a schema-valid UTC timestamp (`...Z`; Python >= 3.11 reads the Z)."""
    return datetime.fromisoformat(value).astimezone(UTC)


def to_micros(value: str) -> int:
    """A schema-valid UTC timestamp as microseconds since the epoch (exact: no float).
    On the hot path (every record), hence timedelta arithmetic, not .timestamp()."""
    return (datetime.fromisoformat(value) - _EPOCH) // _MICROSECOND


def from_micros(us: int) -> str:
    """The inverse of `to_micros`, exact (integer arithmetic, no float seconds)."""
    return format_time(_EPOCH + timedelta(microseconds=us))


def format_time(value: datetime) -> str:
    """UTC `...Z`, with microseconds only when there are any."""
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.astimezone(UTC).strftime(fmt)


def validate_record(
    stream: Stream,
    raw: bytes,
    source: str,
    rules: EdgeRules = DEFAULT_RULES,
    reference_us: int | None = None,
) -> dict[str, Any] | DeadLetter:
    """Return the parsed record, or a DeadLetter saying exactly what is wrong."""
    result = parse_payload(stream, raw, rules, reference_us)
    if isinstance(result, Rejected):
        return dead_letter(
            str(stream),
            source,
            result.reason,
            raw,
            kind=result.kind,
            max_excerpt_bytes=rules.max_excerpt_bytes,
        )
    return result


class Rejected(NamedTuple):
    """Why a payload is not a valid record of its stream."""

    reason: str
    kind: str = "invalid"


def parse_payload(
    stream: Stream,
    raw: bytes,
    rules: EdgeRules = DEFAULT_RULES,
    reference_us: int | None = None,
    reference_name: str = "the broker time",
) -> dict[str, Any] | Rejected:
    """The parsed record, or why it was rejected. The batch validator calls this
    and builds the record's source (and the dead letter) only when rejected.

    Checked once, here, in this order: size, UTF-8, JSON, the stream's schema,
    what the warehouse can hold (64-bit integers, string length, nesting), and,
    when a reference time is given (the Kafka record timestamp; for files the
    run's reference time), that the event time is within
    [reference - horizon, reference + skew]."""
    if len(raw) > rules.max_record_bytes:
        return Rejected(
            f"record is {len(raw):,} bytes, over the limit of {rules.max_record_bytes:,} "
            "(--max_record_bytes)",
            "oversized",
        )
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return Rejected(
                f"invalid UTF-8 at byte {bad.start}: {raw[bad.start : bad.start + 4]!r}",
                "invalid_utf8",
            )
        return Rejected(f"invalid JSON: {exc}", "invalid_json")
    if not isinstance(record, dict):
        return Rejected("invalid record: expected a JSON object", "invalid_json")
    schema = validator(stream.schema_name)
    if not schema.is_valid(record):
        # Sorted so that the reason is the same on every run; each error's
        # message quotes the offending value, so it is cut short.
        reasons = sorted(
            f"{_path(e.instance_path)}: {_short(e.message)}" for e in schema.iter_errors(record)
        )
        more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
        return Rejected("schema violation: " + "; ".join(reasons[:3]) + more, "schema")
    problem = _out_of_range(record, _shape(stream.schema_name), rules)
    if problem:
        return Rejected(f"out of range for the warehouse: {problem}", "out_of_range")
    if reference_us is not None:
        problem = _event_time_problem(record["event_time"], reference_us, rules, reference_name)
        if problem:
            return Rejected(problem, "event_time")
    return record


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _path(parts: list[str | int]) -> str:
    return "/" + "/".join(str(p) for p in parts) if parts else "/"


class _Shape(NamedTuple):
    integers: tuple[str, ...]  # BIGINT columns
    objects: tuple[str, ...]  # JSON columns: any depth, any values
    numbers: tuple[str, ...]  # DOUBLE columns


@cache
def _shape(schema_name: str) -> _Shape:
    """Which top-level fields the warehouse stores as BIGINT, JSON or DOUBLE:
    the only ones a schema-valid value can overflow."""
    integers, objects, numbers = [], [], []
    for name, prop in load_schema(schema_name)["properties"].items():
        kinds = {b.get("type") for b in prop.get("oneOf", [prop])}
        if "integer" in kinds:
            integers.append(name)
        if "object" in kinds:
            objects.append(name)
        if "number" in kinds:
            numbers.append(name)
    return _Shape(tuple(integers), tuple(objects), tuple(numbers))


def _out_of_range(record: dict[str, Any], shape: _Shape, rules: EdgeRules) -> str | None:
    for name in shape.integers:
        value = record.get(name)
        if value is None:
            continue
        # orjson reads integers past 64 bits as floats, which the schema still
        # calls integers (1e19 has no fraction): both are out of BIGINT's range.
        if isinstance(value, float) or not BIGINT_MIN <= value <= BIGINT_MAX:
            return f"/{name} = {_number(value)} does not fit a 64-bit integer (BIGINT)"
    for name in shape.numbers:
        value = record.get(name)
        # An integer past 2^53 has no exact double (DOUBLE column): refused,
        # not rounded (found by the property test: 9007199254740993).
        if isinstance(value, int) and not -(2**53) <= value <= 2**53:
            return f"/{name} = {_number(value)} is not exactly representable as a double"
    for name in shape.objects:
        if name in record:
            problem = _check_nested(record[name], f"/{name}", 1, rules)
            if problem:
                return problem
    return None


def _number(value: int | float) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} digits)"


def _check_nested(value: Any, path: str, depth: int, rules: EdgeRules) -> str | None:
    if isinstance(value, dict | list):
        if depth > rules.max_depth:
            return f"{path} nests deeper than {rules.max_depth} levels"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > rules.max_string_chars:
                return f"{path} has a key of {len(key):,} characters"
            problem = _check_nested(item, f"{path}/{key}", depth + 1, rules)
            if problem:
                return problem
    elif isinstance(value, str):
        if len(value) > rules.max_string_chars:
            return f"{path} is {len(value):,} characters, over {rules.max_string_chars:,}"
    elif isinstance(value, int) and not BIGINT_MIN <= value <= BIGINT_MAX:
        return f"{path} = {_number(value)} does not fit a 64-bit integer"
    return None


_YEAR_S = 365.25 * 86400


def _event_time_problem(
    event_time: str, reference_us: int, rules: EdgeRules, reference_name: str
) -> str | None:
    event_us = to_micros(event_time)
    ahead_s = (event_us - reference_us) / 1e6
    if ahead_s > rules.event_skew_s:
        return (
            f"event time {event_time} is {_span(ahead_s)} ahead of {reference_name} "
            f"{from_micros(reference_us)} (allowed: {_span(rules.event_skew_s)}, "
            "--event_skew_s)"
        )
    if -ahead_s > rules.event_horizon_s:
        return (
            f"event time {event_time} is {_span(-ahead_s)} older than {reference_name} "
            f"{from_micros(reference_us)} (horizon: {_span(rules.event_horizon_s)}, "
            "--event_horizon_s)"
        )
    return None


def _span(seconds: float) -> str:
    for unit, size in (("years", _YEAR_S), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size or (unit == "minutes" and seconds >= size):
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} seconds"
