"""Options for the TestStream tests of the pipeline's stages."""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions


def streaming() -> PipelineOptions:
    """Streaming on the runner that runs a TestStream, by name: Beam's
    DirectRunner may try Prism first (a download at run time, DECISIONLOG
    "Kafka delivery"); the FnApiRunner of file runs rejects a TestStream
    (NotImplementedError), and our own Prism failed the stitching test's
    ("nothing in progress and no refreshes with non zero pending elements")."""
    opts = PipelineOptions(runner="BundleBasedDirectRunner")
    opts.view_as(StandardOptions).streaming = True
    return opts
