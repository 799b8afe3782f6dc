"""Returning customers name their problem's ticket (DECISIONLOG "Breakpoints",
simulator: returns name their problem's ticket)."""

from __future__ import annotations

from pathlib import Path

from voc.contracts.streams import Stream
from voc.simulate import SimulationSummary

from .helpers import read_jsonl, valid_records


def test_returns_name_an_earlier_ticket_of_their_customer_and_first_contacts_rarely_do(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the simulated calls and ticket contacts, the tickets and the truth
    out, _ = simulated
    truth = {r["contact_id"]: r for r in read_jsonl(out / "ground_truth" / "contacts.jsonl")}
    tickets = valid_records(out, Stream.TICKET_EVENTS)
    opened = {r["ticket_id"]: r for r in tickets if r["event_type"] == "created"}
    contacts = [r for r in valid_records(out, Stream.CALLS) if r["event_id"] in truth] + [
        r for r in tickets if r["event_id"] in truth and r["event_type"] == "created"
    ]
    linked = [r for r in contacts if r.get("related_ticket_id")]
    # THEN every link names a ticket of the same customer, opened before the contact
    assert linked
    for r in linked:
        earlier = opened.get(r["related_ticket_id"])
        assert earlier is not None, r["event_id"]
        assert earlier["customer_id"] == r["customer_id"]
        assert earlier["event_time"] < r["event_time"]
        assert r["related_ticket_id"] != r.get("ticket_id")
    # AND most links are returns; some returns carry none (no number to give)
    returns = [r for r in contacts if truth[r["event_id"]]["is_repeat"]]
    linked_returns = [r for r in linked if truth[r["event_id"]]["is_repeat"]]
    assert len(linked_returns) >= 0.8 * len(linked)
    assert 0 < len(linked_returns) < len(returns)
