"""Repeat-contact loop: one customer reaching out about the same issue again and
again across channels. Pure and Beam-free.

The issue is the contact's tagged scenario; an untagged contact is not linked.
Not the order: a customer with one order at the after-sale stage may raise
three different problems about it in a day (a wrong size, a refund, a
courier), and those are three cases handled normally, not one loop (keyed by
order, the simulator's streams raise ten false loops for each true one). A loop
opens when `min_contacts` contacts fall within `window_s` (72 h by default); it
alerts once and re-arms when fewer than `min_contacts` remain in the window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class RepeatParams:
    min_contacts: int = 3
    window_s: int = 72 * 3600


class RepeatVerdict(NamedTuple):
    key: str  # customer|issue
    customer_id: str
    issue: str
    at_s: int
    first_s: int
    contact_ids: tuple[str, ...]
    channels: tuple[str, ...]


def issue_of(contact: dict) -> str | None:
    # A tag resting on the customer's app events alone ("signal") says what
    # happened in the app, not what this contact is about: every contact of a
    # customer after a failed payment gets it, and three of them are not a loop.
    if contact.get("scenario_id") and contact.get("method") != "signal":
        return f"scenario:{contact['scenario_id']}"
    return None


@dataclass
class RepeatDetector:
    params: RepeatParams = field(default_factory=RepeatParams)
    seen: dict[str, deque] = field(default_factory=dict)  # key -> (t_s, contact id, channel)
    open_loops: set[str] = field(default_factory=set)

    def observe(self, contact: dict, t_s: int) -> RepeatVerdict | None:
        customer, issue = contact.get("customer_id"), issue_of(contact)
        if not customer or issue is None:
            return None
        key = f"{customer}|{issue}"
        q = self.seen.setdefault(key, deque())
        if any(cid == contact["contact_id"] for _, cid, _ in q):
            return None  # the same contact replayed
        q.append((t_s, contact["contact_id"], contact.get("channel", "")))
        while q and q[0][0] <= t_s - self.params.window_s:
            q.popleft()
        if len(q) < self.params.min_contacts:
            self.open_loops.discard(key)
            return None
        if key in self.open_loops:
            return None
        self.open_loops.add(key)
        return RepeatVerdict(
            key,
            customer,
            issue,
            t_s,
            q[0][0],
            tuple(c for _, c, _ in q),
            tuple(ch for _, _, ch in q),
        )

    def prune(self, now_s: int) -> None:
        horizon = now_s - self.params.window_s
        for key in [k for k, q in self.seen.items() if not q or q[-1][0] <= horizon]:
            del self.seen[key]
            self.open_loops.discard(key)
