from __future__ import annotations

import json

from click.testing import CliRunner

from voc.cli import main


def test_stats_json_has_the_promised_keys():
    result = CliRunner().invoke(main, ["catalog", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output.strip().splitlines()[-1])
    assert {"scenarios", "domains", "stages", "with_zh", "with_en"} <= set(stats)
    assert stats["domains"] == 4
    assert stats["with_zh"] == stats["with_en"] == stats["scenarios"]


def test_validate_reports_problems_and_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("catalog_version: 1\nscenarios: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["catalog", "validate", str(bad)])
    assert result.exit_code == 1
    assert "problem" in result.output


def test_import_writes_a_catalog_that_validates(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("scenario_id,name,keywords\ncard_arrival,Card arrival,card not arrived\n")
    out = tmp_path / "cat.yaml"
    runner = CliRunner()
    assert runner.invoke(main, ["catalog", "import", str(src), "--out", str(out)]).exit_code == 0
    assert runner.invoke(main, ["catalog", "validate", str(out)]).exit_code == 0


def test_import_with_bad_rows_writes_nothing(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("scenario_id,name\n,missing id\n")
    out = tmp_path / "cat.yaml"
    result = CliRunner().invoke(main, ["catalog", "import", str(src), "--out", str(out)])
    assert result.exit_code == 1
    assert "in.csv:2" in result.output
    assert not out.exists()


def test_every_subcommand_has_help():
    runner = CliRunner()
    for args in (
        ["--help"],
        ["demo", "--help"],
        ["run", "--help"],
        ["build", "--help"],
        ["simulate", "--help"],
        ["catalog", "--help"],
        ["catalog", "import", "--help"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.output
