"""Case detectors: repeat-contact loops and escalation threats."""

from __future__ import annotations

import pytest

from voc.detect.emotion import escalation_cue
from voc.detect.repeat import RepeatDetector

H = 3600


def contact(i, t, scenario="s.a.b", order=None, customer="cus-1", channel="call"):
    return {
        "contact_id": f"c{i}",
        "customer_id": customer,
        "scenario_id": scenario,
        "order_id": order,
        "channel": channel,
        "domain": "ecommerce",
        "journey_stage": "after_sale",
    }, t


def test_third_contact_about_one_issue_in_72h_opens_one_loop():
    det = RepeatDetector()
    events = [
        contact(1, 0, channel="call"),
        contact(2, 20 * H, channel="web"),
        contact(3, 50 * H, channel="email"),
        contact(4, 60 * H),
    ]
    verdicts = [det.observe(c, t) for c, t in events]
    # THEN the third contact opens the loop across channels; the fourth adds no alert
    assert verdicts[0] is None and verdicts[1] is None and verdicts[3] is None
    assert verdicts[2].contact_ids == ("c1", "c2", "c3")
    assert verdicts[2].channels == ("call", "web", "email")


def test_contacts_spread_over_more_than_72h_or_about_other_issues_do_not_loop():
    det = RepeatDetector()
    spread = [contact(1, 0), contact(2, 40 * H), contact(3, 80 * H)]
    assert [det.observe(c, t) for c, t in spread] == [None, None, None]
    det = RepeatDetector()
    mixed = [contact(1, 0, "s.a.b"), contact(2, H, "s.a.c"), contact(3, 2 * H, "s.a.d")]
    assert [det.observe(c, t) for c, t in mixed] == [None, None, None]


def test_a_replayed_contact_counts_once():
    det = RepeatDetector()
    c, _ = contact(1, 0)
    assert [det.observe(c, t) for t in (0, H, 2 * H)] == [None, None, None]


@pytest.mark.parametrize(
    "text",
    [
        "再不解决我就打12315投诉你们",
        "我要找媒体曝光你们",
        "等着收律师函吧",
        "I'll talk to my LAWYER about this",
        "I am going to report you to the consumer protection office",
        "打１２３１５",  # full-width digits
    ],
)
def test_escalation_threats_are_found_in_both_languages(text):
    assert escalation_cue(text)


@pytest.mark.parametrize(
    "text",
    ["我要投诉！你们太慢了", "冷藏车温度报警了", "I want to complain, this is slow", "", None],
)
def test_plain_complaints_and_alarms_are_not_threats(text):
    assert escalation_cue(text) is None


def test_tags_from_app_events_alone_do_not_link_contacts():
    # GIVEN three contacts whose only tag came from the customer's app events
    det = RepeatDetector()
    events = [contact(i, i * H) for i in range(3)]
    for c, _ in events:
        c["method"] = "signal"
    # THEN no loop: the app said what happened, not what each contact is about
    assert [det.observe(c, t) for c, t in events] == [None, None, None]
