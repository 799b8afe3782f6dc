"""The dbt exposures name exactly what their consumers read, so the docs site's
lineage (which marts feed the dashboard and the weekly report) is true."""

from __future__ import annotations

import json
import re

from voc.paths import REPO_DIR


def _exposure_reads(manifest: dict, name: str) -> set[str]:
    """Relations an exposure depends on: model names, and raw.<table> for sources."""
    nodes = manifest["exposures"][f"exposure.voc_loop.{name}"]["depends_on"]["nodes"]
    out = set()
    for unique_id in nodes:
        kind, _, *rest = unique_id.split(".")
        out.add(f"raw.{rest[-1]}" if kind == "source" else rest[-1])
    return out


def _models(manifest: dict) -> set[str]:
    return {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_dashboard_exposure_is_what_the_dashboard_reads(built_warehouse):
    # GIVEN the manifest of the built fixture warehouse
    warehouse, _ = built_warehouse
    manifest = json.loads((warehouse.parent / "dbt_target" / "manifest.json").read_text())
    from voc_dashboard.marts import OPTIONAL, REQUIRED

    # WHEN the dashboard's relations (voc_dashboard/marts.py) that dbt builds are listed
    read = {rel for rel in (*REQUIRED.values(), *OPTIONAL.values()) if rel in _models(manifest)}
    # THEN the exposure depends on exactly those
    assert _exposure_reads(manifest, "cx_dashboard") == read
    assert {"fct_cx_daily", "fct_compensations", "fct_journey_breakpoints"} <= read


def test_weekly_report_exposure_is_what_the_report_queries(built_warehouse):
    # GIVEN the manifest and the report's source code
    warehouse, _ = built_warehouse
    manifest = json.loads((warehouse.parent / "dbt_target" / "manifest.json").read_text())
    code = (REPO_DIR / "pipelines" / "voc" / "report" / "weekly.py").read_text(encoding="utf-8")
    # WHEN every mart and raw table the code names is listed
    marts = set(re.findall(r"\b(?:fct|dim|stg)_\w+", code)) & _models(manifest)
    raw = {f"raw.{t}" for t in re.findall(r"\braw\.(\w+)", code)}
    # THEN the exposure depends on exactly those
    assert _exposure_reads(manifest, "weekly_issue_report") == marts | raw
    assert "fct_issues" in marts and "raw.alert_episodes" in raw
