"""`voc run --source kafka` for the delivery tests, optionally with a Reshuffle
between validation and the raw-store sinks: fusion broken, so the runner may
finalise a reading bundle's checkpoint before its records are stored.

    python -m tests.kafka.run_job --reshuffle <voc run --source kafka options>
"""

from __future__ import annotations

import sys

import apache_beam as beam
import click

from voc.commands import run as run_command


def main() -> None:
    args = sys.argv[1:]
    reshuffle = "--reshuffle" in args
    args = [a for a in args if a != "--reshuffle"]
    if reshuffle:
        original = run_command.run_kafka_pipeline

        def with_reshuffle(*a, **kw):
            return original(*a, **kw, before_store=beam.Reshuffle())

        run_command.run_kafka_pipeline = with_reshuffle
    cmd: click.Command = run_command.run
    cmd.main(["--source", "kafka", *args], standalone_mode=True)


if __name__ == "__main__":
    main()
