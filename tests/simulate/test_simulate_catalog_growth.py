"""The simulator derives everything from the catalog, so a bigger catalog just works."""

from __future__ import annotations

import copy
import random
from pathlib import Path

from tests.simulate.helpers import read_jsonl
from voc.catalog import parse_catalog, read_catalog_doc
from voc.contracts.streams import Stream
from voc.contracts.validate import DeadLetter, validate_record
from voc.paths import DEFAULT_CATALOG
from voc.simulate import simulate
from voc.simulate.text import ScenarioKey, TextContext, customer_text


def _grown_catalog(copies: int):
    doc = read_catalog_doc(DEFAULT_CATALOG)
    grown = []
    for k in range(copies):
        for scenario in doc["scenarios"]:
            clone = copy.deepcopy(scenario)
            clone["id"] = f"{scenario['id']}_v{k}"
            # Each copy's keywords are its own: the catalog refuses a keyword
            # that two competing scenarios claim.
            for lang in ("keywords_zh", "keywords_en"):
                clone[lang] = [f"{kw} v{k}" for kw in scenario[lang]]
            grown.append(clone)
    doc["scenarios"] = grown
    return parse_catalog(doc, "grown")


def test_a_catalog_twice_as_big_simulates_valid_streams(tmp_path: Path) -> None:
    # GIVEN a catalog with twice the ~1,400 default scenarios
    catalog = _grown_catalog(2)
    # WHEN two days are simulated at a small scale
    summary = simulate(tmp_path, days=2, seed=3, catalog=catalog, scale=0.3, malformed_rate=0.0)
    # THEN every line is valid and contacts spread over many scenarios
    for stream in Stream:
        for raw in (tmp_path / f"{stream}.jsonl").read_bytes().splitlines():
            assert not isinstance(validate_record(stream, raw, "t"), DeadLetter)
    truth = read_jsonl(tmp_path / "ground_truth" / "contacts.jsonl")
    assert summary.contacts == len(truth)
    # contacts spread over the catalog: at least half the coverage that
    # uniform draws would give
    on_topic = [t for t in truth if t["scenario_id"]]
    uniform = len(catalog) * (1 - (1 - 1 / len(catalog)) ** len(on_topic))
    assert len({t["scenario_id"] for t in on_topic}) >= 0.5 * uniform


def test_text_for_an_unseen_scenario_is_written_and_varied() -> None:
    # GIVEN a scenario key the phrasing model knows only some words of
    key = ScenarioKey(
        "ecommerce.after_sale.invoice_missing_zorbled", "ecommerce", "after_sale", "billing"
    )
    rng = random.Random(0)
    texts = []
    for i in range(200):
        ctx = TextContext("ecommerce", "zh" if i % 2 else "en", "anxious", "ord-ecommerce-000001")
        # WHEN texts are written about it
        texts.append(customer_text(rng, key, ctx, spoken=i % 3 == 0))
    # THEN none is empty, they vary, and the unknown word is never spelt out
    assert all(t.strip() for t in texts)
    assert len(set(texts)) > 0.9 * len(texts)
    assert not any("zorbled" in t for t in texts)
