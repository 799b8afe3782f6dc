"""`voc eval marts`'s truth side: the repeat rule on hand-worked rows, and a real
(small) simulation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from voc.evaluation.marts import _clock_mismatches, _repeats, _visible_people, truth_figures
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
    # AND NPS is promoters (9-10) minus detractors (0-6) over the calls that answered
    answers = [
        json.loads(line)["nps_score"]
        for n, line in enumerate(calls.splitlines(), 1)
        if n not in bad and json.loads(line).get("nps_score") is not None
    ]
    assert answers and len(answers) < len(surveys)
    assert truth.nps == (sum(a >= 9 for a in answers) - sum(a <= 6 for a in answers)) / len(answers)


def test_true_repeats_same_person_within_the_window_unless_two_orders():
    # GIVEN one person's contacts (hours from t0) and another person's
    t0 = datetime(2026, 1, 1)

    def at(h: float) -> datetime:
        return t0 + timedelta(hours=h)

    items = [
        ("a1", "p1", "o1", at(0)),
        ("a2", "p1", None, at(24)),  # no order: may be about anything of p1's
        ("a3", "p1", "o2", at(60)),  # o2 != o1 (60 h), but a2 names none (36 h)
        ("a4", "p1", "o1", at(128)),  # a3 is 68 h before but about o2; a2 104 h
        ("b1", "p2", "o5", at(0)),
        ("b2", "p2", "o6", at(1)),  # two orders: two problems
        ("c1", None, None, at(0)),  # nobody known: never a repeat
        ("c2", None, None, at(1)),
        ("d1", "p3", None, at(0)),
        ("d2", "p3", None, at(72)),  # exactly at the window's end is inside it
    ]
    # WHEN the true repeats are computed with a 72 h window
    repeats, has_repeat, pairs = _repeats(items, timedelta(hours=72))
    # THEN
    assert repeats == {"a2", "a3", "d2"}
    assert has_repeat == {"a1", "a2", "d1"}
    assert pairs == {("a1", "a2"), ("a2", "a3"), ("d1", "d2")}


def test_a_clock_mismatch_is_a_target_or_elapsed_time_apart_or_a_missing_clock():
    # GIVEN completed clocks (target, elapsed business seconds) on both sides
    truth = {"t1": (3600.0, 1800.0), "t2": (7200.0, 9000.0), "t3": (600.0, 60.0)}
    marts = {"t1": (3600.0, 1800.5), "t2": (7200.0, 8000.0), "t4": (600.0, 0.0)}
    # WHEN they are compared
    mismatches = _clock_mismatches(truth, marts)
    # THEN half a second is the same clock; t2 measured apart, t3 and t4 on one side only
    assert mismatches == 3


def test_a_post_is_visible_by_its_handle_a_written_order_or_as_its_own_account(tmp_path: Path):
    # GIVEN stream files: c1's order o-1001 (app event), a known post by c1 as
    # "deer", and anonymous posts: by "deer" again, one writing O-1001 in its
    # text, one writing o-10011 (no known order), and one malformed line; c3's
    # call reading out a mobile that an anonymous post writes too; a ticket the
    # social team opened from an anonymous post by "bee", naming c4
    def write(stream: str, rows: list) -> None:
        text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows)
        (tmp_path / f"{stream}.jsonl").write_text(text + "\n", encoding="utf-8")

    def post(event_id: str, handle: str, customer: str | None, text: str) -> dict:
        return {
            "event_id": event_id,
            "platform": "weibo",
            "author_handle": handle,
            "customer_id": customer,
            "order_id": None,
            "text": text,
        }

    write("app_events", [{"event_id": "a1", "customer_id": "c1", "order_id": "o-1001"}])
    write(
        "calls",
        [
            {"event_id": "k1", "customer_id": "c2", "order_id": None},
            {"event_id": "k2", "customer_id": "c3", "transcript": "我的手机号是13800138000"},
        ],
    )
    write(
        "ticket_events",
        [
            {
                "event_id": "t1",
                "event_type": "created",
                "customer_id": "c4",
                "source_contact_id": "p6",
                "text": "舆情转工单",
            },
            {"event_id": "t2", "event_type": "resolved", "customer_id": "c5"},
        ],
    )
    write(
        "social_posts",
        [
            post("p1", "deer", "c1", "hello"),
            post("p2", "deer", None, "again"),
            post("p3", "fox", None, "订单O-1001还没到"),
            post("p5", "cat", None, "Where is o-1001."),
            post("p4", "owl", None, "order o-10011?"),
            "{not json",
            post("p6", "bee", None, "又丢件"),
            post("p7", "bee", None, "还没人管"),
            post("p8", "ant", None, "call me on 138 0013 8000"),
        ],
    )
    # WHEN each contact's visible person is read, skipping the planted line
    people = _visible_people(tmp_path, {"social_posts": {6}})
    # THEN
    assert people == {
        "k1": "c2",
        "p1": "c1",
        "p2": "c1",  # its handle is c1's
        "p3": "c1",  # the order it writes is c1's
        "p5": "c1",  # also at the end of a sentence
        "p4": ("handle", "weibo", "owl"),  # nothing links it: the account is the person
        "k2": "c3",
        "t1": "c4",  # a ticket opened from a post is not a contact, but names its customer
        "p6": "c4",  # the ticket opened from it names its author
        "p7": "c4",  # so does its handle's other post
        "p8": "c3",  # the mobile it writes was read out on c3's call
    }
