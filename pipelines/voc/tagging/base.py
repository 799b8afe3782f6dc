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


# NFKC's own mapping of full-width ASCII forms and the ideographic space: in
# Chinese text nearly every character NFKC changes is one of these.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """Fold Chinese and English alike: NFKC (full-width -> half-width), lower case.

    Memoised: the rules, the semantic tagger and the relevance model each fold
    the same text of a batch, and NFKC is the costliest step of a short text.
    The full-width forms are mapped first, as NFKC maps them; when what is left
    is NFKC already (a quick check, most Chinese text), that is NFKC of the text
    (NFKC(x) = NFKC(x with some of its own mappings applied)), else NFKC runs."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return text.lower()
    folded = text.translate(_FULL_WIDTH)
    if unicodedata.is_normalized("NFKC", folded):
        return folded.lower()
    return unicodedata.normalize("NFKC", text).lower()


def normalise_many(texts: Sequence[str]) -> list[str]:
    """`normalise` of each text, the full-width forms of the whole batch mapped
    in one vectorised pass (`str.translate` costs about as much as NFKC itself
    on Chinese text): equal to `normalise`, not memoised."""
    import numpy as np

    if not texts:
        return []
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32).copy()
    wide = (codes >= 0xFF01) & (codes <= 0xFF5E)
    codes[wide] -= 0xFEE0
    codes[codes == 0x3000] = 0x20
    folded = codes.tobytes().decode("utf-32-le", "surrogatepass")
    out, start = [], 0
    is_nfkc, nfkc = unicodedata.is_normalized, unicodedata.normalize
    for text in texts:
        end = start + len(text)  # the mapping is one character to one
        if text.isascii():
            out.append(text.lower())
        else:
            piece = folded[start:end]
            out.append(piece.lower() if is_nfkc("NFKC", piece) else nfkc("NFKC", text).lower())
        start = end
    return out
