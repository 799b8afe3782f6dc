"""Personal data in simulated texts is the customer's own: the same phone,
office line and email in every record, a second mobile for a minority."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import phonenumbers

from voc.simulate import SimulationSummary
from voc.simulate.pii import SECOND_MOBILE_SHARE, SECOND_MOBILE_USE, person, personal_data_for

_MOBILE = re.compile(r"(?:\+86 )?1[3-9]\d(?: ?\d{4}){2}")
_LANDLINE = re.compile(r"0\d{2,3}-\d{8}")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)[-11:]  # +86 138 ... -> 138...


def test_a_customer_gives_the_same_details_in_every_record() -> None:
    # GIVEN the numbers customer c-1 wrote in 4,000 records of theirs
    numbers: Counter[str] = Counter()
    others = set()
    for n in range(4000):
        extra = personal_data_for(f"rec-{n}", "zh", "c-1")
        if extra is None:
            continue
        value = extra[1][0]
        if _MOBILE.fullmatch(value):
            numbers[_digits(value)] += 1
        elif "@" in value or _LANDLINE.fullmatch(value):
            others.add(value)
    # THEN every mobile is one of theirs, written however they like
    who = person("c-1")
    assert set(numbers) <= set(who.mobiles) and numbers
    # AND the office line and the email are always the same ones
    assert others <= {who.office_line, who.email} and others


def test_a_minority_keep_a_second_mobile_and_give_it_now_and_then() -> None:
    # GIVEN 4,000 customers
    people = [person(f"cust-{n}") for n in range(4000)]
    two = [p for p in people if len(p.mobiles) == 2]
    # THEN about SECOND_MOBILE_SHARE of them have two numbers
    assert abs(len(two) / len(people) - SECOND_MOBILE_SHARE) < 0.03
    # AND someone with two gives the second about SECOND_MOBILE_USE of the time

    rng = random.Random(0)
    given = Counter(_digits(two[0].mobile(rng)) == two[0].mobiles[1] for _ in range(2000))
    assert abs(given[True] / 2000 - SECOND_MOBILE_USE) < 0.05
    # AND no two customers share a number or an email (a wrong link would follow)
    mobiles = [m for p in people for m in p.mobiles]
    assert len(set(mobiles)) == len(mobiles)
    assert len({p.email for p in people}) == len(people)
    # AND every office line is a number that exists (no local 800..., the
    # toll-free range), so a masker that checks numbers against the plan masks it
    assert all(
        phonenumbers.is_valid_number(phonenumbers.parse(p.office_line, "CN")) for p in people
    )


def test_records_of_one_customer_repeat_their_numbers(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the simulated calls, read back with their customer
    out, _ = simulated
    seen: dict[str, set[str]] = defaultdict(set)
    for line in (out / "calls.jsonl").read_bytes().splitlines():
        try:
            call = json.loads(line)
            customer, text = call["customer_id"], call["transcript"]
        except (ValueError, KeyError, TypeError):
            continue  # a deliberately malformed line
        for m in re.finditer(r"(?<![\d+])(?:\+86 )?1[3-9]\d(?: ?\d{4}){2}(?!\d)", text):
            seen[customer].add(_digits(m.group()))
    # THEN every number in a customer's calls is one of that customer's
    assert seen
    for customer, numbers in seen.items():
        assert numbers <= set(person(customer).mobiles), customer
