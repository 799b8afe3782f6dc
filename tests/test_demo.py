"""`voc demo` end to end, as a user runs it: a real subprocess, the real
simulator, Beam runner, DuckDB file, great-expectations and dbt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

KEYS = {
    "warehouse",
    "events_in",
    "dead_letters",
    "contacts",
    "tagged_share",
    "alerts",
    "incidents_injected",
    "incidents_detected",
    "marts",
}


def demo(work_dir: Path) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "voc.cli",
            "demo",
            "--days",
            "4",
            "--seed",
            "5",
            "--work-dir",
            str(work_dir),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    return demo(work), demo(work)


def test_summary_has_every_promised_figure(runs):
    first, _ = runs
    assert set(first) >= KEYS
    assert set(first["events_in"]) == {"calls", "ticket_events", "app_events", "social_posts"}
    assert all(v > 0 for v in first["events_in"].values())
    assert first["contacts"] > 0
    assert 0 < first["tagged_share"] <= 1
    assert Path(first["warehouse"]).exists()


def test_injected_incidents_are_found(runs):
    first, _ = runs
    assert first["incidents_injected"] > 0
    assert first["incidents_detected"] / first["incidents_injected"] >= 0.8


def test_every_malformed_record_is_a_dead_letter(runs):
    first, _ = runs
    assert first["dead_letters"] == first["malformed_injected"] > 0


def test_marts_are_built_and_filled(runs):
    first, _ = runs
    for mart in (
        "fct_contacts",
        "fct_ticket_sla",
        "fct_satisfaction",
        "fct_alerts",
        "dim_scenarios",
    ):
        assert first["marts"].get(mart, 0) > 0, mart
    with duckdb.connect(first["warehouse"], read_only=True) as con:
        contacts = con.execute("SELECT count(*) FROM main.fct_contacts").fetchall()[0][0]
    assert contacts == first["contacts"]


def test_running_twice_adds_nothing(runs):
    first, second = runs
    for key in ("contacts", "dead_letters", "alerts", "events_in", "marts"):
        assert second[key] == first[key], key
