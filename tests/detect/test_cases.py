"""Case detectors: repeat-contact loops and escalation threats."""

from __future__ import annotations

import pytest

from voc.detect.emotion import escalation_cue
from voc.detect.repeat import RepeatDetector, return_cue, stated_count

H = 3600
NEW = "我买的冰箱不制冷，麻烦看一下。"
BACK = "上次说好给我回电，到现在也没人处理。"
SECOND = "这是我第二次联系你们了，冰箱还是不制冷。"
THIRD = "这是我第三回打电话了，上次说好给我回电，到现在也没人处理。"


def contact(i, t, text=NEW, order="ord-1", customer="cus-1", channel="call"):
    return {
        "contact_id": f"c{i}",
        "customer_id": customer,
        "order_id": order,
        "channel": channel,
        "text": text,
        "domain": "ecommerce",
        "journey_stage": "after_sale",
    }, t


def observe_all(det, events):
    return [det.observe(c, t) for c, t in events]


def test_a_customer_coming_back_twice_about_one_order_opens_one_loop_across_channels():
    # GIVEN a first contact, then two returns about the same order on other channels
    det = RepeatDetector()
    events = [
        contact(1, 0, channel="call"),
        contact(2, 20 * H, BACK, channel="web"),
        contact(3, 50 * H, "I already reported this, still waiting.", channel="email"),
        contact(4, 60 * H, BACK),
    ]
    verdicts = observe_all(det, events)
    # THEN the third contact opens the loop; the fourth belongs to it and adds no alert
    assert verdicts[0] is None and verdicts[1] is None and verdicts[3] is None
    assert verdicts[2].contact_ids == ("c1", "c2", "c3")
    assert verdicts[2].channels == ("call", "web", "email")
    assert verdicts[2].key == "cus-1|ord-1"


def test_new_problems_on_one_order_or_returns_spread_past_72h_do_not_loop():
    # GIVEN three different problems raised about one order in a day (no return)
    det = RepeatDetector()
    assert observe_all(det, [contact(i, i * H) for i in range(3)]) == [None] * 3
    # AND a first contact and two returns spread over more than 72 h
    det = RepeatDetector()
    spread = [contact(1, 0), contact(2, 40 * H, BACK), contact(3, 80 * H, BACK)]
    assert observe_all(det, spread) == [None] * 3
    # AND returns about another order of the same customer
    det = RepeatDetector()
    other = [contact(1, 0), contact(2, H, BACK), contact(3, 2 * H, BACK, order="ord-2")]
    assert observe_all(det, other) == [None] * 3


def test_a_second_loop_on_the_same_order_is_a_second_alert():
    det = RepeatDetector()
    first = [contact(1, 0), contact(2, H, BACK), contact(3, 2 * H, BACK)]
    second = [contact(4, 3 * H), contact(5, 4 * H, BACK), contact(6, 5 * H, BACK)]
    verdicts = observe_all(det, first + second)
    assert [v is not None for v in verdicts] == [False, False, True, False, False, True]


def test_two_second_contacts_are_two_problems_and_a_stated_third_is_a_loop():
    # GIVEN two problems on one order, each raised a second time ("second time" twice)
    det = RepeatDetector()
    two = [contact(1, 0), contact(2, H), contact(3, 2 * H, SECOND), contact(4, 3 * H, SECOND)]
    assert observe_all(det, two) == [None] * 4
    # WHEN a return says it is the third contact (the first was on a channel not seen)
    det = RepeatDetector()
    third = observe_all(det, [contact(1, 0), contact(2, H), contact(3, 2 * H, THIRD)])
    # THEN it opens a loop on its own words; a second, vague return then opens it too
    assert third[:2] == [None, None] and third[2].contact_ids == ("c1", "c2", "c3")
    det = RepeatDetector()
    vague = observe_all(det, [contact(1, 0), contact(2, H, SECOND), contact(3, 2 * H, BACK)])
    assert vague[2] is not None and vague[2].cues == (return_cue(SECOND), return_cue(BACK))
    # AND a fourth contact restating "third time" belongs to the loop already alerted
    det = RepeatDetector()
    again = [contact(1, 0), contact(2, H, SECOND), contact(3, 2 * H, THIRD)]
    assert [v is not None for v in observe_all(det, again + [contact(4, 3 * H, THIRD)])] == [
        False,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("这是我第三次联系你们了", 3),
        ("第二回打电话了", 2),
        ("我前面已经反映过两次了", 3),
        ("已经投诉过一次", 2),
        ("This is my third time contacting you.", 3),
        ("I already reported this twice.", 3),
        ("I have called you once already", 2),
        ("上次说好给我回复的", None),
        ("Agent: this is the third time we checked.\nCustomer: still waiting", None),
    ],
)
def test_the_count_a_customer_states_is_read(text, count):
    assert stated_count(text) == count


def linked(i, t, opened=None, names=None, text=NEW, order="ord-1"):
    c, t = contact(i, t, text, order)
    return {**c, "ticket_id": opened, "related_ticket_id": names}, t


def test_returns_that_name_the_problems_ticket_loop_without_saying_so():
    # GIVEN a first contact that opened a ticket and two returns in plain words
    # naming it (one through the follow-up ticket the first return opened)
    det = RepeatDetector()
    events = [
        linked(1, 0, opened="t1"),
        linked(2, 5 * H, opened="t2", names="t1"),
        linked(3, 30 * H, names="t2"),
    ]
    verdicts = observe_all(det, events)
    # THEN the third opens the loop: the link says it is a return, and of which problem
    assert verdicts[:2] == [None, None]
    assert verdicts[2].contact_ids == ("c1", "c2", "c3")
    assert verdicts[2].cues == ("ticket t1", "ticket t2")


def test_returns_naming_two_tickets_are_two_problems_whatever_they_say():
    # GIVEN two problems of one order, each with a ticket, and one return on each
    # saying it is back (words alone would pair them)
    det = RepeatDetector()
    events = [
        linked(1, 0, opened="t1"),
        linked(2, H, opened="t2"),
        linked(3, 5 * H, names="t1", text=BACK),
        linked(4, 9 * H, names="t2", text=BACK),
    ]
    # THEN no loop: the tickets say they are second contacts about two problems
    assert observe_all(det, events) == [None] * 4


def test_a_replayed_contact_counts_once():
    det = RepeatDetector()
    c, _ = contact(1, 0, BACK)
    assert [det.observe(c, t) for t in (0, H, 2 * H)] == [None, None, None]


@pytest.mark.parametrize(
    "text",
    [
        "这是我第二次联系你们了",
        "上次说好给我回复的",
        "我之前打过电话",
        "I already reported this once.",
        "You promised to call me back.",
        "Still waiting for a refund",
        "Customer: I'm calling you again about the fridge",
        "还是上回那个退款的事",
        "我都打了好几次了",
        "Same problem as last time.",
        "I have called you so many times",
        "I called you again and again",
        "我已经跟你们反映过了",
    ],
)
def test_a_return_is_read_in_both_languages(text):
    assert return_cue(text)


@pytest.mark.parametrize(
    "text",
    [
        "fixed and broke again",
        "客服：请您稍后再次查询。\n客户：好的，冰箱不制冷。",
        "Agent: please check again later.\nCustomer: OK, the fridge is warm.",
        "我买的冰箱不制冷",
        "等了好几天了还没到",  # waiting long is not coming back
        "It failed several times this morning",
        "The installer rescheduled again and again",  # what keeps happening, not a contact
        # what they tried elsewhere first: not a return to us
        "之前问过商家，说是要等",
        "我已经跟卖家反映过了",
        "I already told the driver.",
        "I already complained to the seller about it",
        "",
        None,
    ],
)
def test_the_agents_words_and_other_agains_are_not_returns(text):
    assert return_cue(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "再不解决我就打12315投诉你们",
        "我要找媒体曝光你们",
        "等着收律师函吧",
        "I'll talk to my LAWYER about this",
        "I am going to report you to the consumer protection office",
        "I'll report you",
        "打１２３１５",  # full-width digits
        "监管威胁啊！我要找你们领导",  # a party outside named with a threat word
        "So consumer authority intimidating??",
    ],
)
def test_escalation_threats_are_found_in_both_languages(text):
    assert escalation_cue(text)


@pytest.mark.parametrize(
    "text",
    [
        "我要投诉！你们太慢了",
        "冷藏车温度报警了",
        "I want to complain, this is slow",
        "Basically report you channel. Please check.",  # a complaint, not an intent
        "快递员威胁我要差评",  # a threat, but no party outside
        "客服：您可以拨打12315咨询。\n客户：好的，谢谢。",  # the agent's words
        "",
        None,
    ],
)
def test_plain_complaints_and_alarms_are_not_threats(text):
    assert escalation_cue(text) is None
