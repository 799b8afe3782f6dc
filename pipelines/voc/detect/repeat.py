"""Repeat-contact loop: one customer coming back again and again about a problem
that was not solved, across channels. Pure and Beam-free.

What links contacts is what the customer knows, not what a tagger guesses:

- **the case**: the customer and the order or waybill they name (the contact's
  `order_id`; "-" when they name none). A customer with two orders has two
  cases; a channel switch (a call, then a ticket, then a chat) stays in one.
- **that they came back**: a returning customer says so ("这是我第二次联系你们",
  "上次说好给我回复", "I already reported this", "you promised to call me
  back", "still waiting") — `return_cue`, read from the customer's own words
  (agent turns dropped: an agent's "please check again later" is not a
  return; nor is what they tried elsewhere first: "之前问过商家", "I already
  told the driver" name someone else, and "rescheduled again and again" is
  what keeps happening, not a contact).

A loop is one problem raised `min_contacts` (3) times within `window_s` (72 h).
Which contacts are about one problem the tag cannot say (on honest text it is
right for about one contact in four: keyed by it the detector both missed
loops and invented them, recall 0.01, precision 0.02 on 10 seeds), and one
order at the after-sale stage may carry several problems a day (a wrong size,
a refund, a courier): three new problems are not a loop. The customer's
words say it: a return is at least the second contact about its problem, and
a customer who says how many times ("第三次", "反映过两次", "third time",
"reported this twice") says which one it is (`stated_count`). A loop opens at
a return (the newest contact, with `min_contacts` in the case's window) when

- the return says it is the `min_contacts`-th contact or later (and no return
  of an alerted loop in the window can be about its problem), or
- an earlier return of the case can be about the same problem: each is at
  least a second contact, so two of one problem make three. They cannot be
  when the newer one says it is no later than the older one is known to be
  ("second time", then "second time" again: two problems, each on its second
  contact).

**The ticket link comes first.** A returning contact often names the ticket
its problem already has (`related_ticket_id`: the reference the customer gave,
or their open ticket the agent filed it under, as help desks link follow-ups).
Such a contact is a return whatever its words, and its problem is known: two
returns naming one ticket (or tickets that follow up one another) are one
problem, two naming different tickets are two. The words decide only where a
link is missing (a linked return's stated count is not read).

One alert per loop: the returns that opened a loop are spent (a fourth contact
of the same loop adds nothing; a second problem of the same order that also
loops is a second alert).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from voc.tagging.transcript import customer_words

# A customer saying this contact is not their first about the problem. Generic
# ways people say it in Chinese and English; the simulator's lines are not read.
_RETURN_ZH = (
    r"第[二三四五六七八九两2-9]次",
    r"又一次",
    r"再次(?:联系|来电|打|反映|投诉|找)",
    r"又(?:来|打|找)(?:了)?(?:电话|你们)",
    r"反映过",
    r"投诉过",
    r"问过(?:你们|了)",
    r"说好.{0,8}(?:回复|回电|联系|处理|解决|答复)",
    r"上次(?:说|打|联系|反映|来电|找|问|投诉)",
    r"(?:之前|前面|前两天|昨天|上午|早上).{0,4}(?:打过|联系过|反映过|说过|问过|投诉过|来过电话)",
    r"已经.{0,6}(?:打|联系|反映|投诉|找|问)过",
    r"还是没(?:有)?(?:解决|处理|回复|消息|人管|结果|到)",
    r"(?:一直|到现在|至今)(?:都)?没(?:有)?(?:人)?(?:回复|处理|解决|消息|答复|跟进)",
    r"还是(?:上次|上回|上一回|之前|前面|前几天)(?:那个|的)",
    r"(?:打|联系|找|问|反映|投诉|催)了(?:多少|好几|好多|无数|几十)(?:次|回|遍)",
)
_RETURN_EN = (
    r"\b(?:second|third|fourth|fifth|2nd|3rd|4th|nth) time\b",
    r"\b(?:call(?:ing)?|contact(?:ing)?|writ(?:e|ing)|ask(?:ing)?|email(?:ing)?|chas(?:e|ing)|"
    r"messag(?:e|ing)|complain(?:ing)?|here|reach(?:ing)? out|report(?:ing)?)"
    r" (?:(?:to )?you(?:r team)? |about (?:this|it) |this )?again\b",
    # "again and again" alone is what keeps happening (rescheduled again and
    # again), not the customer coming back: only with a verb of contacting us.
    r"\b(?:called|contacted|written|wrote|emailed|messaged|complained|asked|chased)"
    r"(?: you)? again and again\b",
    r"\balready (?:reported|called|contacted|complained|told|asked|wrote|written|emailed|raised)\b",
    r"\b(?:promised|said you would|were supposed) to (?:call|get back|reply|fix|sort)",
    r"\bnever (?:called|got) (?:me )?back\b",
    r"\blast time\b",
    r"\bstill (?:waiting|no (?:reply|answer|response|news|update|call)|"
    r"not (?:fixed|resolved|sorted|solved|heard)|haven'?t heard|nothing)",
    r"\b(?:called|contacted|wrote to|emailed) (?:you )?(?:before|earlier|yesterday|last week)\b",
    r"\bfollow(?:ing)?[- ]up on\b",
    r"\bsame (?:thing|issue|problem) (?:as|like) (?:before|last time)\b",
    r"\b(?:called|contacted|written|wrote|emailed|messaged|complained|asked)(?: you)?"
    r" (?:so many|several|multiple|many|countless) times\b",
    r"\blost count of how many times\b",
)
RETURN = re.compile("|".join(_RETURN_ZH + _RETURN_EN), re.IGNORECASE)
# Who they told or asked before: a customer who says they asked the seller or
# told the driver is reporting what they tried elsewhere, not coming back to us.
# A third party named inside the cue or right after its verb voids it.
_ELSEWHERE = (
    r"商家|卖家|店家|店铺|司机|快递员|快递小哥|小哥|师傅|骑手|物流公司|"
    r"\b(?:the|my|a|your) (?:driver|seller|merchant|shop|store|courier|carrier|"
    r"installer|delivery (?:guy|man|driver)|technician)s?\b"
)
_ELSEWHERE_IN = re.compile(_ELSEWHERE, re.IGNORECASE)
_ELSEWHERE_AFTER = re.compile(
    r"\s*(?:(?:to|with) )?(?:跟|和|向|找)?(?:" + _ELSEWHERE + ")", re.IGNORECASE
)


# How many times, when the customer says so: "第三次" / "third time" is the
# third contact; "反映过两次" / "reported this twice" means two came before.
_ZH_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_ZH_DIGITS |= {str(i): i for i in range(10)}
_ORDINAL_ZH = re.compile(r"第([二三四五六七八九两2-9])(?:次|回|遍)")
_BEFORE_ZH = re.compile(
    r"(?:反映|投诉|联系|打|找|问|说|来电|催)(?:了)?过([一两二三四五六七八九1-9])(?:次|回|遍)"
)
_EN_ORDINALS = {
    w: i
    for i, names in enumerate(
        (
            (),
            (),
            ("second", "2nd"),
            ("third", "3rd"),
            ("fourth", "4th"),
            ("fifth", "5th"),
            ("sixth", "6th"),
            ("seventh", "7th"),
            ("eighth", "8th"),
        )
    )
    for w in names
}
_EN_TIMES = {"once": 1, "twice": 2, "three times": 3, "four times": 4, "five times": 5}
_ORDINAL_EN = re.compile(r"\b(" + "|".join(_EN_ORDINALS) + r") time\b", re.IGNORECASE)
_BEFORE_EN = re.compile(
    r"\b(?:reported|called|contacted|complained|told you|asked|wrote|written|emailed|raised)"
    r"(?: (?:this|it|you|about (?:this|it)))? (" + "|".join(_EN_TIMES) + r")\b",
    re.IGNORECASE,
)


def stated_count(text: str | None) -> int | None:
    """Which contact about the problem the customer says this one is, or None."""
    return _count_in(customer_words(text))


def _count_in(said: str) -> int | None:
    counts = [_ZH_DIGITS[m.group(1)] for m in _ORDINAL_ZH.finditer(said)]
    counts += [_ZH_DIGITS[m.group(1)] + 1 for m in _BEFORE_ZH.finditer(said)]
    counts += [_EN_ORDINALS[m.group(1).lower()] for m in _ORDINAL_EN.finditer(said)]
    counts += [_EN_TIMES[m.group(1).lower()] + 1 for m in _BEFORE_EN.finditer(said)]
    return max(counts) if counts else None


def return_cue(text: str | None) -> str | None:
    """What in the customer's words says they came back about the problem, or None."""
    return _cue_in(customer_words(text))


def _cue_in(said: str) -> str | None:
    for m in RETURN.finditer(said):
        if _ELSEWHERE_IN.search(m.group(0)) or _ELSEWHERE_AFTER.match(said, m.end()):
            continue  # what they tried elsewhere, not a return to us
        return m.group(0)
    return None


@dataclass(frozen=True)
class RepeatParams:
    min_contacts: int = 3
    window_s: int = 72 * 3600


class RepeatVerdict(NamedTuple):
    key: str  # customer|order ("-" when the customer named none)
    customer_id: str
    order_id: str | None
    at_s: int
    first_s: int
    contact_ids: tuple[str, ...]
    channels: tuple[str, ...]
    cues: tuple[str, ...]  # the returns' words


class _Seen(NamedTuple):
    t_s: int
    contact_id: str
    channel: str
    cue: str | None
    count: int | None  # which contact about its problem the customer says it is
    problem: str | None = None  # the first ticket of the problem it names (a linked return)


def _one_problem(older: _Seen, newer: _Seen) -> bool:
    """Whether two returns can be about one problem: by their tickets when both
    name one; else not when the newer one says it is no later a contact than the
    older one is (a return is at least a second)."""
    if older.problem is not None and newer.problem is not None:
        return older.problem == newer.problem
    return newer.count is None or newer.count > (older.count or 2)


@dataclass
class RepeatDetector:
    params: RepeatParams = field(default_factory=RepeatParams)
    seen: dict[str, deque] = field(default_factory=dict)  # case key -> _Seen, oldest first
    spent: dict[str, set] = field(default_factory=dict)  # case key -> returns that opened a loop
    # a ticket -> (the first ticket of its problem, when last seen): a follow-up
    # ticket opened by a linked return belongs to the problem it names
    problems: dict[str, tuple[str, int]] = field(default_factory=dict)

    def observe(self, contact: dict, t_s: int, said: str | None = None) -> RepeatVerdict | None:
        """`said`: the contact's `customer_words`, when the caller has it already."""
        customer = contact.get("customer_id")
        if not customer:
            return None  # a post nobody can tie to a customer joins no loop
        order = contact.get("order_id")
        key = f"{customer}|{order or '-'}"
        q = self.seen.setdefault(key, deque())
        cid = contact["contact_id"]
        if any(s.contact_id == cid for s in q):
            return None  # the same contact replayed
        if said is None:
            said = customer_words(contact.get("text"))  # split and normalised once for both cues
        cue = _cue_in(said)
        count = _count_in(said) if cue is not None else None
        problem = self._problem_of(contact, t_s)
        if problem is not None and cue is None:
            cue = f"ticket {contact['related_ticket_id']}"
        q.append(_Seen(t_s, cid, contact.get("channel", ""), cue, count, problem))
        while q and q[0].t_s <= t_s - self.params.window_s:
            gone = q.popleft()
            self.spent.get(key, set()).discard(gone.contact_id)
        if cue is None or len(q) < self.params.min_contacts:
            return None
        spent = self.spent.setdefault(key, set())
        newest = q[-1]
        same = [s for s in q if s.cue is not None and s is not newest and _one_problem(s, newest)]
        fresh = [s for s in same if s.contact_id not in spent]
        # A linked return's stated count is not read: its ticket says which
        # problem it is, and a miscount there made false loops.
        stated = newest.count if newest.problem is None else None
        if not fresh and (same or (stated or 0) < self.params.min_contacts):
            # No earlier return of its problem left to open a loop with, and
            # its own words do not make it a third (or one that did was alerted).
            return None
        fresh.append(newest)
        spent.update(s.contact_id for s in fresh)
        return RepeatVerdict(
            key,
            customer,
            order,
            t_s,
            q[0].t_s,
            tuple(s.contact_id for s in q),
            tuple(s.channel for s in q),
            tuple(s.cue for s in fresh),
        )

    def _problem_of(self, contact: dict, t_s: int) -> str | None:
        """The problem (its first ticket) a linked return names; None unlinked.
        Remembers the ticket a contact opened under its problem."""
        related, opened = contact.get("related_ticket_id"), contact.get("ticket_id")
        problem = None
        if related:
            problem = self.problems.get(related, (related, t_s))[0]
            self.problems[related] = (problem, t_s)
        if opened:
            self.problems[opened] = (problem or opened, t_s)
        return problem

    def prune(self, now_s: int) -> None:
        horizon = now_s - self.params.window_s
        for ticket in [k for k, (_, t) in self.problems.items() if t <= horizon]:
            del self.problems[ticket]
        for key in [k for k, q in self.seen.items() if not q or q[-1].t_s <= horizon]:
            del self.seen[key]
            self.spent.pop(key, None)
