"""voc untagged -> CSV -> voc label -> the next run's tagger tags like the labels."""

from __future__ import annotations

import csv
import json

import duckdb
from click.testing import CliRunner

from voc.cli import main
from voc.learning.examples import overlay_path_for
from voc.paths import DEFAULT_CATALOG
from voc.tagging.base import TagContext
from voc.tagging.hybrid import build_tagger

FAKE = "express.delivery.fake_signature"
REFUND = "ecommerce.after_sale.refund_delay"


def _warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    rows = [
        (f"c{i:02d}", "express", f"客服：您好\n客户：快递显示已签收可是我没有收到第{i}件", "zh")
        for i in range(12)
    ]
    rows += [
        (f"r{i:02d}", "ecommerce", f"Customer: refund number {i} still not back after a week", "en")
        for i in range(12)
    ]
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE raw.contacts (contact_id VARCHAR PRIMARY KEY, domain VARCHAR, "
            "text VARCHAR, language VARCHAR, scenario_id VARCHAR)"
        )
        con.executemany("INSERT INTO raw.contacts VALUES (?, ?, ?, ?, NULL)", rows)
    return path


def test_csv_round_trip_labels_clusters_and_the_next_tagger_uses_them(tmp_path) -> None:
    # GIVEN a warehouse with untagged contacts about two problems
    warehouse = _warehouse(tmp_path)
    todo = tmp_path / "todo.csv"
    runner = CliRunner()
    # WHEN they are clustered and exported per cluster
    result = runner.invoke(
        main,
        ["untagged", "--warehouse", str(warehouse), "--k", "2", "--export", str(todo), "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert sorted(c["size"] for c in summary["clusters"]) == [12, 12]
    assert all(c["name"] for c in summary["clusters"])
    # AND an analyst fills the scenario_id column
    with todo.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["scenario_id"] = FAKE if "c00" in row["contact_ids"] else REFUND
    with todo.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    result = runner.invoke(
        main, ["label", "--warehouse", str(warehouse), "--csv", str(todo), "--json"]
    )
    assert result.exit_code == 0, result.output
    # THEN every contact is labelled, in the warehouse and in the overlay beside it
    assert json.loads(result.output.strip().splitlines()[-1])["labelled"] == 24
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = dict(
            con.execute("SELECT contact_id, scenario_id FROM labels.contact_labels").fetchall()
        )
    assert stored["c03"] == FAKE and stored["r07"] == REFUND
    overlay = overlay_path_for(warehouse)
    assert overlay.exists()
    # THEN a tagger built with the overlay tags a new contact like the labelled ones
    tagger = build_tagger(DEFAULT_CATALOG, labels_path=overlay)
    [tag] = tagger.tag_batch(
        ["快递显示已签收，可是我没有收到"], [TagContext(domain="express", channel="call")]
    )
    assert tag is not None and tag.scenario_id == FAKE


def test_bad_labels_are_refused_whole(tmp_path) -> None:
    # GIVEN a warehouse and labels naming an unknown scenario and an unknown contact
    warehouse = _warehouse(tmp_path)
    runner = CliRunner()
    # WHEN they are given
    bad_scenario = runner.invoke(
        main,
        ["label", "--warehouse", str(warehouse), "--contact", "c01", "--scenario", "no.such.id"],
    )
    bad_contact = runner.invoke(
        main,
        [
            "label",
            "--warehouse",
            str(warehouse),
            "--contact",
            "zz",
            "--contact",
            "c01",
            "--scenario",
            FAKE,
        ],
    )
    no_cluster = runner.invoke(
        main, ["label", "--warehouse", str(warehouse), "--cluster", "7", "--scenario", FAKE]
    )
    # THEN each fails with the reason and nothing is labelled
    assert bad_scenario.exit_code != 0 and "unknown scenario id 'no.such.id'" in bad_scenario.output
    assert bad_contact.exit_code != 0 and "no contact 'zz'" in bad_contact.output
    assert no_cluster.exit_code != 0 and "voc untagged" in no_cluster.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        n = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'labels' "
            "AND table_name = 'contact_labels'"
        ).fetchall()[0][0]
        if n:
            assert con.execute("SELECT count(*) FROM labels.contact_labels").fetchall()[0][0] == 0
    assert not overlay_path_for(warehouse).exists()
