"""`voc eval tagging` and `voc eval split` on small CSVs: the JSON summary, the
out-of-scope definition, clear errors, and a deterministic stratified split."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from voc.cli import main
from voc.evaluation.tagging import evaluate_tagging, score_predictions

IN_SCOPE = {
    "refund": ["where is my refund", "refund not received", "退款还没到账", "我的退款呢"],
    "lost_parcel": ["my parcel is lost", "package never arrived", "快递丢了", "包裹一直没收到"],
    "login": ["cannot log in", "password rejected at login", "登录不上", "密码错误无法登录"],
}
# a label the model never sees in training: the right answer is to abstain
OUT_OF_SCOPE = ["zxqv wblorp kkj", "ppfft qqrr zzzz", "🙂🙂🙂", "vlxx mmqq hhjj"]
EXTRA = ["", " please", " again", " 谢谢", " now", " 急"]


def write_csv(path: Path, rows: list[tuple[str, str]], text_col="text", label_col="category"):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([text_col, label_col])
        writer.writerows(rows)
    return path


def labelled_rows(n_each: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [
        (rng.choice(phrases) + rng.choice(EXTRA), label)
        for label, phrases in IN_SCOPE.items()
        for _ in range(n_each)
    ]


@pytest.fixture
def csvs(tmp_path):
    train = write_csv(tmp_path / "train.csv", labelled_rows(50, seed=1))
    test_rows = labelled_rows(6, seed=2) + [(t, "weather") for t in OUT_OF_SCOPE]
    test = write_csv(tmp_path / "test.csv", test_rows)
    return train, test


def test_eval_tagging_json_summary_counts_an_unseen_label_as_out_of_scope(csvs):
    # GIVEN a training CSV and a test CSV with one label the training data lacks
    train, test = csvs
    # WHEN the CLI evaluates with --json
    result = CliRunner().invoke(
        main, ["eval", "tagging", "--train", str(train), "--test", str(test), "--json"]
    )
    # THEN the last stdout line is the summary, with out-of-scope recall measured
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("accuracy", "macro_f1", "oos_recall", "coverage", "texts_per_s", "n_test"):
        assert key in summary
    assert summary["n_test"] == 18 + len(OUT_OF_SCOPE)
    assert summary["n_out_of_scope"] == len(OUT_OF_SCOPE)
    assert summary["oos_recall"] is not None and summary["oos_recall"] >= 0.75
    assert summary["accuracy"] >= 0.8
    assert summary["texts_per_s"] > 0


def test_eval_tagging_reads_other_column_names_and_saves_the_model(tmp_path):
    rows = labelled_rows(40, seed=3)
    train = write_csv(tmp_path / "tr.csv", rows, "review", "cat")
    test = write_csv(tmp_path / "te.csv", labelled_rows(4, seed=4), "review", "cat")
    model = tmp_path / "model.npz"
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "tagging",
            "--train",
            str(train),
            "--test",
            str(test),
            "--text-col",
            "review",
            "--label-col",
            "cat",
            "--save-model",
            str(model),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["oos_recall"] is None  # nothing out of scope here
    assert model.is_file()


def test_eval_tagging_reports_a_missing_file_and_a_missing_column(csvs, tmp_path):
    train, test = csvs
    runner = CliRunner()
    missing = runner.invoke(
        main, ["eval", "tagging", "--train", str(tmp_path / "nope.csv"), "--test", str(test)]
    )
    assert missing.exit_code == 1
    assert "nope.csv" in missing.output and "not found" in missing.output
    no_column = runner.invoke(
        main, ["eval", "tagging", "--train", str(train), "--test", str(test), "--text-col", "body"]
    )
    assert no_column.exit_code == 1
    assert "'body'" in no_column.output
    assert "Traceback" not in no_column.output


def test_catalog_labels_define_scope(tmp_path):
    # GIVEN training labels of which only two are catalog scenario ids
    from voc.catalog import load_catalog

    ids = [s.id for s in load_catalog().scenarios[:2]]
    to_catalog = {"refund": ids[0], "login": ids[1]}  # lost_parcel stays outside

    def relabel(rows):
        return [(text, to_catalog.get(label, label)) for text, label in rows]

    train = write_csv(tmp_path / "train.csv", relabel(labelled_rows(30, seed=5)))
    test = write_csv(tmp_path / "test.csv", relabel(labelled_rows(4, seed=6)))
    # WHEN evaluated against the default catalog
    from voc.paths import DEFAULT_CATALOG

    report = evaluate_tagging(train, test, catalog=DEFAULT_CATALOG)
    # THEN the non-catalog label is out of scope, and the model never learned it
    assert report["labels"] == 2
    assert report["n_out_of_scope"] == 4
    assert report["oos_recall"] is not None


def test_scores_count_abstentions_as_wrong_in_scope_and_right_out_of_scope():
    import numpy as np

    report = score_predictions(
        ("a", "b"),
        ["a", "a", "b", "zzz"],
        ["a", None, "b", None],
        np.array([0.9, 0.1, 0.8, 0.2]),
    )
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert report["coverage"] == pytest.approx(2 / 3)
    assert report["oos_recall"] == 1.0
    assert report["accuracy_answered"] == 1.0


def test_split_is_stratified_and_deterministic(tmp_path):
    rows = [(f"text {i}", "big" if i % 4 else "small") for i in range(200)]
    source = write_csv(tmp_path / "all.csv", rows, "review", "cat")
    runner = CliRunner()
    outputs = []
    for run in ("one", "two"):
        result = runner.invoke(
            main,
            [
                "eval",
                "split",
                "--input",
                str(source),
                "--out-dir",
                str(tmp_path / run),
                "--test-share",
                "0.2",
                "--seed",
                "42",
                "--label-col",
                "cat",
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {
            "out_dir": str(tmp_path / run),
            "train": 160,
            "test": 40,
        }
        outputs.append((tmp_path / run / "test.csv").read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    test_rows = list(csv.DictReader(outputs[0].splitlines()))
    assert sum(r["cat"] == "small" for r in test_rows) == 10  # 50 small x 0.2


def test_split_reports_an_unknown_label_column(tmp_path):
    source = write_csv(tmp_path / "all.csv", [("a", "x"), ("b", "y")])
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "split",
            "--input",
            str(source),
            "--out-dir",
            str(tmp_path / "o"),
            "--label-col",
            "cat",
        ],
    )
    assert result.exit_code == 1
    assert "'cat'" in result.output


def test_operating_points_trade_coverage_for_out_of_scope_recall(csvs):
    # GIVEN a model evaluated on a test set with an unseen label
    train, test = csvs
    report = evaluate_tagging(train, test)
    points = report["operating_points"]
    # THEN each threshold was chosen on validation: a lower validation coverage
    # never lowers the threshold, never answers more, never abstains on less
    assert [p["validation_coverage"] for p in points] == [0.99, 0.95, 0.90, 0.85]
    for higher, lower in zip(points, points[1:], strict=False):
        assert lower["threshold"] >= higher["threshold"]
        assert lower["coverage"] <= higher["coverage"]
        assert lower["oos_recall"] >= higher["oos_recall"]
    # AND the default threshold (95 % validation coverage) is the 95 % point
    default = next(p for p in points if p["validation_coverage"] == 0.95)
    assert default["threshold"] == report["abstain_threshold"]
    for key in ("accuracy", "coverage", "oos_recall"):
        assert default[key] == report[key]


def test_eval_tagging_target_oos_recall_reports_the_validation_estimate(csvs):
    # GIVEN the CLI asked for an out-of-scope recall instead of a coverage
    train, test = csvs
    result = CliRunner().invoke(
        main,
        ["eval", "tagging", "--train", str(train), "--test", str(test)]
        + ["--target-oos-recall", "0.6", "--json"],
    )
    # THEN the summary carries the estimate made on the validation split
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert 0.0 <= summary["validation"]["oos_recall"] <= 1.0
    assert summary["validation"]["oos_n"] > 0
    assert "out-of-scope recall, validation estimate" in result.output
