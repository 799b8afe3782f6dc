"""The customer's own words: agent turns and boilerplate out, the problem in."""

from __future__ import annotations

from voc.learning.words import Boilerplate, customer_turns, customer_words


def test_agent_turns_and_speaker_labels_are_removed() -> None:
    # GIVEN a call transcript in Chinese and one in English
    zh = "客服：您好，请讲。\n客户：我的包裹显示签收了但我没收到。\n客服：好的，我帮您查一下。"
    en = "Agent: Thank you for calling, how can I help?\nCustomer: My refund never arrived."
    # WHEN the customer's turns are taken
    # THEN only what the customer said is left, without the label
    assert customer_turns(zh) == "我的包裹显示签收了但我没收到。"
    assert customer_turns(en) == "My refund never arrived."
    assert customer_turns("没有说话人的一段文字") == "没有说话人的一段文字"


def test_sentences_shared_by_many_contacts_are_boilerplate() -> None:
    # GIVEN 300 contacts about 60 problems (5 each) that all close with the
    # same stock phrase and open with a stock phrase whose slot varies
    products = ["冰箱", "洗衣机", "空调", "电视", "床垫"]
    objects = [
        "门把手",
        "遥控器",
        "说明书",
        "保修卡",
        "电源线",
        "滤网",
        "螺丝",
        "底座",
        "支架",
        "面板",
    ]
    problems = [
        f"{o}{v}" for o in objects for v in ("掉了", "断了", "裂了", "坏了", "松了", "丢了")
    ]
    texts = [
        f"我昨天买的{products[i % 5]}，{problems[i % 60]}。不着急，帮我确认下就行。"
        for i in range(300)
    ]
    # WHEN boilerplate is learnt from them and each is cut to its words
    boilerplate = Boilerplate.fit(texts)
    words = [customer_words(t, boilerplate) for t in texts]
    # THEN the stock phrases are gone and every problem sentence stays
    assert not any("确认" in w or "买的" in w for w in words)
    assert all(
        problems[i % 60].replace("第", "") in w.replace("第", "") for i, w in enumerate(words)
    )
