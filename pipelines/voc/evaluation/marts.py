"""`voc eval marts`: the marts' headline CX figures against the simulator's truth.

The truth side is computed here from ground_truth/*.jsonl and the simulator's
own stream files, with the definitions of DECISIONLOG.md applied to what the
simulator *knows* (every contact's real customer and real scenario, every
ticket's breach on the business clock as voc.sla computes it), never from the
warehouse. The marts side is read from the built warehouse. So an error here is
what identity resolution, tagging, censoring and the SQL clock maths lose.

- repeat_recall / repeat_precision: contacts flagged is_repeat_contact in
  fct_contacts against the true repeats: the same true customer contacted us
  within the window before, on any channel, and the two contacts are not about
  two different true orders (DECISIONLOG "Repeat contacts": the person and the
  order are what a contact centre can know; a tagged reason is not). What the
  marts must recover is who the customer is (anonymous posts, handles, phone
  keys) and the window's edges.
- repeat_recall_same_scenario (diagnostic): recall over the true repeats whose
  two contacts are also about the same true scenario (the narrower definition
  a perfect tagger would allow).
- repeats_linkable / repeat_recall_linkable (diagnostic): the true repeats the
  records themselves can show, and recall over them. A contact's visible
  person is its record's customer id; for a post without one, the customer of
  the ticket opened from it (source_contact_id), else the customer its handle
  is seen with (on posts that name one, or through such a ticket), else the
  customer of a known order id written in its text, else of a phone/email in
  its text seen on records that name one, else the handle itself. A true
  repeat is linkable when one of its pairs has the same visible person on
  both sides. The rest are repeats no identity resolution can find from the
  data (an anonymous account nobody answered, that never posted as a known
  customer and names no order or known phone); this reads the stream files
  (phones and emails found by the pipeline's masker), not the warehouse or the
  marts' SQL.
- truth.repeats_unlinkable_share: the true repeats that are not linkable, over
  all true repeats (what no identity resolution could recover).
- truth.people / contacts_per_person / repeat_share: distinct true customers
  with a contact, contacts per such customer, and true repeats over contacts
  (how dense the simulation is; DECISIONLOG "Simulator density").
- fcr_abs_error: |FCR(marts) - FCR(truth)| over calls and tickets whose window
  is complete.
- sla_breach_abs_error: resolution SLA applied at creation, completed clocks.
- sla_clock_mismatches (diagnostic): completed resolution clocks whose target
  or elapsed business time in the marts differs from the simulator's by more
  than a second. The simulator computes both in Python (voc.sla), the marts in
  SQL (int_department_schedule); they share only data (working windows, the
  holiday calendar), so 0 means the two clocks agree, not that one copied the
  other.
- ticket_csat_abs_error, call_csat_abs_error: share of ratings / surveys 4-5.
- nps_abs_error: NPS as a share (promoters 9-10 minus detractors 0-6, over the
  answers to the would-you-recommend question; -1..1, x100 for points).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from voc.contracts.validate import parse_time
from voc.privacy.mask import Masker

ASSISTED_CHANNELS = ("call", "web", "app_chat", "email")  # simulator channel names
CSAT_MIN_SCORE = 4
NPS_PROMOTER_MIN, NPS_DETRACTOR_MAX = 9, 6


@dataclass(frozen=True)
class MartFigures:
    fcr: float | None
    sla_breach: float | None
    ticket_csat: float | None
    call_csat: float | None
    nps: float | None
    repeats: frozenset[str]
    contacts: frozenset[str]
    # completed resolution clocks: ticket -> (target, elapsed) business seconds
    sla_clocks: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class TruthFigures(MartFigures):
    """The same figures as the simulator knows them, plus a diagnostic set."""

    # true repeats whose earlier contact is also about the same true scenario
    same_scenario_repeats: frozenset[str] = frozenset()
    # true repeats that some pair shows by what the records carry
    linkable_repeats: frozenset[str] = frozenset()
    # distinct true customers who made a contact (the simulator's density)
    people: int = 0


@dataclass(frozen=True)
class MartsEvaluation:
    repeat_recall: float | None
    repeat_precision: float | None
    fcr_abs_error: float | None
    sla_breach_abs_error: float | None
    ticket_csat_abs_error: float | None
    call_csat_abs_error: float | None
    nps_abs_error: float | None
    sla_clock_mismatches: int
    sla_clocks_compared: int
    # Diagnostic: recall over the true repeats that are also about the same true
    # scenario as the contact before.
    repeat_recall_same_scenario: float | None
    # Diagnostic: recall over the true repeats the records can show.
    repeat_recall_linkable: float | None
    truth: dict[str, Any]
    marts: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _naive(value: str) -> datetime:
    return parse_time(value).replace(tzinfo=None)


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _repeats(
    items: list[tuple[str, Any, str | None, datetime]], window: timedelta
) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """(contacts that are a repeat, contacts that have one, the (earlier, later)
    pairs) for (id, person, order, time) items: the same person within the window,
    unless both name an order and the orders differ. A None person never repeats.
    Ties in time are ordered by id, as in the SQL."""
    by_person: dict[Any, list[tuple[datetime, str, str | None]]] = defaultdict(list)
    for contact_id, person, order, at in items:
        if person is not None:
            by_person[person].append((at, contact_id, order))
    repeats: set[str] = set()
    has_repeat: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for seq in by_person.values():
        seq.sort()
        for i, (t0, id0, order0) in enumerate(seq):
            for t1, id1, order1 in seq[i + 1 :]:
                if t1 - t0 > window:
                    break
                if order0 is None or order1 is None or order0 == order1:
                    repeats.add(id1)
                    has_repeat.add(id0)
                    pairs.add((id0, id1))
    return repeats, has_repeat, pairs


def _records(sim_dir: Path, stream: str, malformed: set[int]) -> Iterator[dict[str, Any]]:
    """A simulated stream's records, less its deliberately malformed lines."""
    # bytes: the simulator's deliberately malformed lines need not be UTF-8
    with open(sim_dir / f"{stream}.jsonl", "rb") as f:
        for number, line in enumerate(f, 1):
            if number not in malformed and line.strip():
                yield json.loads(line)


_ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")  # the schemas' id alphabet


def _pii_keys(text: str | None, masker: Masker) -> set[str]:
    """The phone/email keys the pipeline would give a record's text."""
    return set(masker.mask(text).keys) if text else set()


def _visible_people(sim_dir: Path, malformed: dict[str, set[int]]) -> dict[str, Any]:
    """contact id -> who its record shows made it (see the module docstring)."""
    masker = Masker(b"voc-eval-marts")  # any key: only equality of keys matters here
    order_owners: dict[str, set[str]] = defaultdict(set)
    handle_owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    key_owners: dict[str, set[str]] = defaultdict(set)
    post_ticket_owners: dict[str, set[str]] = defaultdict(set)
    handle_of: dict[str, tuple[str, str]] = {}
    people: dict[str, Any] = {}
    anonymous: list[dict[str, Any]] = []
    for stream in ("app_events", "calls", "ticket_events", "social_posts"):
        for r in _records(sim_dir, stream, malformed.get(stream, set())):
            customer = r.get("customer_id")
            if customer and r.get("order_id"):
                order_owners[r["order_id"].lower()].add(customer)
            if stream == "app_events":
                continue
            if customer:
                for key in _pii_keys(r.get("transcript") or r.get("text"), masker):
                    key_owners[key].add(customer)
            if stream == "ticket_events":
                if r["event_type"] != "created":
                    continue
                if r.get("source_contact_id") and customer:
                    post_ticket_owners[r["source_contact_id"]].add(customer)
            if stream == "social_posts":
                handle_of[r["event_id"]] = (r["platform"], r["author_handle"])
            if customer:
                people[r["event_id"]] = customer
                if stream == "social_posts":
                    handle_owners[handle_of[r["event_id"]]].add(customer)
            else:
                anonymous.append(r)
    # a ticket opened from a post names its author: the handle is theirs too
    for post, owners in post_ticket_owners.items():
        if post in handle_of:
            handle_owners[handle_of[post]] |= owners
    for post in anonymous:
        owners = post_ticket_owners.get(post["event_id"], set())
        if len(owners) != 1:
            owners = handle_owners.get(handle_of[post["event_id"]], set())
        if len(owners) != 1:
            owners = {
                c
                for t in _ID_TOKEN.findall(post["text"])
                # an id at the end of a sentence: "... ord-1234." names ord-1234
                for c in order_owners.get(t.rstrip("._:-").lower(), ())
            }
        if len(owners) != 1:
            owners = {c for k in _pii_keys(post["text"], masker) for c in key_owners.get(k, ())}
        people[post["event_id"]] = (
            next(iter(owners)) if len(owners) == 1 else ("handle",) + handle_of[post["event_id"]]
        )
    return people


def truth_figures(sim_dir: Path, window_hours: int) -> TruthFigures:
    """The figures as the simulator knows them."""
    gt = sim_dir / "ground_truth"
    manifest = json.loads((sim_dir / "manifest.json").read_text())
    end = _naive(manifest["end"])
    window = timedelta(hours=window_hours)
    contacts = list(_jsonl(gt / "contacts.jsonl"))

    # True repeats: the same true customer within the window before, not about
    # two different true orders.
    repeats, has_repeat, pairs = _repeats(
        [
            (c["contact_id"], c["customer_id"], c["order_id"], _naive(c["event_time"]))
            for c in contacts
        ],
        window,
    )
    malformed: dict[str, set[int]] = defaultdict(set)
    for m in _jsonl(gt / "malformed.jsonl"):
        malformed[m["stream"]].add(m["line"])
    visible = _visible_people(sim_dir, malformed)
    linkable = {
        later
        for earlier, later in pairs
        if visible.get(earlier) is not None and visible.get(earlier) == visible.get(later)
    }
    scenario_of = {c["contact_id"]: c["scenario_id"] for c in contacts}
    same_scenario = {
        later
        for earlier, later in pairs
        if scenario_of[later] is not None and scenario_of[earlier] == scenario_of[later]
    }

    fcr_total = fcr_hits = 0
    for c in contacts:
        if c["channel"] not in ASSISTED_CHANNELS:
            continue
        if _naive(c["event_time"]) + window > end:
            continue  # censored: the window runs past the data
        fcr_total += 1
        fcr_hits += (
            c["channel"] == "call"
            and c["resolved_on_contact"]
            and c["ticket_id"] is None
            and c["contact_id"] not in has_repeat
        )

    tickets = list(_jsonl(gt / "tickets.jsonl"))
    done = [t for t in tickets if t["resolved_at"] is not None]
    rated = [t["rating"] for t in tickets if t["rating"] is not None]

    surveys, nps_answers = [], []
    for call in _records(sim_dir, "calls", malformed["calls"]):
        if call.get("survey_score") is not None:
            surveys.append(call["survey_score"])
        if call.get("nps_score") is not None:
            nps_answers.append(call["nps_score"])

    return TruthFigures(
        fcr=_share(fcr_hits, fcr_total),
        sla_breach=_share(sum(bool(t["is_breached"]) for t in done), len(done)),
        ticket_csat=_share(sum(r >= CSAT_MIN_SCORE for r in rated), len(rated)),
        call_csat=_share(sum(s >= CSAT_MIN_SCORE for s in surveys), len(surveys)),
        nps=_share(
            sum(n >= NPS_PROMOTER_MIN for n in nps_answers)
            - sum(n <= NPS_DETRACTOR_MAX for n in nps_answers),
            len(nps_answers),
        ),
        repeats=frozenset(repeats),
        contacts=frozenset(c["contact_id"] for c in contacts),
        sla_clocks={
            t["ticket_id"]: (float(t["target_business_s"]), float(t["elapsed_business_s"]))
            for t in done
        },
        same_scenario_repeats=frozenset(same_scenario),
        linkable_repeats=frozenset(linkable),
        people=len({c["customer_id"] for c in contacts}),
    )


def mart_figures(warehouse: Path) -> MartFigures:
    """The same figures read from the built marts."""
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def one(sql: str) -> Any:
            return con.execute(sql).fetchall()[0][0]

        fcr = one(
            "select avg(case when is_first_contact_resolved then 1.0 else 0.0 end)"
            " from main.fct_contacts where is_first_contact_resolved is not null"
        )
        breach = one(
            "select avg(case when is_breached then 1.0 else 0.0 end) from main.fct_ticket_sla"
            " where metric = 'resolution' and applied_reason = 'created' and is_completed"
        )
        ticket_csat = one(
            "select avg(case when is_satisfied then 1.0 else 0.0 end)"
            " from main.fct_ticket_metrics where is_rated"
        )
        call_csat = one(
            "select avg(case when is_call_satisfied then 1.0 else 0.0 end)"
            " from main.fct_contacts where is_call_surveyed"
        )
        nps = one(
            "select avg(case when is_nps_promoter then 1.0 when is_nps_detractor then -1.0"
            " else 0.0 end) from main.fct_contacts where nps_score is not null"
        )
        rows = con.execute("select contact_id, is_repeat_contact from main.fct_contacts").fetchall()
        clocks = con.execute(
            "select ticket_id, target_minutes * 60, business_minutes * 60 from main.fct_ticket_sla"
            " where metric = 'resolution' and applied_reason = 'created' and is_completed"
        ).fetchall()
    return MartFigures(
        fcr=fcr,
        sla_breach=breach,
        ticket_csat=ticket_csat,
        call_csat=call_csat,
        nps=nps,
        repeats=frozenset(r[0] for r in rows if r[1]),
        contacts=frozenset(r[0] for r in rows),
        sla_clocks={ticket: (target, elapsed) for ticket, target, elapsed in clocks},
    )


def _abs_error(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(abs(a - b), 6)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _clock_mismatches(
    truth: dict[str, tuple[float, float]], marts: dict[str, tuple[float, float]]
) -> int:
    """Completed clocks (in either) that the other lacks or measures apart by > 1 s."""
    mismatches = 0
    for ticket in truth.keys() | marts.keys():
        a, b = truth.get(ticket), marts.get(ticket)
        if a is None or b is None or any(abs(x - y) > 1 for x, y in zip(a, b, strict=True)):
            mismatches += 1
    return mismatches


def compare(truth: TruthFigures, marts: MartFigures) -> MartsEvaluation:
    both = truth.contacts & marts.contacts
    true_rep, mart_rep = truth.repeats & both, marts.repeats & both
    hits = len(true_rep & mart_rep)
    same_scenario = truth.same_scenario_repeats & both
    linkable = truth.linkable_repeats & both
    return MartsEvaluation(
        repeat_recall=_round(_share(hits, len(true_rep))),
        repeat_precision=_round(_share(hits, len(mart_rep))),
        fcr_abs_error=_abs_error(truth.fcr, marts.fcr),
        sla_breach_abs_error=_abs_error(truth.sla_breach, marts.sla_breach),
        ticket_csat_abs_error=_abs_error(truth.ticket_csat, marts.ticket_csat),
        call_csat_abs_error=_abs_error(truth.call_csat, marts.call_csat),
        nps_abs_error=_abs_error(truth.nps, marts.nps),
        sla_clock_mismatches=_clock_mismatches(truth.sla_clocks, marts.sla_clocks),
        sla_clocks_compared=len(truth.sla_clocks),
        repeat_recall_same_scenario=_round(
            _share(len(same_scenario & mart_rep), len(same_scenario))
        ),
        repeat_recall_linkable=_round(_share(len(linkable & mart_rep), len(linkable))),
        truth={
            "fcr": _round(truth.fcr),
            "sla_breach": _round(truth.sla_breach),
            "ticket_csat": _round(truth.ticket_csat),
            "call_csat": _round(truth.call_csat),
            "nps": _round(truth.nps),
            "repeats": len(true_rep),
            "same_scenario_repeats": len(same_scenario),
            "repeats_linkable": len(linkable),
            # true repeats no record can link to the person (anonymous, unanswered)
            "repeats_unlinkable_share": _round(_share(len(true_rep - linkable), len(true_rep))),
            "contacts": len(truth.contacts),
            "people": truth.people,
            "contacts_per_person": _round(_share(len(truth.contacts), truth.people)),
            "repeat_share": _round(_share(len(true_rep), len(both))),
        },
        marts={
            "fcr": _round(marts.fcr),
            "sla_breach": _round(marts.sla_breach),
            "ticket_csat": _round(marts.ticket_csat),
            "call_csat": _round(marts.call_csat),
            "nps": _round(marts.nps),
            "repeats": len(mart_rep),
            "contacts": len(marts.contacts),
            "contacts_in_both": len(both),
        },
    )


def evaluate_marts(sim_dir: Path, warehouse: Path, window_hours: int) -> MartsEvaluation:
    """Compare a built warehouse with the simulation it was built from."""
    return compare(truth_figures(sim_dir, window_hours), mart_figures(warehouse))
