"""Publish stream files to the project's Kafka topics.

Sources (see `open_source`):
- a folder written by `voc simulate --out DIR`: `<stream>.jsonl` per stream,
  interleaved in event-time order as a live system would emit them;
- one JSONL file of one stream (named `<stream>.jsonl` or given `stream=`);
- the real help-desk log (`fmt="helpdesk-csv"`) converted to ticket_event
  records by voc.kafka.helpdesk, or the real bank call-centre log
  (`fmt="callcenter-tsv"`) converted to call records by voc.kafka.callcenter;
  each converted record is validated and the ones that fail (and the rows the
  converter refused) are reported in `rejected`, never sent.

What is sent, per JSONL line: the value is the line's bytes exactly as in the
file (without its line break); malformed lines are sent too, because the
pipeline's edge validation dead-letters them and must see them. The key is
the record's customer_id (so a customer's journey stays in one partition, in
order), else its event_id, else none. The Kafka timestamp is the record's
event_time when it parses, else the time of sending. Blank lines are not
records and are skipped (counted).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import kafka.errors
import orjson
from kafka import KafkaProducer

from voc.contracts.streams import Stream
from voc.contracts.validate import DEFAULT_RULES, DeadLetter, validate_record
from voc.kafka import callcenter, helpdesk
from voc.kafka.clients import CLIENT_ID, BrokerUnavailable, admin_client, short_timeouts
from voc.kafka.topics import topic_for

FORMATS = ("jsonl", "helpdesk-csv", "callcenter-tsv")


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    topic: str
    key: bytes | None
    value: bytes
    timestamp_ms: int | None  # event time; None: the producer stamps the send time


@dataclass(slots=True)
class RecordSource:
    """Records to send, how many there will be (for a progress bar) and what was
    left out on the way: blank lines, and converted records that failed validation."""

    records: Iterator[OutgoingRecord]
    total: int
    files: list[tuple[Path, Stream]]
    rejected: list[DeadLetter] = field(default_factory=list)
    blank_lines: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class ProduceReport:
    produced: int
    per_topic: dict[str, int]
    seconds: float
    events_per_s: float
    failed: int
    rejected: int
    blank_lines_skipped: int
    errors: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "produced": self.produced,
            "per_topic": dict(sorted(self.per_topic.items())),
            "seconds": self.seconds,
            "events_per_s": self.events_per_s,
            "failed": self.failed,
            "rejected": self.rejected,
            "blank_lines_skipped": self.blank_lines_skipped,
            "errors": list(self.errors),
        }


class TokenBucket:
    """At most `rate_per_s` tokens a second on average, bursts up to `burst`."""

    def __init__(
        self,
        rate_per_s: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate = rate_per_s
        # A tenth of a second's worth: smooth, yet few sleeps at high rates.
        self.capacity = burst if burst is not None else max(1.0, rate_per_s / 10)
        self._tokens = self.capacity
        self._clock, self._sleep = clock, sleep
        self._last = clock()

    def take(self, n: float = 1) -> None:
        while True:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            # The epsilon absorbs float rounding, which could otherwise leave a
            # hair's breadth of a token missing forever.
            if self._tokens >= n - 1e-9:
                self._tokens = max(0.0, self._tokens - n)
                return
            self._sleep((n - self._tokens) / self.rate)


# --- sources -----------------------------------------------------------------


def infer_stream(path: Path) -> Stream | None:
    """`calls.jsonl`, `calls-2024.jsonl`, `voc.calls.jsonl` -> calls."""
    stem = path.name.split(".jsonl")[0].removeprefix("voc.")
    for s in sorted(Stream, key=lambda s: -len(s.value)):
        if stem == s.value or (stem.startswith(s.value) and not stem[len(s.value)].isalnum()):
            return s
    return None


def open_source(
    path: Path, *, stream: Stream | str | None = None, fmt: str = "jsonl"
) -> RecordSource:
    """Plan what `path` (a folder, a JSONL file or the help-desk CSV) will send."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt in ("helpdesk-csv", "callcenter-tsv"):
        if path.is_dir():
            raise ValueError(f"--format {fmt} takes the log file, not a folder")
        if fmt == "helpdesk-csv":
            converted = helpdesk.convert(helpdesk.read_rows(path), source=str(path))
            return _converted_source(path, Stream.TICKET_EVENTS, converted)
        converted = callcenter.convert(callcenter.read_rows(path), source=str(path))
        return _converted_source(path, Stream.CALLS, converted)
    if path.is_dir():
        if stream is not None:
            raise ValueError("--stream applies to a single file, not a folder")
        files = [
            (path / f"{s.value}.jsonl", s) for s in Stream if (path / f"{s.value}.jsonl").exists()
        ]
        if not files:
            names = ", ".join(f"{s.value}.jsonl" for s in Stream)
            raise ValueError(f"{path} holds none of the stream files ({names})")
    elif path.is_file():
        s = Stream(stream) if stream is not None else infer_stream(path)
        if s is None:
            raise ValueError(
                f"cannot tell the stream of {path.name} from its name; pass --stream "
                f"({', '.join(x.value for x in Stream)})"
            )
        files = [(path, s)]
    else:
        raise ValueError(f"{path} does not exist")
    total = sum(_count_lines(f) for f, _ in files)
    source = RecordSource(records=iter(()), total=total, files=files)
    per_file = [_jsonl_records(f, s, source.blank_lines) for f, s in files]
    # Interleave the streams by event time (each file is in time order as the
    # simulator writes it); a line without a readable time sorts with the line
    # before it in its file.
    merged = heapq.merge(*per_file, key=lambda item: item[0])
    source.records = (record for _, _, record in merged)
    return source


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _jsonl_records(
    path: Path, stream: Stream, blank: Counter[str]
) -> Iterator[tuple[int, int, OutgoingRecord]]:
    topic = topic_for(stream)
    last_ms = -(2**62)
    with open(path, "rb") as fh:
        for line_no, line in enumerate(fh, start=1):
            value = line.rstrip(b"\r\n") if line.endswith(b"\n") else line
            if not value.strip():
                blank[str(path)] += 1
                continue
            key, ts_ms = _key_and_time(value)
            if ts_ms is not None and not _plausible(ts_ms):
                # An impossible event time (2099, 1970) is not the record's
                # timestamp: it would lift or sink the partition's watermark.
                # The stream's last good time stands in; the pipeline then
                # dead-letters the record against it (DECISIONLOG.md "Time").
                ts_ms = last_ms if last_ms > -(2**62) else None
            if ts_ms is not None:
                last_ms = ts_ms
            yield last_ms, line_no, OutgoingRecord(topic, key, value, ts_ms)


def _plausible(ts_ms: int) -> bool:
    """Within the pipeline's default event-time bounds around the wall clock."""
    now_ms = time.time() * 1000
    rules = DEFAULT_RULES
    return now_ms - rules.event_horizon_s * 1000 <= ts_ms <= now_ms + rules.event_skew_s * 1000


def _key_and_time(value: bytes) -> tuple[bytes | None, int | None]:
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(record, dict):
        return None, None
    key = None
    for name in ("customer_id", "event_id"):
        v = record.get(name)
        if isinstance(v, str) and v:
            key = v.encode()
            break
    return key, _event_time_ms(record.get("event_time"))


def _event_time_ms(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:  # not a UTC instant: no trustworthy timestamp
        return None
    ms = int(dt.timestamp() * 1000)
    return ms if ms >= 0 else None


def _converted_source(
    path: Path, stream: Stream, converted_records: Iterable[dict[str, Any] | DeadLetter]
) -> RecordSource:
    """A real log converted record by record (voc.kafka.helpdesk / callcenter):
    each converted record is validated; what fails is kept as a dead letter."""
    source = RecordSource(records=iter(()), total=0, files=[(path, stream)])
    topic = topic_for(stream)
    records: list[OutgoingRecord] = []
    for converted in converted_records:
        if isinstance(converted, DeadLetter):
            source.rejected.append(converted)
            continue
        value = orjson.dumps(converted)
        checked = validate_record(stream, value, source=str(path))
        if isinstance(checked, DeadLetter):
            source.rejected.append(checked)
            continue
        records.append(
            OutgoingRecord(
                topic,
                converted["customer_id"].encode(),
                value,
                _event_time_ms(converted["event_time"]),
            )
        )
    source.records, source.total = iter(records), len(records)
    return source


# --- sending -------------------------------------------------------------------


def produce(
    bootstrap: str,
    records: Iterable[OutgoingRecord],
    *,
    rate_per_s: float | None = None,
    on_progress: Callable[[int], None] | None = None,
    linger_ms: int = 20,
    timeout_s: float = 5,
) -> ProduceReport:
    """Send `records` (acks=all, batched by `linger_ms`), at most `rate_per_s` a
    second if given, else as fast as possible; flush; count what the broker took."""
    producer = _producer(bootstrap, linger_ms=linger_ms, timeout_s=timeout_s)
    bucket = TokenBucket(rate_per_s) if rate_per_s else None
    per_topic: Counter[str] = Counter()
    errors: list[str] = []
    failed = 0
    checked_topics: set[str] = set()

    def on_error(exc: BaseException) -> None:
        nonlocal failed
        failed += 1
        if len(errors) < 10:
            errors.append(f"{type(exc).__name__}: {exc}")

    t0 = time.monotonic()
    sent = 0
    try:
        for record in records:
            if record.topic not in checked_topics:
                _require_topic(bootstrap, record.topic, timeout_s)
                checked_topics.add(record.topic)
            if bucket is not None:
                bucket.take()
            future = producer.send(
                record.topic, value=record.value, key=record.key, timestamp_ms=record.timestamp_ms
            )
            future.add_errback(on_error)
            per_topic[record.topic] += 1
            sent += 1
            if on_progress is not None and sent % 500 == 0:
                on_progress(500)
        producer.flush(timeout=max(timeout_s, 60))
    finally:
        producer.close(timeout=timeout_s)
    if on_progress is not None and sent % 500:
        on_progress(sent % 500)
    seconds = time.monotonic() - t0
    produced = sent - failed
    return ProduceReport(
        produced=produced,
        per_topic=dict(per_topic),
        seconds=round(seconds, 3),
        events_per_s=round(produced / seconds, 1) if seconds > 0 else 0.0,
        failed=failed,
        rejected=0,
        blank_lines_skipped=0,
        errors=tuple(errors),
    )


def produce_path(
    bootstrap: str,
    path: Path,
    *,
    stream: Stream | str | None = None,
    fmt: str = "jsonl",
    rate_per_s: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ProduceReport:
    """`open_source` + `produce`, with the source's skipped and rejected counts."""
    source = open_source(path, stream=stream, fmt=fmt)
    report = produce(bootstrap, source.records, rate_per_s=rate_per_s, on_progress=on_progress)
    return with_source_counts(report, source)


def with_source_counts(report: ProduceReport, source: RecordSource) -> ProduceReport:
    rejected = tuple(f"rejected: {d.reason}" for d in itertools.islice(source.rejected, 10))
    return ProduceReport(
        produced=report.produced,
        per_topic=report.per_topic,
        seconds=report.seconds,
        events_per_s=report.events_per_s,
        failed=report.failed,
        rejected=len(source.rejected),
        blank_lines_skipped=sum(source.blank_lines.values()),
        errors=report.errors + rejected,
    )


def _producer(bootstrap: str, *, linger_ms: int, timeout_s: float) -> KafkaProducer:
    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=CLIENT_ID,
            acks="all",
            linger_ms=linger_ms,
            batch_size=256 * 1024,
            # A missing topic must fail fast, not block for the default minute.
            max_block_ms=int(timeout_s * 1000),
            **short_timeouts(timeout_s),
        )
    except (kafka.errors.KafkaTimeoutError, kafka.errors.KafkaConnectionError) as exc:
        raise BrokerUnavailable(f"no Kafka broker answered at {bootstrap}: {exc}") from None


def _require_topic(bootstrap: str, topic: str, timeout_s: float) -> None:
    with admin_client(bootstrap, timeout_s=timeout_s) as admin:
        if topic not in admin.list_topics():
            raise ValueError(
                f"topic {topic} does not exist on {bootstrap}; `voc kafka start` creates "
                "the project's topics (or call voc.kafka.topics.ensure_topics)"
            )
