"""`voc simulate` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from voc.cli import main


def test_cli_writes_files_and_prints_json_summary_last(tmp_path: Path) -> None:
    # GIVEN an output directory
    out = tmp_path / "sim"
    # WHEN `voc simulate --days 2 --seed 1 --out DIR --json` runs
    result = CliRunner().invoke(
        main, ["simulate", "--days", "2", "--seed", "1", "--out", str(out), "--json"]
    )
    # THEN it succeeds, its last stdout line is the JSON summary, and the files exist
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["incidents"] == 7  # one of each kind of break on day 2
    assert summary["events"]["app_events"] > 1000
    assert summary["out_dir"] == str(out)
    for name in (
        "calls.jsonl",
        "ticket_events.jsonl",
        "app_events.jsonl",
        "social_posts.jsonl",
        "manifest.json",
        "ground_truth/contacts.jsonl",
    ):
        assert (out / name).is_file(), name
    assert "journeys" in result.stderr  # progress goes to stderr


def test_cli_help_explains_the_outputs() -> None:
    # GIVEN / WHEN asking for help
    result = CliRunner().invoke(main, ["simulate", "--help"])
    # THEN the options and outputs are described
    assert result.exit_code == 0
    for word in ("--days", "--seed", "--out", "--scale", "--catalog", "--json", "ground_truth"):
        assert word in result.output


def test_cli_rejects_a_missing_catalog(tmp_path: Path) -> None:
    # GIVEN a catalog path that does not exist
    # WHEN simulate is asked to use it
    result = CliRunner().invoke(
        main, ["simulate", "--out", str(tmp_path / "x"), "--catalog", str(tmp_path / "nope.yaml")]
    )
    # THEN it fails with a usage error, not a traceback
    assert result.exit_code == 2
    assert "nope.yaml" in result.output
