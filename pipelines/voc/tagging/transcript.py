"""The customer's own words in a contact text (pure, no Beam).

A call transcript or chat log alternates speakers, each turn opened by a label
("客服：", "坐席:", "Agent:", "客户：", "Customer:" ...). What went wrong is in
the customer's turns; the agent's turns repeat greetings, scripts and, worse,
the agent's guess at the scenario. So taggers and the untagged-contact
clustering read `customer_text(text)`: the customer turns joined, or the whole
text when it has no speaker labels (a post, a ticket, a review)."""

from __future__ import annotations

import re
import unicodedata

# Labels that open an agent's turn and a customer's turn. A label counts at the
# start of the text, a line, or after sentence punctuation / a space.
AGENT_LABELS = (
    "客服",
    "坐席",
    "人工客服",
    "在线客服",
    "客服专员",
    "客服人员",
    "话务员",
    "接线员",
    "工作人员",
    "机器人",
    "智能客服",
    "小助手",
    "商家",
    "卖家",
    "agent",
    "rep",
    "representative",
    "operator",
    "advisor",
    "csr",
    "support",
    "bot",
    "assistant",
    "staff",
)
CUSTOMER_LABELS = (
    "客户",
    "用户",
    "顾客",
    "买家",
    "来电人",
    "来电",
    "会员",
    "乘客",
    "司机",
    "货主",
    "寄件人",
    "收件人",
    "customer",
    "caller",
    "client",
    "user",
    "member",
    "buyer",
)

_LABEL_RE = re.compile(
    r"(?:^|(?<=[\n\r。！？!?.;；\s]))\s*[\[【(（]?("
    + "|".join(
        sorted((re.escape(x) for x in (*AGENT_LABELS, *CUSTOMER_LABELS)), key=len, reverse=True)
    )
    + r")(?:\s*\d{1,2})?[\]】)）]?\s*[:：]",
    re.IGNORECASE,
)
_AGENT = {x.lower() for x in AGENT_LABELS}


def split_turns(text: str) -> list[tuple[str | None, str]]:
    """(speaker, words) per turn; speaker is "agent", "customer", or None for
    text before the first label (or the whole text when it has none)."""
    turns: list[tuple[str | None, str]] = []
    matches = list(_LABEL_RE.finditer(text))
    if not matches:
        return [(None, text)]
    head = text[: matches[0].start()].strip()
    if head:
        turns.append((None, head))
    for m, nxt in zip(matches, [*matches[1:], None], strict=True):
        words = text[m.end() : nxt.start() if nxt else len(text)].strip()
        who = "agent" if m.group(1).lower() in _AGENT else "customer"
        if words:
            turns.append((who, words))
    return turns


def customer_text(text: str | None) -> str:
    """The customer's turns of a transcript, joined by newlines; the text
    unchanged when it has no speaker labels, or only customer/unlabelled
    turns. A transcript with only agent turns gives "" (nothing the customer
    said)."""
    if not text:
        return ""
    if ":" not in text and "：" not in text:
        return text  # every speaker label ends in a colon
    turns = split_turns(text)
    if len(turns) == 1 and turns[0][0] is None:
        return text
    if not any(who == "agent" for who, _ in turns):
        return text
    return "\n".join(words for who, words in turns if who != "agent")


def customer_words(text: str | None) -> str:
    """`customer_text`, NFKC-normalised (full-width digits and letters folded):
    what the detector's cues (threat, return, stated count) read."""
    said = customer_text(text)
    return unicodedata.normalize("NFKC", said) if said else ""
