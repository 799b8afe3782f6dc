from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voc.tagging.transcript import customer_text, split_turns


def test_a_chinese_transcript_keeps_only_the_customer_turns():
    # GIVEN a call where the agent names a scenario the customer never raised
    text = "客服：您好，您说的是物流延迟的情况对吧？\n客户：不是，我买的洗发水是假的\n客服：好的"
    # WHEN the customer's words are taken
    # THEN the agent's guess is gone
    assert customer_text(text) == "不是，我买的洗发水是假的"


def test_an_english_inline_transcript_keeps_only_the_customer_turns():
    text = (
        "Agent: Thank you for calling, how can I help? "
        "Customer: my card was charged twice. Agent: sorry"
    )
    assert customer_text(text) == "my card was charged twice."


def test_a_post_without_speaker_labels_is_kept_whole():
    assert customer_text("客服都是爱理不理的，快递也慢") == "客服都是爱理不理的，快递也慢"


def test_only_agent_turns_leave_nothing_of_the_customer():
    assert customer_text("坐席：您好，请问还在吗？") == ""


def test_turns_are_labelled_by_speaker():
    turns = split_turns("坐席:你好 用户：退款没到账")
    assert turns == [("agent", "你好"), ("customer", "退款没到账")]


@given(st.text(max_size=200))
def test_customer_text_never_invents_words(text):
    # THEN every line it returns is a piece of the input
    for line in customer_text(text).split("\n"):
        assert line.strip() in text
