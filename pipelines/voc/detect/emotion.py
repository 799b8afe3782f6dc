"""Emotional escalation: a contact that threatens to take the problem outside
(regulator, press, lawyer, public exposure). Pure and Beam-free.

A plain complaint ("我要投诉", "I want to complain") is the customer using our
own channel and is routed as usual; a threat to go to the consumer hotline
12315, the consumer association, the market regulator, the press, social
exposure, a lawyer or a court is an urgent case for a human now, whatever
the volume around it. "报警" is not a cue: it is also an equipment alarm.
Chinese and English are read alike (case-folded, full-width digits folded by
NFKC).
"""

from __future__ import annotations

import re
import unicodedata

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
    r"\breport (?:you|this|your company)\b",
    r"\bconsumer (?:protection|council|association|rights)\b",
    r"\b(?:to|contact|call|tell) (?:the )?regulators?\b",
    r"\bjournalists?\b",
    r"\bthe press\b",
    r"\bthe media\b",
    r"\bgo(?:ing)? public\b",
    r"\bbetter business bureau\b",
)
THREAT = re.compile("|".join(_ZH + _EN), re.IGNORECASE)


def escalation_cue(text: str | None) -> str | None:
    """The threat found in `text`, or None."""
    if not text:
        return None
    m = THREAT.search(unicodedata.normalize("NFKC", text))
    return m.group(0) if m else None
