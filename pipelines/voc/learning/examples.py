"""Analyst-labelled contacts as examples the tagger learns from: the overlay file
and the nearest-example tagger that reads it. Pure, no Beam.

The overlay (`<warehouse>.labels.yaml` beside the warehouse by default, written
by `voc label`) is a YAML document

    version: 1
    examples:
      - {scenario_id: express.delivery.fake_signature, language: zh,
         text: "显示签收了但我根本没收到", contact_id: soc-42-000017,
         source: "cluster 3", labelled_at: "2026-12-01T06:30:00Z"}

one entry per labelled contact (the latest label of a contact wins). It is the
interface between the learning loop and any tagger; `ExampleTagger` is the one
the pipeline uses (`voc run --labels`, DECISIONLOG "Untagged contacts and the
learning loop").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml

from voc.learning.words import Boilerplate, customer_words
from voc.tagging.base import Tag, TagContext

OVERLAY_VERSION = 1
# The lowest similarity that keeps >= 0.8 of off-topic texts abstained, on a
# validation part of the simulated label pool (0.35: 0.51; 0.45: 0.90; 0.55: 0.96),
# never on the real dev sets.
MIN_SIMILARITY = 0.45
NEIGHBOURS = 5
BOILERPLATE_MIN_EXAMPLES = 50


class OverlayError(ValueError):
    """The labels overlay file is not valid; the message says where."""


@dataclass(frozen=True, slots=True)
class LabelledExample:
    scenario_id: str
    text: str
    language: str = "zh"
    contact_id: str | None = None
    source: str = ""
    labelled_at: str | None = None


def overlay_path_for(warehouse: Path) -> Path:
    """Where `voc label` keeps the overlay of a warehouse: beside it."""
    return Path(warehouse).with_suffix(".labels.yaml")


def write_overlay(path: Path, examples: Iterable[LabelledExample]) -> int:
    rows = [asdict(e) for e in examples]
    doc = {"version": OVERLAY_VERSION, "examples": rows}
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return len(rows)


def read_overlay(path: Path) -> list[LabelledExample]:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OverlayError(f"labels overlay not found: {path}") from None
    except yaml.YAMLError as exc:
        raise OverlayError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != OVERLAY_VERSION:
        raise OverlayError(f"{path}: expected a mapping with version: {OVERLAY_VERSION}")
    out = []
    for i, row in enumerate(doc.get("examples") or []):
        if not isinstance(row, dict) or not row.get("scenario_id") or not row.get("text"):
            raise OverlayError(f"{path}: examples[{i}] needs a scenario_id and a text")
        out.append(
            LabelledExample(
                str(row["scenario_id"]),
                str(row["text"]),
                str(row.get("language") or "zh"),
                row.get("contact_id"),
                str(row.get("source") or ""),
                row.get("labelled_at"),
            )
        )
    return out


class ExampleTagger:
    """Tags a text with the scenario of its nearest labelled examples.

    Texts and examples are reduced to the customer's words and compared by
    cosine of character 1-3-gram TF-IDF; the `NEIGHBOURS` most similar examples
    at or above `min_similarity` vote, weighted by similarity, among those of
    the contact's own domain and `common`. Confidence = the winner's share of
    the vote times its best similarity. No example close enough: abstain."""

    def __init__(
        self,
        examples: Sequence[LabelledExample],
        *,
        min_similarity: float = MIN_SIMILARITY,
        neighbours: int = NEIGHBOURS,
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.examples = list(examples)
        self.min_similarity = min_similarity
        self.neighbours = neighbours
        self.labels = np.asarray([e.scenario_id for e in self.examples])
        self._domain = np.asarray([e.scenario_id.split(".", 1)[0] for e in self.examples])
        self._vectorizer = None
        self._boilerplate = None
        if len(self.examples) >= BOILERPLATE_MIN_EXAMPLES:
            # what recurs across many labelled texts is greeting and filler, not the
            # problem: left out of examples and queries alike
            self._boilerplate = Boilerplate.fit([e.text for e in self.examples])
        if self.examples:
            self._vectorizer = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True
            )
            self._matrix = self._vectorizer.fit_transform(
                [customer_words(e.text, self._boilerplate) for e in self.examples]
            )

    def __len__(self) -> int:
        return len(self.examples)

    def tag_batch(self, texts: Sequence[str], contexts: Sequence[TagContext]) -> list[Tag | None]:
        if self._vectorizer is None or not texts:
            return [None] * len(texts)
        queries = self._vectorizer.transform(
            [customer_words(t or "", self._boilerplate) for t in texts]
        )
        sims = (queries @ self._matrix.T).toarray()
        out: list[Tag | None] = []
        for row, ctx in zip(sims, contexts, strict=True):
            allowed = (self._domain == ctx.domain) | (self._domain == "common")
            row = np.where(allowed, row, 0.0)
            top = np.argsort(-row, kind="stable")[: self.neighbours]
            top = top[row[top] >= self.min_similarity]
            if not len(top):
                out.append(None)
                continue
            votes: dict[str, float] = {}
            for i in top:
                votes[self.labels[i]] = votes.get(self.labels[i], 0.0) + float(row[i])
            best = max(votes, key=lambda s: (votes[s], s))
            share = votes[best] / sum(votes.values())
            nearest = max(float(row[i]) for i in top if self.labels[i] == best)
            out.append(
                Tag(
                    best,
                    round(share * nearest, 4),
                    "model",
                    f"labelled examples: {sum(self.labels[top] == best)} of {len(top)} "
                    f"nearest, similarity {nearest:.2f}",
                )
            )
        return out
