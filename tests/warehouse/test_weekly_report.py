"""`voc report weekly` on the fixture warehouse, read as a reader would: the
PDF's text against the marts."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

pytestmark = pytest.mark.slow


def test_weekly_report_json_and_pdf_agree_with_the_marts(built_warehouse, tmp_path):
    # GIVEN the fixture warehouse: one issue verified on 2025-03-10 (week 2025-W11,
    # China time) with 12.5 contacts avoided a week
    warehouse, _ = built_warehouse
    out = tmp_path / "report"
    # WHEN the report for that week is written
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "voc.cli",
            "report",
            "weekly",
            "--warehouse",
            str(warehouse),
            "--week",
            "2025-W11",
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    # THEN its figures are the detail marts' for that week, counted row by row
    local_day = "CAST({} + INTERVAL 8 HOUR AS DATE) BETWEEN '2025-03-10' AND '2025-03-16'"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        contacts, fcr, call_csat = con.execute(
            f"""SELECT count(*),
                       avg(CAST(is_first_contact_resolved AS INT)),
                       avg(CAST(is_call_satisfied AS INT)) FILTER (WHERE is_call_surveyed)
                FROM fct_contacts WHERE {local_day.format("contacted_at")}"""
        ).fetchone()
        (ticket_csat,) = con.execute(
            f"""SELECT avg(CAST(is_satisfied AS INT)) FROM fct_ticket_metrics
                WHERE is_rated AND {local_day.format("rated_at")}"""
        ).fetchone()
        (sla_met,) = con.execute(
            f"""SELECT round(100.0 * avg(CAST(NOT is_breached AS INT)), 1) FROM fct_ticket_sla
                WHERE metric = 'resolution' AND applied_reason = 'created' AND is_completed
                  AND {local_day.format("completed_at")}"""
        ).fetchone()
    assert contacts > 0 and doc.pop("contacts") == contacts
    for key, expected in [
        ("fcr_rate", fcr),
        ("call_csat", call_csat),
        ("ticket_csat", ticket_csat),
    ]:
        got = doc.pop(key)
        assert (got is None) == (expected is None), key
        assert got is None or abs(got - expected) < 1e-9, (key, got, expected)
    assert doc.pop("sla_attainment_pct") == (None if sla_met is None else float(sla_met))
    assert doc == {
        "html": str(out / "report.html"),
        "pdf": str(out / "report.pdf"),
        "issues_opened": 0,
        "issues_closed": 1,
        "issues_verified": 1,
        "contacts_avoided": 13,
    }
    text = subprocess.run(
        ["pdftotext", "-layout", doc["pdf"], "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "2025-W11" in text and "每周减少联络" in text
    assert "iss-fx1" in text and "dispatch_ops" in text
    assert "0.20 (0.09–0.43)" in text  # the rate ratio and its CI


def test_a_bad_week_is_a_clear_error(built_warehouse, tmp_path):
    warehouse, _ = built_warehouse
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "voc.cli",
            "report",
            "weekly",
            "--warehouse",
            str(warehouse),
            "--week",
            "2025-47",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "--week must look like 2026-W47" in proc.stderr
