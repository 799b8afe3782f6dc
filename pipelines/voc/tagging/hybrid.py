"""The tagger the pipeline uses: rules (signals, keywords) first, then the
semantic tagger (what the text means: segmentation, paraphrase concepts,
similarity to each scenario's names and customer examples, narrowed by
domain, stage and category), then the learned text model, when one is given,
for what the rules leave untagged or tag on an app event alone
(DECISIONLOG.md, "Tag precedence").

An app event alone is weak evidence: customers often see a failure event and
then call about something else (measured on simulator hold-out text: 0.58
precision, against 0.93-1.00 for the other rule branches). So with a model,
the model decides those, among the scenarios of the contact's own domain and
the cross-cutting one; the app-event tag stands when the model is unsure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voc.catalog import Catalog, load_catalog
from voc.tagging.base import Tag, TagContext
from voc.tagging.rules import CONFIDENCE, RuleTagger
from voc.tagging.transcript import customer_text

# Below this the model's answer is not worth an owner's time (hold-out: 0.3
# keeps coverage at 0.98 while abstaining on two thirds of off-topic text).
MODEL_MIN_CONFIDENCE = 0.3


class HybridTagger:
    def __init__(self, catalog: Catalog, model=None, semantic=None, examples=None) -> None:
        """`semantic`: a SemanticTagger, or None for rules (+ model) only.
        `examples`: an ExampleTagger of analyst labels (voc.learning.examples),
        last, for what nothing else tagged."""
        self.rules = RuleTagger(catalog)
        self.model = model
        self.semantic = semantic
        self.examples = examples
        self.catalog = catalog
        if model is not None:
            labels = np.asarray(model.labels)
            domains = np.asarray([label.split(".", 1)[0] for label in model.labels])
            self._allowed = {
                d: (domains == d) | (domains == "common")
                for d in {s.domain for s in catalog.scenarios}
            }
            self._known = np.asarray([label in catalog for label in labels])

    def tag_batch(self, texts: Sequence[str], contexts: Sequence[TagContext]) -> list[Tag | None]:
        # the customer's turns only: an agent's script and guesses are not evidence
        texts = [customer_text(t or "") for t in texts]
        if self.semantic is None:
            tags = self.rules.tag_batch(texts, contexts)
        else:
            # one read of the batch serves both: the rules' automaton runs only on
            # texts that may hold a keyword, the semantic tagger on what they leave
            read = self.semantic.read(texts)
            scan = self.semantic.keyword_candidates(read).tolist()
            tags = self.rules.tag_batch(texts, contexts, scan=scan)
            todo = [i for i, t in enumerate(tags) if t is None]
            if todo:
                found = self.semantic.tag_batch(
                    [texts[i] for i in todo], [contexts[i] for i in todo], read=read, rows=todo
                )
                for i, tag in zip(todo, found, strict=True):
                    tags[i] = tag
        if self.model is not None:
            tags = self._model_tags(texts, contexts, tags)
        if self.examples is not None and len(self.examples):
            todo = [i for i, t in enumerate(tags) if t is None]
            found = self.examples.tag_batch([texts[i] for i in todo], [contexts[i] for i in todo])
            for i, tag in zip(todo, found, strict=True):
                tags[i] = tag
        return tags

    def _model_tags(self, texts, contexts, tags: list[Tag | None]) -> list[Tag | None]:
        todo = [i for i, t in enumerate(tags) if t is None or _app_event_only(t)]
        if not todo:
            return tags
        probs = self.model.predict_proba([texts[i] for i in todo])
        floor = max(self.model.abstain_threshold, MODEL_MIN_CONFIDENCE)
        for row, i in zip(probs, todo, strict=True):
            allowed = self._allowed.get(contexts[i].domain, self._known) & self._known
            if not allowed.any():
                continue
            masked = np.where(allowed, row, -1.0)
            best = int(masked.argmax())
            conf = float(row[best])
            if conf >= floor:
                tags[i] = Tag(self.model.labels[best], conf, "model", f"text model p={conf:.2f}")
        return tags


def _app_event_only(tag: Tag) -> bool:
    return tag.method == "signal" and tag.confidence == CONFIDENCE["signal"]


def build_tagger(
    catalog_path: str | Path,
    model_path: str | Path | None = None,
    *,
    semantic: bool = True,
    labels_path: str | Path | None = None,
) -> HybridTagger:
    """The default tagger: rules, then the semantic tagger (built from the
    catalog, no training step), then the learned model when one is given.
    `labels_path`: an overlay of analyst labels (voc label): what is still
    untagged is tagged by the nearest labelled examples (DECISIONLOG "Untagged
    contacts and the learning loop": added to the semantic tagger's examples
    instead, they made real text worse)."""
    model = None
    if model_path:
        from voc.tagging.model import TextModel

        model = TextModel.load(Path(model_path))
    catalog = load_catalog(catalog_path)
    examples = None
    if labels_path:
        from voc.learning.examples import ExampleTagger, read_overlay

        examples = ExampleTagger(
            [e for e in read_overlay(Path(labels_path)) if e.scenario_id in catalog]
        )
    sem = None
    if semantic:
        from voc.tagging.semantic import semantic_tagger

        sem = semantic_tagger(str(catalog_path))
    return HybridTagger(catalog, model, sem, examples)
