"""`voc eval marts`'s truth side on a real (small) simulation."""

from __future__ import annotations

import json
from pathlib import Path

from voc.evaluation.marts import truth_figures
from voc.simulate import simulate


def test_truth_reads_a_simulation_with_non_utf8_malformed_lines(tmp_path: Path):
    # GIVEN a simulation whose malformed lines may be any bytes
    simulate(tmp_path, days=4, seed=3, malformed_rate=0.05)  # 4 days: 72 h windows close
    calls = (tmp_path / "calls.jsonl").read_bytes()
    # WHEN the truth figures are computed
    truth = truth_figures(tmp_path, 72)
    # THEN every rate is a share, and call CSAT counts only well-formed surveys
    for rate in (truth.fcr, truth.sla_breach, truth.ticket_csat, truth.call_csat):
        assert rate is not None and 0.0 <= rate <= 1.0
    bad = {
        json.loads(m)["line"]
        for m in (tmp_path / "ground_truth" / "malformed.jsonl").read_text().splitlines()
        if json.loads(m)["stream"] == "calls"
    }
    surveys = [
        json.loads(line)["survey_score"]
        for n, line in enumerate(calls.splitlines(), 1)
        if n not in bad and json.loads(line).get("survey_score") is not None
    ]
    assert truth.call_csat == sum(s >= 4 for s in surveys) / len(surveys)
