"""The one PipelineOptions subclass. Parsed once; plain values go to constructors."""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

from voc.paths import DEFAULT_CATALOG


class VocOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument("--input_dir", help="Folder of <stream>.jsonl files (file source).")
        parser.add_argument("--warehouse", required=False, help="DuckDB warehouse file.")
        parser.add_argument(
            "--raw_store",
            default=None,
            help="Folder of the raw store (Parquet files every worker appends to); "
            "default: <warehouse stem>.raw beside the warehouse.",
        )
        parser.add_argument(
            "--catalog", default=str(DEFAULT_CATALOG), help="Scenario catalog YAML."
        )
        parser.add_argument(
            "--tag_model", default=None, help="Optional trained text model for the tagger."
        )
        parser.add_argument(
            "--tag_labels",
            default=None,
            help="Optional overlay of analyst-labelled examples (voc label) for the tagger.",
        )
        parser.add_argument("--window_s", type=int, default=3600, help="Detection window, s.")
        parser.add_argument(
            "--allowed_lateness_s",
            type=int,
            default=0,
            help="How late a contact may be and still count in its detection window, s.",
        )
        parser.add_argument(
            "--lookback_s", type=int, default=86400, help="Journey events kept before a contact, s."
        )
        parser.add_argument("--recent_n", type=int, default=5, help="Recent journey events kept.")
        parser.add_argument(
            "--detect_origin_s",
            type=int,
            default=None,
            help="When the streams started (epoch s): keys first seen later have quiet "
            "history since then. Files: the earliest event time at their head.",
        )
        parser.add_argument(
            "--shards",
            type=int,
            default=4,
            help="State buckets of the stitching and detection stages: more spread "
            "across workers, fewer fire fewer timers.",
        )
        parser.add_argument(
            "--batch_size",
            type=int,
            default=1000,
            help="Lines per file chunk; max alerts per sink batch.",
        )
        # The edge (DECISIONLOG.md "Dead letters", "Time", "Privacy").
        parser.add_argument(
            "--max_record_bytes",
            type=int,
            default=256 * 1024,
            help="A record larger than this is a dead letter (kind oversized).",
        )
        parser.add_argument(
            "--max_excerpt_bytes",
            type=int,
            default=2048,
            help="Bytes of a rejected record kept in its dead letter (masked).",
        )
        parser.add_argument(
            "--event_horizon_s",
            type=int,
            default=30 * 365 * 86400,
            help="An event time older than the reference time by more than this is a "
            "dead letter (kind event_time), s.",
        )
        parser.add_argument(
            "--event_skew_s",
            type=int,
            default=86400,
            help="An event time later than the reference time by more than this is a "
            "dead letter (kind event_time), s.",
        )
        parser.add_argument(
            "--reference_time",
            default=None,
            help="Files: the time event times are bounded against (UTC ISO-8601, ...Z); "
            "default: when the run starts. Kafka: each record's own timestamp.",
        )
        parser.add_argument(
            "--pii_key",
            default=None,
            help="Hex key of the HMAC that hashes masked phones and emails (pii_keys); "
            "the CLI reads it from --pii-key-file, VOC_PII_KEY or a key file beside the "
            "warehouse.",
        )
        parser.add_argument(
            "--bind_host",
            default="127.0.0.1",
            help="Address the Prism job endpoint and the SDK worker pool listen on "
            "(default loopback only; 0.0.0.0 for every interface).",
        )


def raw_store_of(opts: VocOptions) -> str:
    """The raw store folder of a run: --raw_store, else beside the warehouse."""
    from voc.warehouse.store import store_path

    return opts.raw_store or str(store_path(opts.warehouse))
