"""The simulator writes contact text without reading what the tagger matches on:
a scenario's catalog name, description, keywords and examples."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import voc.simulate.text as text_module
from voc.catalog import parse_catalog, read_catalog_doc
from voc.paths import DEFAULT_CATALOG
from voc.simulate import simulate

CATALOG_WORDING = (
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "keywords_zh",
    "keywords_en",
    "examples_zh",
    "examples_en",
)


def test_the_text_module_cannot_see_catalog_wording() -> None:
    # GIVEN the text generator's source
    tree = ast.parse(Path(text_module.__file__).read_text(encoding="utf-8"))
    # WHEN its imports and attribute reads are listed
    imports = {
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    # THEN it imports nothing of the catalog and reads no wording field
    assert not any(m and m.startswith("voc.catalog") for m in imports), imports
    assert not attributes & set(CATALOG_WORDING)


def _reworded(doc: dict) -> dict:
    """The same catalog with every wording field changed (ids, stages, categories
    and signals kept)."""
    doc = copy.deepcopy(doc)
    for s in doc["scenarios"]:
        for field in CATALOG_WORDING:
            if isinstance(s.get(field), list):
                s[field] = [f"{x}·{i}·改" for i, x in enumerate(s[field])]
            elif isinstance(s.get(field), str):
                s[field] = f"改写·{s[field]}"
    return doc


def test_simulated_streams_do_not_depend_on_catalog_wording(tmp_path: Path) -> None:
    # GIVEN the default catalog and the same catalog reworded
    doc = read_catalog_doc(DEFAULT_CATALOG)
    original = parse_catalog(doc, "original")
    reworded = parse_catalog(_reworded(doc), "reworded")
    # WHEN the same seed is simulated with each
    for name, catalog in (("a", original), ("b", reworded)):
        simulate(tmp_path / name, days=2, seed=11, catalog=catalog, scale=0.2)
    # THEN every stream and the ground truth are byte-identical
    for f in (
        "calls.jsonl",
        "ticket_events.jsonl",
        "social_posts.jsonl",
        "app_events.jsonl",
        "ground_truth/contacts.jsonl",
    ):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
