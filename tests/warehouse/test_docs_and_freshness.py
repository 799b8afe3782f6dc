"""`voc build`'s freshness report and docs site, on the fixture warehouse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from voc.warehouse.dbt_runner import generate_docs, source_freshness

VOC = Path(sys.executable).with_name("voc")


def test_source_freshness_reports_every_loaded_raw_table(built_warehouse):
    # GIVEN the fixture warehouse, loaded just now
    warehouse, _ = built_warehouse
    # WHEN dbt source freshness runs
    report = {f.source: f for f in source_freshness(warehouse)}
    # THEN every stream with a loaded_at field is checked and fresh (the catalog
    # tables are replaced on each load and carry no freshness policy)
    assert {"voc.calls", "voc.ticket_events", "voc.contacts"} <= set(report)
    assert "voc.scenarios" not in report
    assert report["voc.calls"].status == "pass"
    assert 0 <= report["voc.calls"].age_hours < 1


def test_voc_docs_serves_the_generated_site_on_localhost(built_warehouse):
    # GIVEN docs generated for the fixture warehouse
    warehouse, _ = built_warehouse
    target = generate_docs(warehouse)
    manifest = json.loads((target / "manifest.json").read_text())
    assert "model.voc_loop.fct_ticket_sla" in manifest["nodes"]
    assert "exposure.voc_loop.cx_dashboard" in manifest["exposures"]
    # WHEN `voc docs` serves it on a free port
    proc = subprocess.Popen(
        [str(VOC), "docs", "--warehouse", str(warehouse), "--port", "0", "--no-generate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        # THEN it listens on 127.0.0.1 and returns dbt's docs page and catalog
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "index.html", timeout=10) as page:
            assert page.status == 200
            assert b"dbt" in page.read()
        with urllib.request.urlopen(url + "catalog.json", timeout=10) as catalog:
            nodes = json.loads(catalog.read())["nodes"]
            assert "model.voc_loop.fct_cx_daily" in nodes
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow  # a whole `dbt build` of its own (~1 min)
def test_voc_build_reports_freshness_and_generates_the_docs(built_warehouse, tmp_path):
    # GIVEN a copy of the fixture warehouse
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse[0], warehouse)
    # WHEN `voc build` runs on it
    proc = subprocess.run(
        [str(VOC), "build", "--warehouse", str(warehouse), "--skip-quality", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    # THEN it reported dbt source freshness for the streams, all fresh
    assert {"voc.calls", "voc.ticket_events", "voc.contacts"} <= set(summary["freshness"])
    assert summary["freshness"]["voc.calls"][0] == "pass"
    assert (tmp_path / "dbt_target" / "sources.json").is_file()
    # AND generated the docs site beside the warehouse, with the catalog of the marts
    index = Path(summary["docs"])
    assert index == tmp_path / "dbt_target" / "index.html" and index.is_file()
    catalog = json.loads((tmp_path / "dbt_target" / "catalog.json").read_text())
    assert "model.voc_loop.dim_business_calendar" in catalog["nodes"]
