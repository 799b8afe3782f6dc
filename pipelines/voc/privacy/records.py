"""Which fields of each input stream are free text, and masking a whole record.

Free text is where a customer or an agent writes what they like: a call's
transcript, a ticket's text, a social post's text and its author's handle,
and every string inside an app event's free-form `properties`. Ids, enums,
codes and times are constrained by the schemas and hold no free text.
"""

from __future__ import annotations

from typing import Any

from voc.privacy.mask import Masker

FREE_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "calls": ("transcript",),
    "ticket_events": ("text",),
    "social_posts": ("text", "author_handle"),
    "app_events": ("properties",),
}
PII_KEYS_FIELD = "pii_keys"


def mask_record(stream: str, record: dict[str, Any], masker: Masker) -> dict[str, Any]:
    """Mask the record's free-text fields in place and add the keyed hashes of
    the phones and emails found to `pii_keys` (kept with any already there)."""
    keys: set[str] = set()
    for name in FREE_TEXT_FIELDS.get(stream, ()):
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            masked = masker.mask(value)
            if masked.counts:
                record[name] = masked.text
                keys.update(masked.keys)
        else:
            record[name] = masker.mask_value(value, keys)
    if keys:
        record[PII_KEYS_FIELD] = sorted(keys.union(record.get(PII_KEYS_FIELD) or ()))
    return record
