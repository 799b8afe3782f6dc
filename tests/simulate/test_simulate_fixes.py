"""Planted fixes: an effective fix ends its root cause's extra contacts at the
release, a decoy does not; without fixes the streams are unchanged."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from voc.simulate import simulate


def _contacts_per_day(truth, scenario_id, start, end):
    n = sum(1 for r in truth if r["scenario_id"] == scenario_id and start <= r["t"] < end)
    return n / ((end - start).total_seconds() / 86400)


def test_effective_fixes_cut_the_rate_and_decoys_do_not(tmp_path):
    # GIVEN 7 simulated days with 3 planted fixes
    simulate(tmp_path, days=7, seed=11, fixes=3)
    fixes = [
        json.loads(x) for x in (tmp_path / "ground_truth/fixes.jsonl").read_text().split("\n") if x
    ]
    truth = [
        json.loads(x)
        for x in (tmp_path / "ground_truth/contacts.jsonl").read_text().split("\n")
        if x
    ]
    for r in truth:
        r["t"] = datetime.fromisoformat(r["event_time"].replace("Z", "+00:00"))
    # THEN there are fixes, exactly one a decoy
    assert len(fixes) >= 2 and sum(not f["effective"] for f in fixes) == 1
    for f in fixes:
        release = datetime.fromisoformat(f["release_at"].replace("Z", "+00:00"))
        chronic = datetime.fromisoformat(f["chronic_start"].replace("Z", "+00:00"))
        before = _contacts_per_day(truth, f["scenario_id"], chronic + timedelta(hours=6), release)
        after = _contacts_per_day(truth, f["scenario_id"], release, release + timedelta(hours=24))
        # 0.6 extra contacts an hour ~ 14 a day while the cause is unfixed
        assert before >= 7, f
        if f["effective"]:
            assert after < before / 2, f
        else:
            assert after > before / 2, f


def test_fixes_are_opt_in_and_zero_writes_no_fixes_file(tmp_path):
    a = simulate(tmp_path / "a", days=2, seed=5, scale=0.3)
    b = simulate(tmp_path / "b", days=2, seed=5, scale=0.3, fixes=0)
    assert a.events == b.events
    for name in ("calls.jsonl", "social_posts.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert not (tmp_path / "a" / "ground_truth" / "fixes.jsonl").exists()
