"""Mask personal data in free text before it is stored or published.

Pure (no Beam). `Masker.mask(text)` finds Chinese mobile and landline
numbers, 18-digit resident ID-card numbers, bank-card numbers, emails,
Chinese licence plates and the house numbers of addresses, and replaces each
with a typed token (`<PHONE>`, `<ID_CARD>`, `<BANK_CARD>`, `<EMAIL>`,
`<PLATE>`, `<ADDRESS_NO>`). Phones and emails also yield a keyed hash
(`phone:<hex>`, `email:<hex>`, HMAC-SHA256 of the normalised value with the
configured key), so that contacts of one person can still be joined without
the value itself being kept.

How: one regular expression per kind finds candidates at digit/letter
boundaries (a digit run inside a longer run, or glued to letters like a
waybill `SF1234567890123`, is never a candidate); then a validator decides:
`stdnum.cn.ric` for ID cards (region, birth date, ISO 7064 check digit),
Luhn plus an issuer prefix for bank cards, and the `phonenumbers` metadata
for Chinese phone numbers (a valid mobile or fixed-line number). Overlaps
keep the earliest, then the longest finding. DECISIONLOG.md "Privacy" has
the rules and their measured precision and recall (`voc eval privacy`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

KINDS = ("PHONE", "ID_CARD", "BANK_CARD", "EMAIL", "PLATE", "ADDRESS_NO")
HASHED_KINDS = ("PHONE", "EMAIL")

# Nothing alphanumeric (ASCII) right before / after: a digit run inside a
# longer run, or glued to letters (waybill SF..., order ORD...), is not a number
# of its own. Chinese characters are not letters here: 电话13812345678 is one.
_L = r"(?<![0-9A-Za-z])"
_R = r"(?![0-9A-Za-z])"
_CC = r"(?:(?:\+|00)86[\s-]?|86[\s-])?"  # country code

_MOBILE = _L + _CC + r"1[3-9]\d(?:[\s-]?\d{4}){2}" + _R
_LANDLINE = (
    _L
    + r"(?:(?:\+|00)86[\s-]?[(（]?0?|[(（]?0)[1-9]\d{1,2}[)）]?[\s-]?[2-9]\d{2,3}[\s-]?\d{4}"
    + r"(?:\s?(?:转|分机|ext\.?|x)\s?\d{1,5})?"
    + _R
)
_ID_CARD = _L + r"[1-9]\d{16}[\dXx]" + _R
# 15-19 digits, optionally grouped by spaces or dashes (6222 0212 3456 7890).
_CARD = _L + r"[2-6]\d{3}(?:[\s-]?\d{4}){2,3}(?:[\s-]?\d{1,3})?" + _R
_EMAIL = (
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = (
    f"[{_PROVINCES}][A-HJ-NP-Za-hj-np-z]\\s?[·•.\\-]?\\s?"
    r"(?=[A-Za-z]*\d)(?:[DFdf][A-HJ-NP-Za-hj-np-z0-9]{5}|\d{5}[DFdf]|"
    r"[A-HJ-NP-Za-hj-np-z0-9]{4}[A-HJ-NP-Za-hj-np-z0-9挂学警港澳])" + _R
)
# A house number after a road/lane/village name (建国路88号, 幸福里12弄3号),
# then any building/unit/floor/room parts; or a chain of those parts alone
# (3栋2单元501室, 12号楼1203).
_UNIT = r"\d{1,5}(?:栋|幢|座|号楼|单元|楼|层|室|号)"
_ZH_ADDRESS = (
    # (not 里2号线: a metro line)
    r"(?<=[路街巷弄里道村段])\d{1,5}(?:[-之]\d{1,4})?[号弄](?![线路])(?:"
    + _UNIT
    + r"|\d{3,4}(?!\d))*"
    # a building alone (酒店的1号楼, 第4座, 1号楼2号楼) is not a home: a unit,
    # floor or room must follow
    r"|(?<![\d第])(?:\d{1,4}(?:栋|幢|号楼|座))(?:\d{1,4}(?:单元|楼|层|室)|\d{3,4}(?![\d号栋幢座]))+"
    r"|(?<![\d第])\d{1,4}单元(?:" + _UNIT + r"|\d{3,4}(?!\d))*"
    r"|(?<![\d号])\d{3,4}室"
)
_EN_STREET = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct"
    r"|Place|Pl|Terrace|Highway|Hwy|Lu|Jie)"
)
_EN_ADDRESS = (
    r"(?<![\w.,:$¥#-])\d{1,5}[A-Za-z]?(?:-\d{1,4})?(?=,?\s+(?:"
    # 12 Baker Street, 88 Jianguo Rd; typed in lower case only with a full word
    + r"(?:[A-Z][A-Za-z'-]*\.?\s+){1,3}"
    + _EN_STREET
    + r"|(?:[a-z][a-z'-]*\s+){1,2}(?:street|road|avenue|lane|drive|boulevard)"
    + r")\b)"
)
# Apt 4B, Suite 300, Rm. 502: the number only (group 1).
_EN_UNIT = r"\b(?:Apt|Apartment|Unit|Suite|Ste|Room|Rm|Flat)\.?\s?#?(\d{1,5}[A-Za-z]?)\b"

# (kind, pattern, the group that is the value). Order breaks ties between
# equally long findings at one place: an 18-digit ID before a card number.
_PATTERNS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("EMAIL", re.compile(_EMAIL), 0),
    ("ID_CARD", re.compile(_ID_CARD), 0),
    ("BANK_CARD", re.compile(_CARD), 0),
    ("PHONE", re.compile(_MOBILE), 0),
    ("PHONE", re.compile(_LANDLINE, re.IGNORECASE), 0),
    ("PLATE", re.compile(_PLATE), 0),
    ("ADDRESS_NO", re.compile(_ZH_ADDRESS), 0),
    ("ADDRESS_NO", re.compile(_EN_ADDRESS), 0),
    ("ADDRESS_NO", re.compile(_EN_UNIT), 1),
)
# A cheap gate: a text with no digit and no @ holds none of the above.
_ANY = re.compile(r"[\d@]")
_NOT_DIGIT = re.compile(r"\D")
# Issuer prefixes of the cards used in China: UnionPay 62, Visa 4, Mastercard
# 51-55 / 2221-2720, Amex 34/37, JCB 35, Discover 6011/65. Order numbers that
# start with a date (2024...) are not cards even when their Luhn sum works.
_CARD_IIN = re.compile(
    r"^(?:62|4|5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|35|6011|65)"
)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str


def _valid(kind: str, value: str) -> bool:
    if kind == "ID_CARD":
        return _id_card_valid(value.upper())
    if kind == "BANK_CARD":
        digits = _NOT_DIGIT.sub("", value)
        return 15 <= len(digits) <= 19 and bool(_CARD_IIN.match(digits)) and luhn.is_valid(digits)
    if kind == "PHONE":
        return _phone_key(value) is not None
    return True


# Province-level codes (the first two digits of the address code).
_PROVINCE_CODES = frozenset(
    f"{n}" for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43)
) | frozenset(f"{n}" for n in (44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82))
_PROVINCE_CODES |= {"83", "91"}


def _id_card_valid(value: str) -> bool:
    """Province code, a real birth date, the ISO 7064 check digit. Not the
    county: `stdnum.cn.ric.is_valid` also wants the county code to have existed
    in the birth year, and missed 5 of 16 well-formed numbers of our set (codes
    renamed since); a masker must err towards masking."""
    if value[:2] not in _PROVINCE_CODES:
        return False
    try:
        ric.get_birth_date(value)
    except ValueError:
        return False
    return ric.calc_check_digit(value) == value[-1]


@lru_cache(maxsize=65536)
def _phone_key(value: str) -> str | None:
    """E.164 of a valid Chinese phone number, else None."""
    core = re.split(r"转|分机|ext\.?|x", value, maxsplit=1, flags=re.IGNORECASE)[0]
    try:
        number = phonenumbers.parse(core, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A number right after one of these words is that kind of number, whatever it
# looks like: 订单号：19513967161 (seen in real reviews) is an order, not a phone.
_NOT_PERSONAL_BEFORE = re.compile(
    r"(?:订单|单号|运单|编号|工单|流水号|order|tracking|waybill|invoice|ticket|ref(?:erence)?)"
    r"\s*(?:号|no\.?|number|id|#)?\s*[:：#]?\s*$",
    re.IGNORECASE,
)
_NUMBER_KINDS = frozenset(("PHONE", "BANK_CARD", "ID_CARD"))


def find_pii(text: str) -> list[Finding]:
    """Every piece of personal data in `text`, in order, not overlapping."""
    if not _ANY.search(text):
        return []
    found: list[Finding] = []
    for kind, pattern, group in _PATTERNS:
        for m in pattern.finditer(text):
            value = m.group(group)
            if kind in _NUMBER_KINDS and _NOT_PERSONAL_BEFORE.search(text, 0, m.start(group)):
                continue
            if _valid(kind, value):
                found.append(Finding(kind, m.start(group), m.end(group), value))
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    end = -1
    for f in found:
        if f.start >= end:
            kept.append(f)
            end = f.end
    return kept


@dataclass(frozen=True, slots=True)
class Masked:
    text: str
    keys: tuple[str, ...]  # "phone:<hex>" / "email:<hex>", sorted, unique
    counts: dict[str, int]


class Masker:
    """Replace personal data by typed tokens; hash phones and emails with `key`."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the PII hash key must not be empty")
        self.key = key

    def keyed_hash(self, kind: str, value: str) -> str:
        normal = _phone_key(value) if kind == "PHONE" else value.strip().lower()
        digest = hmac.new(self.key, f"{kind}\x00{normal}".encode(), hashlib.sha256)
        return f"{kind.lower()}:{digest.hexdigest()[:32]}"

    def mask(self, text: str) -> Masked:
        findings = find_pii(text)
        if not findings:
            return Masked(text, (), {})
        parts: list[str] = []
        keys: set[str] = set()
        counts: dict[str, int] = {}
        pos = 0
        for f in findings:
            parts.append(text[pos : f.start])
            parts.append(f"<{f.kind}>")
            pos = f.end
            counts[f.kind] = counts.get(f.kind, 0) + 1
            if f.kind in HASHED_KINDS:
                keys.add(self.keyed_hash(f.kind, f.value))
        parts.append(text[pos:])
        return Masked("".join(parts), tuple(sorted(keys)), counts)

    def mask_value(self, value: Any, keys: set[str]) -> Any:
        """Mask every string inside a JSON value (dict keys stay as they are)."""
        if isinstance(value, str):
            masked = self.mask(value)
            keys.update(masked.keys)
            return masked.text
        if isinstance(value, dict):
            return {k: self.mask_value(v, keys) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask_value(v, keys) for v in value]
        return value


def redact(text: str) -> str:
    """`text` with every finding replaced by its token; no hashes (for dead
    letters' excerpts and reasons, which nothing joins on)."""
    findings = find_pii(text)
    if not findings:
        return text
    parts: list[str] = []
    pos = 0
    for f in findings:
        parts.append(text[pos : f.start])
        parts.append(f"<{f.kind}>")
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


def redact_bytes(raw: bytes) -> bytes:
    """Raw bytes with personal data replaced by tokens and every other byte
    kept exactly, invalid UTF-8 included (read with surrogateescape)."""
    text = raw.decode("utf-8", errors="surrogateescape")
    masked = redact(text)
    return raw if masked == text else masked.encode("utf-8", errors="surrogateescape")
