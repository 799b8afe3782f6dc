"""Personal data in simulated contact texts: a customer reads out a phone
number, an email, an ID-card or bank-card number, a licence plate or an
address, as real customers do, so that the pipeline's masking is exercised
end to end (the tests assert that none of it reaches the warehouse or a topic).

Written independently of voc.privacy: the numbers are built here (own check
digits), not taken from the masker's patterns or its labelled set. Whether a
record carries personal data, of which kind and how it is written is seeded by
the record's id, not by the simulator's random stream, so adding it changes
no other simulated value.

A person's phone numbers, office line and email are their own, the same in
every record (seeded by the customer id): a customer gives the number they
always give, and a minority have a second mobile that they give now and then
(DECISIONLOG "Simulated identity"). Only the way a number is written varies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

SHARE = 0.05  # of contact texts that carry personal data
# China had ~1.2 mobile subscriptions per person in 2023 (MIIT yearly bulletin:
# 122.5 per 100 people): about one customer in four keeps a second number.
SECOND_MOBILE_SHARE = 0.25
SECOND_MOBILE_USE = 0.3  # how often someone with two numbers gives the other one

_MOBILE_PREFIXES = ("133", "135", "138", "139", "150", "158", "177", "186", "189", "199")
_AREA = ("010", "021", "020", "0755", "0571", "028", "027")
_PROVINCE_PREFIX = ("110105", "310104", "440305", "330106", "510107", "420106")
_PLATE_HEAD = ("京A", "沪B", "粤B", "浙A", "川A", "苏E", "鲁B")
_ROADS_ZH = ("文三路", "建国路", "中山北路", "人民南路", "淮海中路")
_ROADS_EN = ("Jianguo Road", "Zhongshan North Road", "Renmin Road")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _mobile_number(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + _digits(rng, 8)


def mobile(rng: random.Random, number: str | None = None) -> str:
    """A mobile number as someone writes it: plain, 3-4-4, or +86."""
    number = number or _mobile_number(rng)
    style = rng.randrange(3)
    if style == 1:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == 2:
        return f"+86 {number}"
    return number


def landline(rng: random.Random) -> str:
    area = rng.choice(_AREA)
    local = "800"
    while local.startswith("800"):  # 800 is the toll-free range: nobody's office line
        local = rng.choice("2345678") + _digits(rng, 7)  # 8-digit local numbers
    return f"{area}-{local}"


def id_card(rng: random.Random) -> str:
    body = (
        rng.choice(_PROVINCE_PREFIX)
        + f"{rng.randint(1960, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        + _digits(rng, 3)
    )
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


def bank_card(rng: random.Random) -> str:
    body = "6222" + _digits(rng, 14)
    total = 0
    for i, d in enumerate(reversed(body)):
        v = int(d) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return body + str((10 - total % 10) % 10)


def email(rng: random.Random) -> str:
    # six digits: two customers sharing an address would be a wrong link
    name = rng.choice(("wang", "li", "zhang", "liu", "chen", "amy", "tom")) + _digits(rng, 6)
    return f"{name}@{rng.choice(('163.com', 'qq.com', 'example.com', 'sina.com'))}"


@dataclass(frozen=True)
class Person:
    """The contact details one customer has (and gives) in every record."""

    mobiles: tuple[str, ...]  # the usual number first
    office_line: str
    email: str

    def mobile(self, rng: random.Random) -> str:
        """The number given this time, as written this time."""
        other = len(self.mobiles) > 1 and rng.random() < SECOND_MOBILE_USE
        return mobile(rng, self.mobiles[1] if other else self.mobiles[0])


@lru_cache(maxsize=65536)
def person(customer_id: str) -> Person:
    rng = random.Random(f"pii-person:{customer_id}")
    mobiles = [_mobile_number(rng)]
    if rng.random() < SECOND_MOBILE_SHARE:
        mobiles.append(_mobile_number(rng))
    return Person(tuple(mobiles), landline(rng), email(rng))


def plate(rng: random.Random) -> str:
    return rng.choice(_PLATE_HEAD) + rng.choice("0123456789DF") + _digits(rng, 4)


def sentence(rng: random.Random, language: str, who: Person) -> tuple[str, list[str]]:
    """One sentence customer `who` might say, and the personal data in it."""
    kind = rng.randrange(7)
    zh = language == "zh"
    if kind == 0:
        v = who.mobile(rng)
        return (f"我的手机号是{v}，麻烦回电。" if zh else f"Call me back on {v}."), [v]
    if kind == 1:
        v = who.office_line
        return (f"座机{v}也可以。" if zh else f"My office line is {v}."), [v]
    if kind == 2:
        v = who.email
        return (f"发票请发到{v}。" if zh else f"Send the invoice to {v} please."), [v]
    if kind == 3:
        v = id_card(rng)
        return (f"身份证号{v}，请核实。" if zh else f"My ID card number is {v}."), [v]
    if kind == 4:
        v = bank_card(rng)
        return (f"退款打到卡号{v}。" if zh else f"Refund to card {v} please."), [v]
    if kind == 5:
        v = plate(rng)
        return (f"司机的车牌是{v}。" if zh else f"The driver's plate was {v}."), [v]
    number = str(rng.randint(1, 999))
    if zh:
        return f"地址是{rng.choice(_ROADS_ZH)}{number}号。", [f"{number}号"]
    return f"Deliver to {number} {rng.choice(_ROADS_EN)}.", [number]


def personal_data_for(
    record_id: str, language: str, customer_id: str
) -> tuple[str, list[str]] | None:
    """The sentence customer `customer_id` adds to the text of record
    `record_id`, with its values, or None for the ~95 % of records that carry none."""
    rng = random.Random(f"pii:{record_id}")
    if rng.random() >= SHARE:
        return None
    return sentence(rng, language, person(customer_id))


def add_personal_data(text: str, record_id: str, language: str, customer_id: str) -> str:
    extra = personal_data_for(record_id, language, customer_id)
    if extra is None:
        return text
    return f"{text}{'' if language == 'zh' else ' '}{extra[0]}"
