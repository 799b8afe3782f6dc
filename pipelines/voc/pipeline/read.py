"""ReadStreamFiles: the file source of the embedded mode."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam

from voc.contracts.streams import INPUT_STREAMS
from voc.pipeline.elements import RawRecord


class ReadLinesFn(beam.DoFn):
    """(stream, path) -> RawRecord per line, bytes untouched (a bad line is the
    validator's business, not the reader's)."""

    def process(self, element: tuple[str, str]):
        stream, path = element
        name = Path(path).name
        with open(path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                payload = line.rstrip(b"\r\n")
                if payload.strip():
                    yield RawRecord(stream, f"{name}:{lineno}", payload)


class ReadStreamFiles(beam.PTransform):
    """Reads `<stream>.jsonl` for each input stream present in `input_dir`.

    Emits: RawRecord (global window, no event time yet: ValidateEvents sets it).
    """

    def __init__(self, input_dir: str) -> None:
        super().__init__()
        self.input_dir = input_dir

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
            # Each file is read by one worker; reshuffle so lines spread out.
            | "ReadLines" >> beam.ParDo(ReadLinesFn())
            | "Spread" >> beam.Reshuffle()
        )
