"""`voc eval detection`'s honesty figure: recall on the incidents the data can show,
from what the simulator says each one did to its key (not from any detector)."""

from __future__ import annotations

from voc.evaluation.detection import VISIBLE_SCORE, Truth, score, summarise, visibility


def _inc(kind: str, added, expected, start="2026-11-08T10:00:00Z", **kw) -> dict:
    return {
        "incident_id": kw.pop("incident_id", "inc-001"),
        "kind": kind,
        "domain": "express",
        "stage": "order",
        "start": start,
        "end": "2026-11-08T12:00:00Z",
        "magnitude": 3.0,
        "added_events": added,
        "expected_events": expected,
        **kw,
    }


def test_visibility_is_the_poisson_score_of_the_effect_on_the_key() -> None:
    # GIVEN breaks that add or withhold events against an expected count
    # THEN 12 extra where 1 was expected is plain, -log10 P(X >= 13 | 1) ~ 9.8
    assert visibility(_inc("contact_spike", 12, 1.0)) > 9
    # AND 2 extra where 4 were expected is not (P(X >= 6 | 4) ~ 0.21)
    assert visibility(_inc("contact_spike", 2, 4.0)) < 1
    # AND a step that lost all of its 30 moves is plain, one that lost 2 of 30 is not
    assert visibility(_inc("funnel_drop", -30, 30.0)) > VISIBLE_SCORE
    assert visibility(_inc("funnel_drop", -2, 30.0)) < 1
    # AND a break that did nothing (a stuck step nobody was due to leave) scores 0
    assert visibility(_inc("stuck_journeys", 0.0, 0.0)) == 0
    # AND a case, or truth that does not say, has no score
    assert visibility(_inc("repeat_loop", None, None)) is None
    assert visibility({"kind": "contact_spike"}) is None


def test_recall_visible_counts_only_what_the_data_shows_and_recall_stays() -> None:
    # GIVEN two contact spikes, one plain (found) and one invisible (missed), and a case
    truth = Truth(
        [
            _inc("contact_spike", 12, 1.0, incident_id="inc-001"),
            _inc("contact_spike", 1, 3.0, incident_id="inc-002", stage="shipping"),
            _inc("repeat_loop", None, None, incident_id="inc-003", customer_id="c1"),
        ],
        [],
    )
    from voc.detect.alerts import Alert

    at = 1794132000 + 1800  # 2026-11-08T10:30Z
    alert = Alert(
        "contact_spike",
        "express|order|*",
        "express",
        "order",
        None,
        "",
        at,
        at - 1800,
        9,
        1.0,
        8.0,
        "ops",
        "high",
    )
    scored = score([alert], truth)
    # WHEN summarised
    out = summarise(scored["incidents"], scored["alerts"])
    # THEN raw recall counts every incident, recall_visible only the visible ones
    spikes = out["by_kind"]["contact_spike"]
    assert (spikes["recall"], spikes["visible"], spikes["recall_visible"]) == (0.5, 1, 1.0)
    assert out["by_kind"]["repeat_loop"]["visible"] == 1  # a case is always in the data
    assert out["invisible_incidents"] == 1
    assert out["recall"] == round(1 / 3, 4) and out["recall_visible"] == 0.5
