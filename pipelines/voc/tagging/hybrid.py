"""The tagger the pipeline uses: rules (signals, keywords) first, then the
learned text model when one is given, for what the rules leave untagged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from voc.catalog import Catalog, load_catalog
from voc.tagging.base import Tag, TagContext
from voc.tagging.rules import RuleTagger


class HybridTagger:
    def __init__(self, catalog: Catalog, model=None) -> None:
        self.rules = RuleTagger(catalog)
        self.model = model
        self.catalog = catalog

    def tag_batch(self, texts: Sequence[str], contexts: Sequence[TagContext]) -> list[Tag | None]:
        tags = self.rules.tag_batch(texts, contexts)
        if self.model is None:
            return tags
        todo = [i for i, t in enumerate(tags) if t is None]
        if todo:
            labels, confidence = self.model.predict([texts[i] for i in todo])
            for i, label, conf in zip(todo, labels, confidence, strict=True):
                if label is not None and label in self.catalog:
                    tags[i] = Tag(label, float(conf), "model", f"text model p={conf:.2f}")
        return tags


def build_tagger(catalog_path: str | Path, model_path: str | Path | None = None) -> HybridTagger:
    model = None
    if model_path:
        from voc.tagging.model import TextModel

        model = TextModel.load(Path(model_path))
    return HybridTagger(load_catalog(catalog_path), model)
