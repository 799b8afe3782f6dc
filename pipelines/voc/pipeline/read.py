"""ReadStreamFiles: the file source of the embedded mode."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import orjson

from voc.contracts.streams import INPUT_STREAMS
from voc.contracts.validate import to_micros
from voc.pipeline.coders import RecordBatch
from voc.pipeline.elements import RawBatch


class ReadLinesFn(beam.DoFn):
    """(stream, path) -> RawBatch of up to `batch_size` lines, bytes
    untouched (a bad line is the validator's business, not the reader's)."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size

    def process(self, element: tuple[str, str]):
        stream, path = element
        prefix = f"{Path(path).name}:"
        positions: list[int] = []
        payloads: list[bytes] = []
        with open(path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                payload = line.rstrip(b"\r\n")
                if payload.strip():
                    positions.append(lineno)
                    payloads.append(payload)
                if len(payloads) >= self.batch_size:
                    yield RawBatch(stream, prefix, positions, payloads)
                    positions, payloads = [], []
        if payloads:
            yield RawBatch(stream, prefix, positions, payloads)


class ReadStreamFiles(beam.PTransform):
    """Reads `<stream>.jsonl` for each input stream present in `input_dir`.

    Emits: RawBatch (global window, no event time yet: ValidateEvents
    parses it).
    """

    def __init__(self, input_dir: str, batch_size: int = 1000) -> None:
        super().__init__()
        self.input_dir = input_dir
        self.batch_size = batch_size

    def expand(self, pbegin):
        files = [
            (str(s), str(Path(self.input_dir) / f"{s}.jsonl"))
            for s in INPUT_STREAMS
            if (Path(self.input_dir) / f"{s}.jsonl").exists()
        ]
        if not files:
            raise FileNotFoundError(
                f"no stream files in {self.input_dir}: expected one or more of "
                + ", ".join(f"{s}.jsonl" for s in INPUT_STREAMS)
                + " (write some with `voc simulate --out DIR`)"
            )
        return (
            pbegin
            | "ListFiles" >> beam.Create(files)
            | "ReadLines" >> beam.ParDo(ReadLinesFn(self.batch_size)).with_output_types(RecordBatch)
        )


def stream_start_s(input_dir: str, head_lines: int = 2000) -> int | None:
    """The earliest event time among the first lines of each stream file: the
    files are in event-time order give or take minutes, so the head says when
    the streams begin without reading them whole."""
    starts = []
    for stream in INPUT_STREAMS:
        path = Path(input_dir) / f"{stream}.jsonl"
        if not path.exists():
            continue
        with path.open("rb") as fh:
            for _, line in zip(range(head_lines), fh, strict=False):
                try:
                    starts.append(to_micros(orjson.loads(line)["event_time"]) // 1_000_000)
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    continue
    return min(starts) if starts else None
