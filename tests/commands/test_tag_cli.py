from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from voc.cli import main


def _write(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_tag_writes_one_row_per_input_with_the_tag_columns(tmp_path):
    # GIVEN an export with a post, a call transcript, an off-topic text and an empty one
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = [
        ["1", "快递太慢了，等了一个多星期还没送到"],
        ["2", "Agent: thanks for calling. Customer: my refund never arrived, it's been two weeks"],
        ["3", "酒店早餐不错，房间很干净"],
        ["4", ""],
    ]
    _write(src, ["id", "body"], rows)
    # WHEN it is tagged
    result = CliRunner().invoke(
        main,
        [
            "tag",
            "--input",
            str(src),
            "--out",
            str(out),
            "--text-col",
            "body",
            "--domain",
            "ecommerce",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    # THEN every input row is there once, with the input columns kept
    with open(out, encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert [r["id"] for r in got] == ["1", "2", "3", "4"]
    assert set(got[0]) >= {
        "id",
        "body",
        "scenario_id",
        "category",
        "stage",
        "confidence",
        "method",
        "evidence",
    }
    assert got[0]["scenario_id"] == "ecommerce.shipping.delivery_delay"
    assert got[0]["category"] == "ecommerce.shipping/delay"
    assert got[3]["method"] == "untagged" and got[3]["scenario_id"] == ""
    assert got[2]["method"] == "untagged"
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["rows"] == 4 and summary["tagged"] == sum(bool(r["scenario_id"]) for r in got)


def test_a_missing_text_column_is_a_clear_error(tmp_path):
    src = tmp_path / "in.csv"
    _write(src, ["id", "content"], [["1", "退款没到账"]])
    result = CliRunner().invoke(
        main, ["tag", "--input", str(src), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 1
    assert "no column(s) 'text'" in result.output and "'content'" in result.output
    assert not (tmp_path / "o.csv").exists()


def test_an_unknown_domain_is_refused(tmp_path):
    src = tmp_path / "in.csv"
    _write(src, ["text"], [["退款没到账"]])
    result = CliRunner().invoke(
        main, ["tag", "--input", str(src), "--out", str(tmp_path / "o.csv"), "--domain", "banking"]
    )
    assert result.exit_code == 1 and "unknown domain 'banking'" in result.output


def test_without_a_domain_every_domain_competes(tmp_path):
    # GIVEN a freight complaint in an export that names no domain
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write(src, ["text"], [["司机迟到了两个小时，货都耽误了"]])
    result = CliRunner().invoke(main, ["tag", "--input", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    # THEN a freight scenario can claim it
    assert row["scenario_id"].startswith("freight.")
