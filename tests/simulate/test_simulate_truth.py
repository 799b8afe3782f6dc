"""Ground truth: contacts and incidents are consistent with the streams."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from tests.simulate.conftest import DAYS
from tests.simulate.helpers import read_jsonl, valid_records
from voc.catalog import load_catalog
from voc.contracts.streams import Stream
from voc.contracts.validate import parse_time
from voc.evaluation.text_overlap import overlaps
from voc.simulate import DEFAULT_START, SimulationSummary
from voc.simulate.incidents import KINDS, RATE_KINDS


def _contact_texts(out: Path) -> dict[str, tuple[str, str]]:
    """contact id -> (channel, text) for every contact found in the streams."""
    found = {c["event_id"]: ("call", c["transcript"]) for c in valid_records(out, Stream.CALLS)}
    found |= {p["event_id"]: ("social", p["text"]) for p in valid_records(out, Stream.SOCIAL_POSTS)}
    for event in valid_records(out, Stream.TICKET_EVENTS):
        if event["event_type"] == "created" and event["source_contact_id"] is None:
            found[event["event_id"]] = (event["channel"], event["text"])
    return found


def test_every_true_contact_exists_in_the_streams(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the contact ground truth and the contacts found in the streams
    out, summary = simulated
    truth = read_jsonl(out / "ground_truth" / "contacts.jsonl")
    found = _contact_texts(out)
    malformed_ids = len(read_jsonl(out / "ground_truth" / "malformed.jsonl"))
    # WHEN the truth's ids are looked up
    missing = [t["contact_id"] for t in truth if t["contact_id"] not in found]
    # THEN all exist (malformed lines are extra lines, never replacements) with the same channel
    assert not missing, (missing[:5], malformed_ids)
    assert all(found[t["contact_id"]][0] == t["channel"] for t in truth)
    assert set(found) == {t["contact_id"] for t in truth}
    assert summary.contacts == len(truth)


def test_contacts_are_about_catalog_scenarios_or_off_topic(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the contact ground truth
    out, _ = simulated
    catalog = load_catalog()
    truth = read_jsonl(out / "ground_truth" / "contacts.jsonl")
    # WHEN scenarios and off-topic contacts are counted
    off_topic = [t for t in truth if t["scenario_id"] is None]
    on_topic = [t for t in truth if t["scenario_id"] is not None]
    # THEN every scenario is real, its domain/stage match, and ~5% are off-topic
    for t in on_topic:
        scenario = catalog[t["scenario_id"]]
        assert (t["domain"], t["stage"]) == (scenario.domain, scenario.stage)
        assert t["business_domain"] in ("freight", "express", "ecommerce")
        if scenario.domain != "common":
            assert t["business_domain"] == scenario.domain
    assert 0.02 < len(off_topic) / len(truth) < 0.09
    # Contacts spread over the catalog: at least half the coverage that
    # uniform draws would give (the catalog can be larger than the sample).
    uniform = len(catalog) * (1 - (1 - 1 / len(catalog)) ** len(on_topic))
    assert len({t["scenario_id"] for t in on_topic}) >= 0.5 * uniform


def test_both_languages_appear_in_the_planned_mix(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the contact ground truth
    out, _ = simulated
    languages = Counter(t["language"] for t in read_jsonl(out / "ground_truth" / "contacts.jsonl"))
    # WHEN the Chinese share is computed
    zh_share = languages["zh"] / (languages["zh"] + languages["en"])
    # THEN both appear, about 65% Chinese
    assert 0.55 < zh_share < 0.75


def test_texts_are_varied_and_rarely_repeat_the_catalog(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN every contact's text grouped by its true scenario
    out, _ = simulated
    catalog = load_catalog()
    texts = _contact_texts(out)
    by_scenario: dict[str | None, list[str]] = defaultdict(list)
    for t in read_jsonl(out / "ground_truth" / "contacts.jsonl"):
        by_scenario[t["scenario_id"]].append(texts[t["contact_id"]][1])
    # WHEN distinct texts and texts holding their scenario's keywords or name are counted
    for scenario_id, items in by_scenario.items():
        if len(items) >= 10:
            # THEN nearly every text is different
            assert len(set(items)) / len(items) > 0.9, scenario_id
    on_topic = [(catalog[s], x) for s, items in by_scenario.items() if s for x in items]
    leaking = sum(overlaps(text, scenario) for scenario, text in on_topic)
    # THEN almost none contains its scenario's catalog wording verbatim (the
    # generator never reads it; what is left is chance)
    assert leaking / len(on_topic) < 0.02


def test_every_kind_is_planted_after_day_one_inside_the_range(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the planted incidents
    out, summary = simulated
    rows = read_jsonl(out / "ground_truth" / "incidents.jsonl")
    planted = [r for r in rows if r["planted"]]
    day_two = DEFAULT_START.timestamp() + 86400
    end = DEFAULT_START.timestamp() + DAYS * 86400
    # THEN every kind is there, each after day 1 and inside the range
    assert {r["kind"] for r in planted} == set(KINDS)
    assert summary.incidents == len(planted)
    for inc in planted:
        start_s, end_s = parse_time(inc["start"]).timestamp(), parse_time(inc["end"]).timestamp()
        assert day_two - 8 * 3600 <= start_s <= end_s <= end, inc
        if inc["kind"] in RATE_KINDS:
            # rate breaks last 1.5-4 h and range from barely visible to obvious
            assert 5400 <= end_s - start_s <= 4 * 3600
            assert 1.5 <= inc["magnitude"] <= 12
    # AND two breaks of one journey step never overlap
    steps = [r for r in planted if r["kind"] in RATE_KINDS and r["stage"]]
    for a in steps:
        for b in steps:
            if a is not b and (a["domain"], a["stage"]) == (b["domain"], b["stage"]):
                assert a["end"] <= b["start"] or b["end"] <= a["start"]


def test_planted_breaks_leave_their_trace_in_the_streams(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the incidents and the contacts' truth
    out, _ = simulated
    truth = read_jsonl(out / "ground_truth" / "contacts.jsonl")
    by_id = {t["contact_id"]: t for t in truth}
    apps = valid_records(out, Stream.APP_EVENTS)
    for inc in read_jsonl(out / "ground_truth" / "incidents.jsonl"):
        caused = [t for t in truth if t["incident_id"] == inc["incident_id"]]
        if inc["kind"] == "contact_spike":
            # THEN a contact spike's extra contacts are about its scenario, inside its window
            assert len(caused) == inc["extra_contacts"]
            assert all(t["scenario_id"] == inc["scenario_id"] for t in caused)
            assert all(inc["start"] <= t["event_time"] < inc["end"] for t in caused)
        elif inc["kind"] == "step_failure":
            # a step failure's extra failure events are in the app stream
            inside = [
                a
                for a in apps
                if a["event_name"] == inc["subject"]
                and inc["start"] <= a["event_time"] < inc["end"]
            ]
            assert len(inside) >= inc["extra_contacts"]
        elif inc["kind"] == "repeat_loop" and inc["planted"]:
            # a repeat loop is 3+ contacts of one customer, the third at its start
            loop = [by_id[c] for c in inc["contact_ids"] if c in by_id]
            assert len(loop) >= 3 and {t["customer_id"] for t in loop} == {inc["customer_id"]}
            assert loop[2]["event_time"] == inc["start"]
        elif inc["kind"] == "emotion_escalation" and inc["planted"]:
            assert [by_id[c]["threat"] for c in inc["contact_ids"]] == [True]


def test_each_break_says_what_it_did_to_its_own_key(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the planted incidents
    out, _ = simulated
    rows = read_jsonl(out / "ground_truth" / "incidents.jsonl")
    for inc in rows:
        added, expected = inc["added_events"], inc["expected_events"]
        if inc["kind"] in ("contact_spike", "step_failure", "social_surge"):
            # THEN a count break says how many events it added, and what its key
            # holds in that window without it (never zero: half an event over the run)
            assert added == inc["extra_contacts"] >= 0, inc
            assert expected > 0, inc
        elif inc["kind"] in ("funnel_drop", "stuck_journeys"):
            # a journey break withheld moves, at most those the step would have made
            assert added <= 0 and -added <= expected, inc
        else:
            # a case is in the records themselves (a loop's contacts, a threat's words)
            assert added is None and expected is None, inc
    # AND the journey breaks of this data set withheld something somewhere
    assert any(r["added_events"] and r["added_events"] < 0 for r in rows)


def test_decoys_are_written(simulated: tuple[Path, SimulationSummary]) -> None:
    out, _ = simulated
    kinds = {d["kind"] for d in read_jsonl(out / "ground_truth" / "decoys.jsonl")}
    assert {"promotion_day", "marketing_push", "quiet_night", "noisy_scenario"} <= kinds


def test_a_customer_who_wrote_a_threat_is_an_escalation_in_the_truth(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the contacts whose text carries the simulator's own lines about
    # taking the problem outside (the "external" family: 12315, the press)
    from voc.simulate.text import says_external

    out, _ = simulated
    truth = read_jsonl(out / "ground_truth" / "contacts.jsonl")
    found = _contact_texts(out)
    wrote = [t for t in truth if says_external(found[t["contact_id"]][1], t["language"])]
    assert wrote, "the simulation has such contacts: an empty set proves nothing"
    # THEN each is marked a threat, and each unplanted one is an escalation incident
    assert all(t["threat"] for t in wrote)
    escalations = {
        c
        for i in read_jsonl(out / "ground_truth" / "incidents.jsonl")
        if i["kind"] == "emotion_escalation"
        for c in i["contact_ids"]
    }
    assert {t["contact_id"] for t in wrote} <= escalations
