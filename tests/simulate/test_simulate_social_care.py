"""Social care: the social team answers posts about a problem and, once the
author says who they are, opens a ticket naming the post and the customer."""

from __future__ import annotations

import json
import re
from pathlib import Path

from voc.simulate import SimulationSummary
from voc.simulate.contacts import SOCIAL_ANSWERED_SHARE, SOCIAL_DM_REPLY_SHARE
from voc.simulate.pii import person


def _valid_lines(path: Path):
    for line in path.read_bytes().splitlines():
        try:
            yield json.loads(line)
        except ValueError:
            continue  # a deliberately malformed line


def test_answered_posts_become_tickets_naming_the_post_and_its_author(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the simulated posts, the tickets opened from them and the truth
    out, _ = simulated
    truth = {r["contact_id"]: r for r in _valid_lines(out / "ground_truth" / "contacts.jsonl")}
    posts = [p for p in _valid_lines(out / "social_posts.jsonl") if p.get("event_id") in truth]
    created = {
        t["source_contact_id"]: t
        for t in _valid_lines(out / "ticket_events.jsonl")
        if t.get("event_type") == "created" and t.get("channel") == "social"
    }
    anonymous = [p for p in posts if not p.get("customer_id")]
    about_a_problem = [p for p in anonymous if truth[p["event_id"]]["scenario_id"]]
    off_topic = [p for p in posts if not truth[p["event_id"]]["scenario_id"]]
    assert len(about_a_problem) > 200

    # THEN every such ticket names the post's true author and order
    for post_id, ticket in created.items():
        assert ticket["customer_id"] == truth[post_id]["customer_id"]
        assert ticket["order_id"] == truth[post_id]["order_id"]
    # AND no off-topic post gets one
    assert not any(p["event_id"] in created for p in off_topic)
    # AND anonymous posts about a problem get one at about the answered x
    # written-back rate (less the exchanges that end after the data)
    share = sum(p["event_id"] in created for p in about_a_problem) / len(about_a_problem)
    expected = SOCIAL_ANSWERED_SHARE * SOCIAL_DM_REPLY_SHARE
    assert expected - 0.08 < share < expected + 0.05
    # AND the ticket of an anonymous author holds what they gave: their order
    # number, else one of their phone numbers
    for post in about_a_problem:
        ticket = created.get(post["event_id"])
        if ticket is None:
            continue
        if ticket["order_id"]:
            assert ticket["order_id"] in ticket["text"]
        else:
            digits = re.sub(r"[ +]", "", ticket["text"])
            mobiles = person(ticket["customer_id"]).mobiles
            assert any(m in digits for m in mobiles), ticket["text"]
