"""The customer's own words of a contact: agent turns, speaker labels, order
numbers, handles and boilerplate sentences removed. Pure, no Beam.

Boilerplate is learnt from the batch itself: a sentence (digits folded) that
occurs in many different contacts is a greeting, a closing or a channel's
stock phrase ("不着急，帮我确认下就行", "Thank you for calling ..."), not what
went wrong; `Boilerplate.fit` finds them, `customer_words` drops them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from voc.tagging.base import normalise

_AGENT = re.compile(r"^\s*(agent|客服|坐席|service|support|rep)\s*[:：]", re.I)
_CUSTOMER = re.compile(r"^\s*(customer|caller|客户|用户|顾客)\s*[:：]\s*", re.I)
_NOISE = re.compile(
    r"(@\S+|#[^#\s]+#?|https?://\S+|\b[a-z]+-[a-z]+-\d+\b|\b[a-z]{2,4}-\d+(-\d+)*\b|\d+)", re.I
)
_SENTENCE = re.compile(r"[。！？!?；;\n]+|[，,](?=\s*)|(?<=[a-z])\.\s+", re.I)
BOILERPLATE_MIN_DOCS = 10
BOILERPLATE_SHARE = 0.02
BOILERPLATE_SHINGLE_SHARE = 0.02


def customer_turns(text: str) -> str:
    """The customer's side of a transcript (every line when nobody is labelled)."""
    lines = (text or "").splitlines()
    if not any(_AGENT.match(line) or _CUSTOMER.match(line) for line in lines):
        return text or ""
    return "\n".join(_CUSTOMER.sub("", line) for line in lines if not _AGENT.match(line))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _key(sentence: str) -> str:
    return _NOISE.sub("", normalise(sentence)).strip(" ，,.。!！?？")


_CJK = re.compile(r"[\u4e00-\u9fff]+")
_LATIN = re.compile(r"[a-z']+")
BOILERPLATE_COMMON_SHARE = 0.5


def _shingles(key: str) -> set[str]:
    """Character 3-grams of Chinese runs and word pairs of English: what a
    sentence is made of, slot values included."""
    out = {run[i : i + 3] for run in _CJK.findall(key) for i in range(max(1, len(run) - 2))}
    words = _LATIN.findall(key)
    out |= {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)} or set(words)
    return out


@dataclass(frozen=True)
class Boilerplate:
    """What recurs across many contacts and so says nothing about a problem:
    sentences seen whole in many contacts, and sentences made mostly of
    shingles seen in many contacts (a stock phrase with a varying slot, "我昨天
    买的冰箱", "I shipped it this morning")."""

    keys: frozenset[str]
    common: frozenset[str] = frozenset()

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Boilerplate:
        docs: Counter = Counter()
        shingle_docs: Counter = Counter()
        for t in texts:
            keys = {_key(s) for s in sentences(customer_turns(t))}
            docs.update(keys)
            shingle_docs.update(set().union(*(_shingles(k) for k in keys)) if keys else set())
        bar = max(BOILERPLATE_MIN_DOCS, BOILERPLATE_SHARE * len(texts))
        shingle_bar = max(BOILERPLATE_MIN_DOCS, BOILERPLATE_SHINGLE_SHARE * len(texts))
        return cls(
            frozenset(k for k, n in docs.items() if k and n >= bar),
            frozenset(g for g, n in shingle_docs.items() if n >= shingle_bar),
        )

    def __contains__(self, key: str) -> bool:
        if key in self.keys:
            return True
        shingles = _shingles(key)
        if not shingles or not self.common:
            return False
        return sum(g in self.common for g in shingles) / len(shingles) >= BOILERPLATE_COMMON_SHARE


def customer_words(text: str, boilerplate: Boilerplate | None = None) -> str:
    """The customer's turns, normalised, without noise tokens or boilerplate sentences."""
    kept = []
    for s in sentences(customer_turns(text)):
        key = _key(s)
        if key and (boilerplate is None or key not in boilerplate):
            kept.append(key)
    return " ".join(kept)
