"""Personal data in free text: find it, mask it, measure how well (DECISIONLOG "Privacy")."""

from voc.privacy.mask import KINDS, Finding, Masked, Masker, find_pii

__all__ = ["KINDS", "Finding", "Masked", "Masker", "find_pii"]
