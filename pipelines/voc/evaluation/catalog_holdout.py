"""How well the taggers tag simulated contacts they have never seen, scenario by
scenario of the default catalog, and how fast (pure, no Beam).

One run: simulate `days` of streams into a temporary folder, rebuild every contact
the way the pipeline does (text, context, the customer's last app events), split
them, train the text model on the training part only and tag the hold-out part
with (a) the text model alone, (b) the rule tagger alone, (c) the hybrid tagger
(rules first, the model for what the rules leave untagged).

Definitions (DECISIONLOG "Learned tagger and tagging evaluation"; the same as
voc.evaluation.tagging):

- in scope: a contact whose true scenario is a catalog scenario; off-topic
  contacts (scenario null in the ground truth) are out of scope and the right
  answer is to abstain. The model is trained on in-scope training texts only, so
  "off-topic" is never a label it can answer;
- macro_f1: F1 averaged over the scenarios present in the hold-out part,
  abstentions counted as misses, over in-scope texts (an off-topic text tagged
  with a scenario shows up in oos_abstained, not in that scenario's precision);
  a scenario the model never saw in training still counts: the rules may know it;
- accuracy / coverage: share of in-scope hold-out texts tagged right / tagged;
- oos_abstained: share of off-topic hold-out texts left untagged;
- texts_per_s: hold-out texts / seconds in `tag_batch` (or `predict`) alone, every
  native thread pool limited to one thread.

Splits: "time" trains on contacts in the first `train_share` of the simulated
period and holds out the rest (what deployment looks like: the model meets next
week's contacts); "random" shuffles contacts into the same proportions (seeded).
No hold-out contact, text or label is seen by training or by the choice of the
abstain threshold, which TextModel makes on a validation split of training data.

Context: built from the stream record as voc.pipeline.contacts.to_contact does
(channel call | ticket | social, domain, language, a call's entry point, a
ticket's category code), plus the journey stage and recent app events that
voc.stitch.journey.CustomerJourney.stitch gives with the pipeline's default
look-back (24 h, last 5 events), from every app event before the contact. That is
what the pipeline sees when no app event arrives after its contact is flushed.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from voc.catalog import Catalog, load_catalog
from voc.contracts.streams import Stream
from voc.contracts.validate import Rejected, parse_payload
from voc.evaluation.tagging import ABSTAIN, score_predictions
from voc.stitch.journey import CustomerJourney, JourneyStep
from voc.tagging.base import Tag, TagContext
from voc.tagging.model import ModelConfig, TextModel

OFF_TOPIC = "<off_topic>"  # the truth label of a contact about no scenario
TRAIN_SHARE = 0.7
# the pipeline's defaults (voc.pipeline.options: --lookback_s, --recent_n)
LOOKBACK_S = 86_400
RECENT_N = 5
DEFAULT_DAYS, DEFAULT_SCALE = 14, 3.0
# The benchmark's size: what trains within its time budget (see bench_tagging_catalog.py)
BENCH_DAYS, BENCH_SCALE = 7, 1.0
TAGGERS = ("model", "rules", "hybrid")


@dataclass(frozen=True, slots=True)
class LabelledContact:
    """One contact as the tagger sees it, with its true scenario (None: off-topic)."""

    contact_id: str
    event_time_s: float
    text: str
    context: TagContext
    scenario_id: str | None


@dataclass(frozen=True, slots=True)
class Split:
    name: str
    train: list[LabelledContact]
    holdout: list[LabelledContact]


# -- contacts ------------------------------------------------------------------


def read_contacts(sim_dir: Path, *, journeys: bool = True) -> list[LabelledContact]:
    """Every ground-truth contact of a simulator run, in event-time order.

    A contact whose record is missing (its line was deliberately broken) is left
    out: the pipeline would have dead-lettered it and never tagged it.
    """
    sim_dir = Path(sim_dir)
    truth = {
        r["contact_id"]: r["scenario_id"] for r in _jsonl(sim_dir / "ground_truth/contacts.jsonl")
    }
    records: list[tuple[str, dict[str, Any]]] = []
    for r in _jsonl(sim_dir / "calls.jsonl", Stream.CALLS):
        if r.get("event_id") in truth and isinstance(r.get("transcript"), str):
            records.append(("call", r))
    for r in _jsonl(sim_dir / "ticket_events.jsonl", Stream.TICKET_EVENTS):
        # a ticket opened from a call or a post is the same contact as that call
        # or post (voc.pipeline.contacts.to_contact)
        if (
            r.get("event_type") == "created"
            and not r.get("source_contact_id")
            and r.get("event_id") in truth
            and isinstance(r.get("text"), str)
        ):
            records.append(("ticket", r))
    for r in _jsonl(sim_dir / "social_posts.jsonl", Stream.SOCIAL_POSTS):
        if r.get("event_id") in truth and isinstance(r.get("text"), str):
            records.append(("social", r))

    customers = {r.get("customer_id") for _, r in records} - {None}
    journey_of = _journeys(sim_dir / "app_events.jsonl", customers) if journeys else {}
    contacts = []
    for channel, r in records:
        t_s = _epoch_s(r["event_time"])
        stage, recent = None, ()
        journey = journey_of.get(r.get("customer_id"))
        if journey is not None:
            stitched = journey.stitch(
                int(t_s * 1_000_000), r.get("order_id"), lookback_s=LOOKBACK_S, recent_n=RECENT_N
            )
            stage, recent = stitched.journey_stage, stitched.recent_events
        context = TagContext(
            domain=r["domain"],
            channel=channel,
            language=r.get("language") or "zh",
            journey_stage=stage,
            recent_events=recent,
            entry_point=r.get("entry_point") if channel == "call" else None,
            category_code=r.get("category_code") if channel == "ticket" else None,
        )
        text = r["transcript"] if channel == "call" else r["text"]
        contacts.append(LabelledContact(r["event_id"], t_s, text, context, truth[r["event_id"]]))
    contacts.sort(key=lambda c: (c.event_time_s, c.contact_id))
    return contacts


def _journeys(path: Path, customers: set[str]) -> dict[str, CustomerJourney]:
    steps: dict[str, list[JourneyStep]] = defaultdict(list)
    for r in _jsonl(path, Stream.APP_EVENTS):
        customer = r.get("customer_id")
        if customer in customers:
            steps[customer].append(
                JourneyStep(
                    int(_epoch_s(r["event_time"]) * 1_000_000),
                    r["journey_stage"],
                    r["event_name"],
                    r.get("order_id"),
                    r.get("event_id", ""),
                )
            )
    return {c: CustomerJourney.of(s) for c, s in steps.items()}


def _jsonl(path: Path, stream: Stream | None = None):
    """The records of a JSON-lines file. With a stream, only those the pipeline
    would accept: a deliberately broken line (bad JSON, or JSON that breaks the
    stream's schema) is dead-lettered there, so it is skipped here."""
    with Path(path).open("rb") as fh:
        for line in fh:
            if stream is not None:
                record = parse_payload(stream, line.rstrip(b"\n"))
                if isinstance(record, Rejected):
                    continue
                yield record
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


def _epoch_s(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# -- splits --------------------------------------------------------------------


def time_split(
    contacts: Sequence[LabelledContact], start_s: float, end_s: float, train_share: float
) -> Split:
    """Train on contacts before start + train_share x period, hold out the rest."""
    cut = start_s + train_share * (end_s - start_s)
    return Split(
        "time",
        [c for c in contacts if c.event_time_s < cut],
        [c for c in contacts if c.event_time_s >= cut],
    )


def random_split(contacts: Sequence[LabelledContact], train_share: float, seed: int) -> Split:
    order = list(range(len(contacts)))
    random.Random(f"catalog-holdout:{seed}").shuffle(order)
    n_train = int(round(train_share * len(order)))
    train_idx = sorted(order[:n_train])
    holdout_idx = sorted(order[n_train:])
    return Split("random", [contacts[i] for i in train_idx], [contacts[i] for i in holdout_idx])


# -- scoring -------------------------------------------------------------------


def evaluate_split(
    split: Split,
    catalog: Catalog,
    *,
    seed: int = 0,
    config: ModelConfig | None = None,
    taggers: Sequence[str] = TAGGERS,
    diagnostics: bool = False,
) -> dict[str, Any]:
    """Train on split.train (in-scope contacts only), score every tagger on
    split.holdout. {tagger: scores} plus the split's sizes."""
    from voc.tagging.hybrid import HybridTagger
    from voc.tagging.rules import RuleTagger

    overlap = {c.contact_id for c in split.train} & {c.contact_id for c in split.holdout}
    if overlap:  # cannot happen with the splits above; a guard for new ones
        raise ValueError(f"{len(overlap)} contacts are in both training and hold-out")
    train = [c for c in split.train if c.scenario_id is not None and c.scenario_id in catalog]
    started = time.perf_counter()
    model = TextModel.train(
        [c.text for c in train], [c.scenario_id for c in train], seed=seed, config=config
    )
    seconds_train = time.perf_counter() - started

    texts = [c.text for c in split.holdout]
    contexts = [c.context for c in split.holdout]
    truth = [c.scenario_id if c.scenario_id is not None else OFF_TOPIC for c in split.holdout]
    seen = {c.scenario_id for c in train}
    in_holdout = {t for t in truth if t in catalog}
    report: dict[str, Any] = {
        "n_train": len(split.train),
        "n_train_in_scope": len(train),
        "n_holdout": len(split.holdout),
        "n_holdout_off_topic": truth.count(OFF_TOPIC),
        "scenarios_in_train": len(seen),
        "scenarios_in_holdout": len(in_holdout),
        "scenarios_in_holdout_unseen_in_train": len(in_holdout - seen),
        "seconds_train": seconds_train,
        "abstain_threshold": model.abstain_threshold,
    }
    rules, hybrid = RuleTagger(catalog), HybridTagger(catalog, model)
    runners: dict[str, Callable[[Sequence[str], Sequence[TagContext]], list[Tag | None]]] = {
        "model": lambda x, _ctx: _model_tags(model, x),
        "rules": rules.tag_batch,
        "hybrid": hybrid.tag_batch,
    }
    for name in taggers:
        tags, seconds = timed_tagging(runners[name], texts, contexts)
        predicted = [t.scenario_id if t is not None else None for t in tags]
        confidence = np.array([t.confidence if t is not None else 0.0 for t in tags])
        scores = score_predictions(
            tuple(s.id for s in catalog.scenarios), truth, predicted, confidence
        )
        scores["texts_per_s"] = len(texts) / seconds if seconds > 0 else float("inf")
        scores["macro_f1_seen"] = _macro_f1(truth, predicted, in_holdout & seen)
        if diagnostics:
            scores["errors"] = error_breakdown(truth, tags, seen)
        report[name] = scores
    return report


def _model_tags(model: TextModel, texts: Sequence[str]) -> list[Tag | None]:
    labels, confidence = model.predict(texts)
    return [
        Tag(label, float(c), "model", "text model") if label is not None else None
        for label, c in zip(labels, confidence.tolist(), strict=True)
    ]


def timed_tagging(
    tag_batch: Callable[[Sequence[str], Sequence[TagContext]], list[Tag | None]],
    texts: Sequence[str],
    contexts: Sequence[TagContext],
) -> tuple[list[Tag | None], float]:
    """Tag with every native thread pool limited to one thread; (tags, seconds).
    A tiny warm-up first so one-off set-up is not timed."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        tag_batch(texts[:8], contexts[:8])
        started = time.perf_counter()
        tags = tag_batch(texts, contexts)
        return tags, time.perf_counter() - started


def _macro_f1(
    truth: Sequence[str], predicted: Sequence[str | None], labels: set[str]
) -> float | None:
    from sklearn.metrics import f1_score

    if not labels:
        return None
    pairs = [(t, p or ABSTAIN) for t, p in zip(truth, predicted, strict=True) if t in labels]
    return float(
        f1_score(
            [t for t, _ in pairs],
            [p for _, p in pairs],
            labels=sorted(labels),
            average="macro",
            zero_division=0,
        )
    )


def error_breakdown(
    truth: Sequence[str], tags: Sequence[Tag | None], seen: set[str], top: int = 15
) -> dict[str, Any]:
    """Where the in-scope misses come from: abstained (scenario seen in training or
    not), or a wrong scenario by method; the most frequent confusions; and the
    number of off-topic texts tagged, by method."""
    causes: Counter[str] = Counter()
    confusions: Counter[tuple[str, str, str]] = Counter()
    oos_tagged: Counter[str] = Counter()
    for t, tag in zip(truth, tags, strict=True):
        if t == OFF_TOPIC:
            if tag is not None:
                oos_tagged[tag.method] += 1
            continue
        if tag is not None and tag.scenario_id == t:
            continue
        if tag is None:
            causes["abstained_seen" if t in seen else "abstained_unseen"] += 1
            continue
        evidence = tag.evidence.split(" ", 2)[:2] if tag.method == "signal" else [tag.method]
        causes[f"wrong_{'_'.join(evidence)}" + ("" if t in seen else "_unseen")] += 1
        confusions[(t, tag.scenario_id, tag.method)] += 1
    return {
        "causes": dict(causes.most_common()),
        "top_confusions": [
            {"truth": a, "tagged": b, "method": m, "n": n}
            for (a, b, m), n in confusions.most_common(top)
        ],
        "off_topic_tagged": dict(oos_tagged),
    }


# -- the whole run -------------------------------------------------------------


def evaluate_catalog_holdout(
    days: int = DEFAULT_DAYS,
    seed: int = 42,
    catalog: Catalog | None = None,
    *,
    scale: float = DEFAULT_SCALE,
    train_share: float = TRAIN_SHARE,
    random_split_too: bool = True,
    diagnostics: bool = False,
    config: ModelConfig | None = None,
) -> dict[str, Any]:
    """Simulate, split by time (and at random), train, tag the hold-out, score.

    The headline figures are the time split's hybrid tagger; "model", "rules" and
    "hybrid" hold each tagger's full scores, "random" the same for a random split.
    """
    from voc.simulate import DEFAULT_START, simulate

    catalog = catalog or load_catalog()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="voc-catalog-holdout-") as tmp:
        simulate(Path(tmp), days=days, seed=seed, catalog=catalog, scale=scale, malformed_rate=0.0)
        seconds_simulate = time.perf_counter() - started
        contacts = read_contacts(Path(tmp))
    start_s = DEFAULT_START.timestamp()
    split = time_split(contacts, start_s, start_s + days * 86_400, train_share)
    report = evaluate_split(split, catalog, seed=seed, config=config, diagnostics=diagnostics)
    hybrid = report["hybrid"]
    summary: dict[str, Any] = {
        "macro_f1": hybrid["macro_f1"],
        "accuracy": hybrid["accuracy"],
        "coverage": hybrid["coverage"],
        "oos_abstained": hybrid["oos_recall"],
        "texts_per_s": hybrid["texts_per_s"],
        "model_only_macro_f1": report["model"]["macro_f1"],
        "rules_only_macro_f1": report["rules"]["macro_f1"],
        "days": days,
        "scale": scale,
        "seed": seed,
        "catalog_scenarios": len(catalog),
        "n_contacts": len(contacts),
        "seconds_simulate": seconds_simulate,
        **report,
    }
    if random_split_too:
        rnd = evaluate_split(random_split(contacts, train_share, seed), catalog, seed=seed)
        summary["random"] = rnd
        summary["random_macro_f1"] = rnd["hybrid"]["macro_f1"]
    summary["seconds_total"] = time.perf_counter() - started
    return summary
