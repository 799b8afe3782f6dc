"""Verification accuracy against the simulator's truth.

For each seed: simulate with planted fixes (some effective, one a decoy),
run the real pipeline into a warehouse, derive alert episodes, open one issue
per planted fix (from its alert episode when the detector raised one, else as
a `simulator` issue), record `fix_released` at the planted release time, and
let the verifier check it day by day as a daily job would. A verdict is right
when an effective fix ends `verified` and a decoy does not.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from voc.paths import DEFAULT_CATALOG


@dataclass
class VerificationScore:
    fixes: int = 0
    effective: int = 0
    decoys: int = 0
    effective_verified: int = 0
    decoys_verified: int = 0
    hours_to_verify: list[float] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float | None:
        if not self.fixes:
            return None
        return (self.effective_verified + self.decoys - self.decoys_verified) / self.fixes

    def as_dict(self) -> dict[str, Any]:
        hrs = sorted(self.hours_to_verify)
        return {
            "fixes": self.fixes,
            "effective": self.effective,
            "decoys": self.decoys,
            "verification_accuracy": None if self.accuracy is None else round(self.accuracy, 4),
            "effective_verified": self.effective_verified,
            "decoys_verified": self.decoys_verified,
            "median_hours_release_to_verified": hrs[len(hrs) // 2] if hrs else None,
            "cases": self.cases,
        }


def _naive(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def score_warehouse(warehouse: Path, fixes_file: Path, score: VerificationScore, seed: int) -> None:
    """Open, release and verify one issue per planted fix in `warehouse`."""
    from voc.alerting.episodes import sync_episodes
    from voc.catalog import load_catalog
    from voc.issues.store import open_issue, state, update_issue
    from voc.issues.verify import replay_checks
    from voc.warehouse.duck import open_warehouse

    catalog = load_catalog(DEFAULT_CATALOG)
    fixes = [json.loads(line) for line in fixes_file.read_text().splitlines() if line]
    with open_warehouse(warehouse) as con:
        sync_episodes(con, catalog)
        issued = []
        for fix in fixes:
            release = _naive(fix["release_at"])
            episode = con.execute(
                "SELECT episode_id, resolved_at FROM raw.alert_episodes WHERE scenario_id = ?"
                " AND opened_at < ? ORDER BY opened_at DESC LIMIT 1",
                [fix["scenario_id"], release],
            ).fetchall()
            if episode:
                source = ("alert_episode", episode[0][0])
                opened_at = episode[0][1] or release - timedelta(hours=12)
            else:
                source = ("simulator", f"seed{seed}-{fix['fix_id']}")
                opened_at = release - timedelta(hours=12)
            issue_id, _ = open_issue(
                con,
                catalog,
                scenario_id=fix["scenario_id"],
                source_kind=source[0],
                source_ref=source[1],
                opened_at=min(opened_at, release),
                actor="eval",
            )
            if state(con, issue_id).status == "open":
                update_issue(con, issue_id, "fix_released", release, "eval", release_at=release)
            issued.append((fix, issue_id, release, source[0]))
        replay_checks(con)
        for fix, issue_id, release, source_kind in issued:
            st = state(con, issue_id)
            verified_at = con.execute(
                "SELECT min(occurred_at) FROM raw.issue_events WHERE issue_id = ?"
                " AND status = 'verified'",
                [issue_id],
            ).fetchall()[0][0]
            check = con.execute(
                "SELECT rate_ratio, p_value, before_contacts, after_contacts FROM raw.issue_checks"
                " WHERE issue_id = ? ORDER BY checked_through DESC LIMIT 1",
                [issue_id],
            ).fetchall()
            verified = verified_at is not None
            score.fixes += 1
            if fix["effective"]:
                score.effective += 1
                score.effective_verified += verified
            else:
                score.decoys += 1
                score.decoys_verified += verified
            if verified and fix["effective"]:
                score.hours_to_verify.append(
                    round((verified_at - release).total_seconds() / 3600, 1)
                )
            score.cases.append(
                {
                    "seed": seed,
                    "fix_id": fix["fix_id"],
                    "scenario_id": fix["scenario_id"],
                    "effective": fix["effective"],
                    "verified": verified,
                    "status": st.status,
                    "issue_source": source_kind,
                    "last_rate_ratio": round(check[0][0], 3) if check and check[0][0] else None,
                    "last_p_value": check[0][1] if check else None,
                    "contacts_before_after": [check[0][2], check[0][3]] if check else None,
                }
            )


def evaluate_verification(
    seeds: list[int],
    days: int = 9,
    fixes: int = 3,
    scale: float = 1.0,
    work_dir: Path | None = None,
    progress=None,
) -> dict[str, Any]:
    from voc.commands.run import run_pipeline
    from voc.simulate import simulate

    started = time.perf_counter()
    score = VerificationScore()
    with tempfile.TemporaryDirectory(prefix="voc-eval-verify-") as tmp:
        base = work_dir or Path(tmp)
        for seed in seeds:
            out = base / f"seed{seed}"
            if progress:
                progress(f"seed {seed}: simulate {days} days with {fixes} fixes")
            simulate(out / "streams", days=days, seed=seed, scale=scale, fixes=fixes)
            if progress:
                progress(f"seed {seed}: pipeline")
            run_pipeline(out / "streams", out / "voc.duckdb", DEFAULT_CATALOG, None, 3600)
            score_warehouse(
                out / "voc.duckdb", out / "streams" / "ground_truth" / "fixes.jsonl", score, seed
            )
    return {
        **score.as_dict(),
        "seeds": seeds,
        "days": days,
        "scale": scale,
        "seconds": round(time.perf_counter() - started, 1),
    }
