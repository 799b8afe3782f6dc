"""Emotional escalation: a contact that threatens to take the problem outside
(regulator, press, lawyer, public exposure). Pure and Beam-free.

A plain complaint ("我要投诉", "I want to complain") is the customer using our
own channel and is routed as usual; a threat to go to the consumer hotline
12315, the consumer association, the market regulator, the press, social
exposure, a lawyer or a court (or naming such a party with a threat word) is
an urgent case for a human now, whatever the volume around it. "报警" alone is
not a cue: it is also an equipment alarm. Only the customer's words are read
(an agent's turns are dropped).
Chinese and English are read alike (case-folded, full-width digits folded by
NFKC).
"""

from __future__ import annotations

import re

from voc.tagging.transcript import customer_words

_ZH = (
    r"12315",
    r"12345热线",
    r"消协",
    r"消费者协会",
    r"市场监管",
    r"工商局",
    r"黑猫投诉",
    r"曝光(?:你们|你|他们|这)",
    r"(?:媒体|微博|抖音|网上|电视|朋友圈).{0,4}曝光",
    r"媒体",
    r"记者",
    r"律师",
    r"起诉",
    r"法院",
    r"打官司",
    r"去.{0,6}(?:监管|工商|消协)",
)
_EN = (
    r"\blawyers?\b",
    r"\battorney\b",
    r"\bsue\b",
    r"\blegal action\b",
    r"\bsmall claims\b",
    # "report you" is a threat when it is an intent ("I'll report you", "report
    # you to ..."); as a noun phrase ("report you guys listed") it is a complaint.
    r"\b(?:will|'ll|going to|gonna|shall|i'm|i am) report (?:you|this|your company)\b",
    r"\breport (?:you|this|your company) to\b",
    r"\bconsumer (?:protection|council|association|rights)\b",
    r"\b(?:to|contact|call|tell) (?:the )?regulators?\b",
    r"\bjournalists?\b",
    r"\bthe press\b",
    r"\bthe media\b",
    r"\bgo(?:ing)? public\b",
    r"\bbetter business bureau\b",
)
# A party outside (regulator, press, police, court) named with a threat word:
# "监管威胁", "媒体吓唬", "threatened with the police", "legal threat". Neither
# alone is a cue (报警 is also an equipment alarm; a threat may be a courier's).
_PARTY = (
    r"(?:12315|监管|消协|工商|媒体|记者|网上|微博|律师|法院|法律|起诉|警察|报警|派出所|公安|"
    r"regulators?|watchdog|authorit(?:y|ies)|media|press|police|cops?|court|lawyers?|"
    r"attorney|legal)"
)
_THREAT_WORD = r"(?:威胁|恐吓|吓唬|threat\w*|intimidat\w*)"
THREAT = re.compile(
    "|".join(
        _ZH + _EN + (_PARTY + r".{0,12}?" + _THREAT_WORD, _THREAT_WORD + r".{0,12}?" + _PARTY)
    ),
    re.IGNORECASE,
)


def escalation_cue(text: str | None) -> str | None:
    """The threat found in `text`, or None."""
    return threat_in(customer_words(text))  # an agent's words are not the customer's threat


def threat_in(said: str) -> str | None:
    """The threat in `said` (a text's `customer_words`), or None."""
    m = THREAT.search(said) if said else None
    return m.group(0) if m else None
