"""The tagger contract every tagger implements.

A tagger takes a batch of texts and, for each, the context the pipeline knows
(domain, channel, journey stage and recent journey events, entry point, ticket
category) and returns a Tag or None (abstain: the contact stays "untagged").
Batches, not single texts, so that keyword automata and models run vectorised.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

METHODS = ("signal", "keyword", "semantic", "model")


@dataclass(frozen=True, slots=True)
class TagContext:
    domain: str
    channel: str
    language: str = "zh"
    journey_stage: str | None = None
    recent_events: tuple[str, ...] = ()
    entry_point: str | None = None
    category_code: str | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    scenario_id: str
    confidence: float  # in [0, 1]
    method: str  # one of METHODS
    evidence: str  # human-readable: which signal, keywords or model decided


class Tagger(Protocol):
    def tag_batch(self, texts: Sequence[str], contexts: Sequence[TagContext]) -> list[Tag | None]:
        """One Tag or None (abstain) per text, in order."""
        ...


@lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """Fold Chinese and English alike: NFKC (full-width -> half-width), lower case.

    Memoised: the rules, the semantic tagger and the relevance model each fold
    the same text of a batch, and NFKC is the costliest step of a short text."""
    return unicodedata.normalize("NFKC", text).lower()
