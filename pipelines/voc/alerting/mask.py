"""Mask personal data in example texts before they leave the warehouse (alert
cards, the weekly report). Uses the project's PII masker (`voc.privacy`) when
it is installed; until then a conservative fallback masks the two kinds an
example text most often carries (phone numbers and email addresses)."""

from __future__ import annotations

import re
from functools import lru_cache

_FALLBACK = (
    (
        re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9A-Za-z])"),
        "<PHONE>",
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<EMAIL>"),
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "<ID_CARD>"),
)


@lru_cache(maxsize=1)
def _masker():
    try:
        from voc.privacy.mask import Masker
    except ImportError:
        return None
    # Only the masked text is used here, never the keyed hashes.
    return Masker(b"voc-loop-examples")


def mask_text(text: str) -> str:
    masker = _masker()
    if masker is not None:
        return masker.mask(text).text
    for pattern, token in _FALLBACK:
        text = pattern.sub(token, text)
    return text
