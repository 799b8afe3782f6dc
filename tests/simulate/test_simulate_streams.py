"""The simulated streams honour their contracts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.simulate.helpers import malformed_lines, read_jsonl, valid_records
from voc import sla
from voc.catalog import load_catalog
from voc.contracts.streams import Stream
from voc.contracts.validate import DeadLetter, validate_record
from voc.simulate import SimulationSummary


def test_every_line_is_valid_except_the_planted_malformed_ones(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN a simulated data set and its list of deliberately broken lines
    out, summary = simulated
    planted = malformed_lines(out)
    for stream in Stream:
        # WHEN every line of the stream is validated against its schema
        rejected = {
            number
            for number, raw in enumerate((out / f"{stream}.jsonl").read_bytes().splitlines(), 1)
            if isinstance(validate_record(stream, raw, "test"), DeadLetter)
        }
        # THEN exactly the planted lines are rejected, and every stream has some
        assert rejected == planted[str(stream)], stream
        assert planted[str(stream)], f"no malformed line planted in {stream}"
    assert summary.malformed == sum(len(v) for v in planted.values())


def test_malformed_kinds_cover_every_kind(simulated: tuple[Path, SimulationSummary]) -> None:
    # GIVEN the malformed-line ground truth
    out, _ = simulated
    # WHEN its kinds are counted
    kinds = Counter(row["kind"] for row in read_jsonl(out / "ground_truth" / "malformed.jsonl"))
    # THEN each kind of breakage occurs
    assert set(kinds) == {
        "truncated_json",
        "missing_field",
        "wrong_type",
        "bad_timestamp",
        "non_utf8",
    }


def test_manifest_and_summary_count_valid_events(simulated: tuple[Path, SimulationSummary]) -> None:
    # GIVEN the manifest and the summary of the run
    out, summary = simulated
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for stream in Stream:
        # WHEN valid lines are counted
        n_valid = len(valid_records(out, stream))
        # THEN manifest and summary agree with the file
        assert manifest["counts"][str(stream)] == summary.events[str(stream)] == n_valid
    assert manifest["seed"] == 7 and manifest["days"] == 3
    assert manifest["start"] == "2026-11-02T00:00:00Z"
    assert manifest["catalog"].endswith("default")


def test_event_ids_are_unique(simulated: tuple[Path, SimulationSummary]) -> None:
    # GIVEN all valid records of all streams
    out, _ = simulated
    # WHEN their ids are collected
    ids = [r["event_id"] for stream in Stream for r in valid_records(out, stream)]
    # THEN no id repeats
    assert len(ids) == len(set(ids))


def test_lines_are_in_event_time_order_with_a_few_late(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the app-event stream
    out, _ = simulated
    records = valid_records(out, Stream.APP_EVENTS)
    # WHEN lines earlier than the latest time seen so far are counted
    latest, late = "", 0
    for record in records:
        late += record["event_time"] < latest
        latest = max(latest, record["event_time"])
    # THEN about 1% are out of order
    assert 0.002 < late / len(records) < 0.03


def test_app_events_follow_a_daily_rhythm(simulated: tuple[Path, SimulationSummary]) -> None:
    # GIVEN the app events (UTC times, customers in UTC+8)
    out, _ = simulated
    hours = Counter(int(r["event_time"][11:13]) for r in valid_records(out, Stream.APP_EVENTS))
    # WHEN local night (01-05 = 17-21 UTC) is compared with local day (10-14 = 02-06 UTC)
    night = sum(hours[h] for h in range(17, 22))
    day = sum(hours[h] for h in range(2, 7))
    # THEN night is much quieter
    assert night * 2.5 < day


def test_ticket_lifecycles_carry_owner_sla_and_source(
    simulated: tuple[Path, SimulationSummary],
) -> None:
    # GIVEN the ticket events, the calls and the true scenario behind each contact
    from voc.catalog import load_catalog

    catalog = load_catalog()
    windows = sla.load_windows()
    out, _ = simulated
    tickets: dict[str, list[dict]] = {}
    for event in valid_records(out, Stream.TICKET_EVENTS):
        tickets.setdefault(event["ticket_id"], []).append(event)
    calls = {c["event_id"]: c for c in valid_records(out, Stream.CALLS)}
    truth = {row["contact_id"]: row for row in read_jsonl(out / "ground_truth" / "contacts.jsonl")}
    checked = coarse = right = 0
    for ticket_id, events in tickets.items():
        by_type = {e["event_type"]: e for e in events}
        created = by_type.get("created")
        if created is None or "assigned" not in by_type:
            continue  # its created line was planted as malformed
        # WHEN the source contact of the ticket is looked up
        source = created["source_contact_id"] or created["event_id"]
        scenario_id = truth[source]["scenario_id"] if source in truth else None
        if created["channel"] == "call":
            # THEN a ticket from a call points at that call, and the call back at it
            assert calls[created["source_contact_id"]]["ticket_id"] == ticket_id
        if scenario_id is None:
            continue
        scenario = catalog[scenario_id]
        # THEN it is assigned to the scenario's owner at L1 with the scenario's SLA
        assert by_type["assigned"]["department"] == scenario.owner
        assert by_type["assigned"]["tier"] == "L1"
        # THEN its due date is the scenario's target in the owner's working hours
        # (the ticketing system stamps it on the department's business clock)
        window = windows.get(scenario.owner, sla.ALWAYS_OPEN)
        worked = sla.business_seconds(
            window, _naive(created["event_time"]), _naive(created["sla_due_at"])
        )
        assert worked == scenario.sla_hours[created["priority"]] * 3600
        if window == sla.ALWAYS_OPEN:
            hours = (_epoch(created["sla_due_at"]) - _epoch(created["event_time"])) / 3600
            assert hours == scenario.sla_hours[created["priority"]]
        code = created["category_code"]
        if code is not None:
            # THEN its code is the scenario's own leaf code or a coarse
            # <domain>/<category> of the scenario's business (sometimes wrong)
            assert code in scenario.ticket_category_signals or code.startswith(
                f"{scenario.domain}/"
            ), code
            coarse += "/" in code
            right += code == f"{scenario.domain}/{scenario.category}"
        checked += 1
    assert checked > 300
    # THEN agents mostly pick a coarse category, and mostly the right one
    assert coarse > 0.5 * checked
    assert 0.6 < right / coarse < 0.95
    # THEN a realistic share of the completed resolution clocks breach, counted
    # as the SLA is defined (the department's business clock, waits on the
    # customer paused, up to the final resolution; DECISIONLOG "SLA clocks on
    # the business calendar"), not first resolution against the due stamp on
    # the wall clock, which ignores pauses and reopens
    clocks = [t["is_breached"] for t in read_jsonl(out / "ground_truth" / "tickets.jsonl")]
    completed = [b for b in clocks if b is not None]
    assert len(completed) > 300
    assert 0.05 < sum(completed) / len(completed) < 0.4


def test_signal_events_precede_their_contacts(simulated: tuple[Path, SimulationSummary]) -> None:
    # GIVEN contacts whose truth says a signal app event was emitted before them
    out, _ = simulated
    events: dict[tuple[str, str], list[str]] = {}
    for event in valid_records(out, Stream.APP_EVENTS):
        events.setdefault((event["customer_id"], event["event_name"]), []).append(
            event["event_time"]
        )
    truth = read_jsonl(out / "ground_truth" / "contacts.jsonl")
    with_signal = [t for t in truth if t["signal_event"]]
    catalog = load_catalog()
    with_signals_available = [
        t
        for t in truth
        if t["scenario_id"] and not t["is_repeat"] and catalog[t["scenario_id"]].app_event_signals
    ]
    # WHEN the signal is looked up for the same customer
    found = sum(
        any(
            _epoch(t["event_time"]) - 900 <= _epoch(at) <= _epoch(t["event_time"])
            for at in events.get((t["customer_id"], t["signal_event"]), [])
        )
        for t in with_signal
    )
    # THEN (nearly) all are there (a few lines are planted as malformed) and they are common
    assert found >= 0.97 * len(with_signal)
    assert len(with_signal) > 0.3 * len(with_signals_available)


def _epoch(value: str) -> float:
    from voc.contracts.validate import parse_time

    return parse_time(value).timestamp()


def _naive(value: str):
    """An event time as voc.sla takes it: a naive UTC datetime."""
    from voc.contracts.validate import parse_time

    return parse_time(value).replace(tzinfo=None)
