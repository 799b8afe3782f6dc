"""Verify a released fix by the drop in customer contacts, with statistics.

For an issue in `fix_released`, its scenario's contact rate (per 1,000
orders / shipments / active customers of the business) before the release is
compared with the rate after it, by a Poisson rate-ratio test (statsmodels'
score test, one-sided: after < before) with a 95 % confidence interval of the
ratio.

- before window: up to `max_obs_h` before the release, starting no earlier
  than the end of the alert episode that opened the issue (an acute spike in
  the before window would make any fix look good);
- after window: from the release up to `max_obs_h` or the end of the data;
- both must span `min_obs_h` (the minimum observation period), else the
  check says `observing` and nothing changes.

Outcomes (appended as status events by the `verifier`):
- p < alpha -> `verified`, with contacts avoided per week =
  (rate before - rate after) x the after window's exposure per week;
- no significant drop after `max_obs_h` -> `reopened` (the fix did not work);
- a verified issue whose last `min_obs_h` has a rate significantly above the
  verified after-rate -> `reopened` (the rate returned); otherwise the check
  says `holding`.

"Now" is the end of the data (the last complete hour of contacts), not the
wall clock, so re-running on the same warehouse gives the same verdicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
from statsmodels.stats.rates import confint_poisson_2indep, test_poisson_2indep

from voc.alerting.episodes import data_end_of
from voc.issues.store import state, update_issue

ALPHA = 0.05
MIN_OBS_H = 24
MAX_OBS_H = 168


@dataclass(frozen=True, slots=True)
class RateTest:
    before_contacts: int
    after_contacts: int
    before_exposure: float  # thousands of orders / shipments / active customers
    after_exposure: float
    rate_before: float | None
    rate_after: float | None
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


def rate_ratio_test(
    before_contacts: int,
    before_exposure: float,
    after_contacts: int,
    after_exposure: float,
    alternative: str = "smaller",
) -> RateTest:
    """Poisson rate ratio after/before; `alternative` = 'smaller' tests for a
    drop, 'larger' for a rise."""
    if before_exposure <= 0 or after_exposure <= 0:
        return RateTest(
            before_contacts,
            after_contacts,
            before_exposure,
            after_exposure,
            None,
            None,
            None,
            None,
            None,
            None,
        )
    rate_b = before_contacts / before_exposure
    rate_a = after_contacts / after_exposure
    if before_contacts == 0 and after_contacts == 0:
        return RateTest(
            before_contacts,
            after_contacts,
            before_exposure,
            after_exposure,
            0.0,
            0.0,
            None,
            None,
            None,
            1.0,
        )
    res = test_poisson_2indep(
        after_contacts,
        after_exposure,
        before_contacts,
        before_exposure,
        method="score",
        compare="ratio",
        alternative=alternative,
    )
    low, high = confint_poisson_2indep(
        after_contacts,
        after_exposure,
        before_contacts,
        before_exposure,
        method="score",
        compare="ratio",
        alpha=ALPHA,
    )
    ratio = rate_a / rate_b if rate_b > 0 else None
    return RateTest(
        before_contacts,
        after_contacts,
        before_exposure,
        after_exposure,
        rate_b,
        rate_a,
        ratio,
        float(low),
        float(high) if high == high and high != float("inf") else None,
        float(res.pvalue),
    )


def _contacts(
    con: duckdb.DuckDBPyConnection, scenario_id: str, start: datetime, end: datetime
) -> int:
    return con.execute(
        "SELECT count(DISTINCT contact_id) FROM raw.contacts"
        " WHERE scenario_id = ? AND event_time >= ? AND event_time < ?",
        [scenario_id, start, end],
    ).fetchall()[0][0]


def exposure(
    con: duckdb.DuckDBPyConnection, rate_unit: str, domain: str, start: datetime, end: datetime
) -> float:
    """Thousands of orders (or shipments) of the business active in the window,
    or of active customers (any business) for cross-cutting scenarios."""
    if rate_unit == "active_customers":
        n = con.execute(
            "SELECT count(DISTINCT customer_id) FROM raw.app_events"
            " WHERE event_time >= ? AND event_time < ?",
            [start, end],
        ).fetchall()[0][0]
    else:
        n = con.execute(
            "SELECT count(DISTINCT order_id) FROM raw.app_events"
            " WHERE domain = ? AND order_id IS NOT NULL AND event_time >= ? AND event_time < ?",
            [domain, start, end],
        ).fetchall()[0][0]
    return n / 1000.0


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def check_issue(
    con: duckdb.DuckDBPyConnection,
    issue_id: str,
    as_of: datetime,
    *,
    min_obs_h: float = MIN_OBS_H,
    max_obs_h: float = MAX_OBS_H,
) -> dict[str, Any] | None:
    """Run the check for one issue; record it and any status change. Returns
    the check (None when the issue has no released fix)."""
    current = state(con, issue_id)
    if current.status not in ("fix_released", "verified") or current.release_at is None:
        return None
    scenario_id, source_kind, source_ref, rate_unit = con.execute(
        "SELECT scenario_id, source_kind, source_ref, rate_unit FROM raw.issues WHERE issue_id = ?",
        [issue_id],
    ).fetchall()[0]
    domain = scenario_id.split(".")[0]  # a scenario id starts with its (fixed) domain
    release = current.release_at
    floor = release - timedelta(hours=max_obs_h)
    # The acute spike stays out of the before window: it starts after the end
    # of the issue's own episode, or of the scenario's last episode before the
    # release when the issue came from elsewhere.
    ended = con.execute(
        "SELECT max(coalesce(resolved_at, last_window_end)) FROM raw.alert_episodes"
        " WHERE (episode_id = ? OR scenario_id = ?)"
        " AND coalesce(resolved_at, last_window_end) < ?",
        [source_ref if source_kind == "alert_episode" else None, scenario_id, release],
    ).fetchall()
    if ended and ended[0][0] is not None:
        floor = max(floor, ended[0][0])
    data_start = con.execute("SELECT min(event_time) FROM raw.contacts").fetchall()[0][0]
    before_start = max(floor, data_start) if data_start else floor
    after_end = min(as_of, release + timedelta(hours=max_obs_h))
    if _hours(before_start, release) < min_obs_h or _hours(release, after_end) < min_obs_h:
        return {"issue_id": issue_id, "verdict": "observing", "status": current.status}

    def measured(a: datetime, b: datetime, c: datetime, d: datetime, alternative: str) -> RateTest:
        return rate_ratio_test(
            _contacts(con, scenario_id, a, b),
            exposure(con, rate_unit, domain, a, b),
            _contacts(con, scenario_id, c, d),
            exposure(con, rate_unit, domain, c, d),
            alternative,
        )

    test = measured(before_start, release, release, after_end, "smaller")
    dropped = test.p_value is not None and test.p_value < ALPHA and (test.rate_ratio or 0) < 1
    verdict = "drop" if dropped else "no_drop"
    avoided = 0.0
    if dropped and test.rate_before is not None and test.rate_after is not None:
        per_week = test.after_exposure / _hours(release, after_end) * 168
        avoided = max(0.0, (test.rate_before - test.rate_after) * per_week)
    new_status = None
    note = None
    if current.status == "fix_released":
        if dropped:
            new_status = "verified"
            note = (
                f"rate {test.rate_before:.2f} -> {test.rate_after:.2f} per 1,000 {rate_unit}"
                f", ratio {test.rate_ratio:.2f}, p={test.p_value:.2g}"
            )
        elif _hours(release, after_end) >= max_obs_h:
            new_status = "reopened"
            note = f"no significant drop after {max_obs_h:.0f} h (p={test.p_value})"
    elif current.status == "verified":
        verdict = "holding"
        # Has the rate come back? The last min_obs_h against the verified after-rate.
        verified = con.execute(
            "SELECT after_start, after_end FROM raw.issue_checks WHERE issue_id = ?"
            " AND verdict = 'drop' ORDER BY checked_through LIMIT 1",
            [issue_id],
        ).fetchall()
        recent_start = as_of - timedelta(hours=min_obs_h)
        if verified and recent_start >= verified[0][1]:
            back = measured(verified[0][0], verified[0][1], recent_start, as_of, "larger")
            if back.p_value is not None and back.p_value < ALPHA:
                new_status = "reopened"
                verdict = "returned"
                note = (
                    f"rate returned: {back.rate_after:.2f} vs {back.rate_before:.2f}"
                    f" per 1,000 {rate_unit} after the fix (p={back.p_value:.2g})"
                )
    con.execute(
        "INSERT OR IGNORE INTO raw.issue_checks (check_id, issue_id, checked_through, release_at,"
        " before_start, before_end, after_start, after_end, before_contacts, after_contacts,"
        " before_exposure, after_exposure, rate_before, rate_after, rate_ratio, ci_low, ci_high,"
        " p_value, verdict, contacts_avoided_per_week)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            f"{issue_id}:{as_of:%Y%m%dT%H%M}",
            issue_id,
            as_of,
            release,
            before_start,
            release,
            release,
            after_end,
            test.before_contacts,
            test.after_contacts,
            test.before_exposure,
            test.after_exposure,
            test.rate_before,
            test.rate_after,
            test.rate_ratio,
            test.ci_low,
            test.ci_high,
            test.p_value,
            verdict,
            avoided,
        ],
    )
    if new_status:
        update_issue(
            con,
            issue_id,
            new_status,
            after_end if new_status == "verified" else as_of,
            "verifier",
            note=note,
        )
    return {
        "issue_id": issue_id,
        "verdict": verdict,
        "status": new_status or current.status,
        "contacts_avoided_per_week": round(avoided, 1),
        **asdict(test),
    }


def replay_checks(
    con: duckdb.DuckDBPyConnection, step_h: int = 24, **kw: Any
) -> list[dict[str, Any]]:
    """Check every released fix as a daily job would have, from the first
    release to the end of the data (for a backfilled warehouse: the verdict
    then lands on the first day the drop was significant, not at the end)."""
    end = data_end_of(con, 3600)
    first = con.execute(
        "SELECT min(release_at) FROM raw.issue_events WHERE status = 'fix_released'"
    ).fetchall()[0][0]
    if end is None or first is None:
        return []
    t = first + timedelta(hours=step_h)
    while t < end:
        verify_all(con, t, **kw)
        t += timedelta(hours=step_h)
    return verify_all(con, end, **kw)


def verify_all(
    con: duckdb.DuckDBPyConnection, as_of: datetime | None = None, **kw: Any
) -> list[dict[str, Any]]:
    as_of = as_of or data_end_of(con, 3600)
    if as_of is None:
        return []
    ids = [
        r[0]
        for r in con.execute(
            "SELECT issue_id FROM raw.issues ORDER BY opened_at, issue_id"
        ).fetchall()
    ]
    out = []
    for issue_id in ids:
        result = check_issue(con, issue_id, as_of, **kw)
        if result is not None:
            out.append(result)
    return out
