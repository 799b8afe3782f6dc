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
    """An input record that could not be accepted (schemas/dead_letter.schema.json)."""

    dead_letter_id: str
    stream: str
    source: str
    reason: str
    raw_text: str
    raw_b64: str

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, **dataclasses.asdict(self)}


def dead_letter(stream: str, source: str, reason: str, raw: bytes) -> DeadLetter:
    # The id hashes what identifies the record, not when we saw it: a re-run
    # of the same input yields the same id and the idempotent sink keeps one row.
    digest = hashlib.blake2b(f"{stream}\x00{source}\x00".encode() + raw, digest_size=16)
    return DeadLetter(
        dead_letter_id=f"dl-{digest.hexdigest()}",
        stream=stream,
        source=source,
        reason=reason,
        raw_text=raw.decode("utf-8", errors="replace"),
        raw_b64=base64.b64encode(raw).decode("ascii"),
    )


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


def validate_record(stream: Stream, raw: bytes, source: str) -> dict[str, Any] | DeadLetter:
    """Return the parsed record, or a DeadLetter saying exactly what is wrong."""
    result = parse_payload(stream, raw)
    if isinstance(result, Rejected):
        return dead_letter(str(stream), source, result.reason, raw)
    return result


class Rejected(NamedTuple):
    """Why a payload is not a valid record of its stream."""

    reason: str


def parse_payload(stream: Stream, raw: bytes) -> dict[str, Any] | Rejected:
    """The parsed record, or why it was rejected. The batch validator calls this
    and builds the record's source (and the dead letter) only when rejected."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Rejected(f"invalid JSON: {exc}")
    if not isinstance(record, dict):
        return Rejected("invalid record: expected a JSON object")
    schema = validator(stream.schema_name)
    if schema.is_valid(record):  # the common case, without building error objects
        return record
    # Sorted so that the reason is the same on every run.
    reasons = sorted(f"{_path(e.instance_path)}: {e.message}" for e in schema.iter_errors(record))
    more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
    return Rejected("schema violation: " + "; ".join(reasons[:3]) + more)


def _path(parts: list[str | int]) -> str:
    return "/" + "/".join(str(p) for p in parts) if parts else "/"
