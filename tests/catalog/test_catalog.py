from __future__ import annotations

import copy

import pytest

from voc.catalog import CatalogError, load_catalog, parse_catalog, read_catalog_doc
from voc.paths import DEFAULT_CATALOG


def test_default_catalog_loads_and_is_cross_referenced():
    catalog = load_catalog()
    assert len(catalog) >= 30
    assert set(catalog.domains) == {"freight", "express", "ecommerce", "common"}
    for s in catalog.scenarios:
        assert s.owner in catalog.departments
        assert (s.domain, s.stage) in {(st.domain, st.id) for st in catalog.stages}
        assert s.keywords_zh and s.keywords_en


def test_seed_scenarios_are_present():
    ids = {s.id for s in load_catalog().scenarios}
    for sid in (
        "freight.loading.wasted_trip",
        "freight.order.deposit_dispute",
        "freight.settlement.unpaid_freight",
        "express.transit.intercept",
        "express.delivery.chase_parcel",
        "common.app.virtual_number_failure",
    ):
        assert sid in ids


def _doc():
    return read_catalog_doc(DEFAULT_CATALOG)


def test_unknown_owner_and_duplicate_id_are_reported_together():
    doc = _doc()
    doc["scenarios"][0]["owner"] = "nobody"
    doc["scenarios"].append(copy.deepcopy(doc["scenarios"][1]))
    with pytest.raises(CatalogError) as err:
        parse_catalog(doc, "test.yaml")
    assert "owner 'nobody'" in str(err.value)
    assert "duplicate scenario id" in str(err.value)


def test_bad_scenario_id_is_a_schema_error():
    doc = _doc()
    doc["scenarios"][0]["id"] = "Wasted Trip"
    with pytest.raises(CatalogError, match="scenarios/0/id"):
        parse_catalog(doc, "test.yaml")


def test_missing_file_says_so(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.yaml")


def test_customer_examples_are_loaded_and_optional():
    # GIVEN the default catalog
    cat = load_catalog(DEFAULT_CATALOG)
    with_examples = [s for s in cat.scenarios if s.examples_zh]
    # THEN the scenarios customers write about most carry Chinese examples, others none
    assert len(with_examples) >= 150
    assert cat["ecommerce.shipping.delivery_delay"].examples_zh
    assert all(isinstance(e, str) and len(e) >= 4 for s in with_examples for e in s.examples_zh)


def test_an_example_that_repeats_a_keyword_is_rejected():
    doc = _doc()
    s = doc["scenarios"][0]
    s["examples_zh"] = [s["keywords_zh"][0] if s["keywords_zh"] else s["keywords_en"][0]]
    with pytest.raises(CatalogError, match="repeats a keyword verbatim"):
        parse_catalog(doc)


def test_an_example_list_must_hold_sentences():
    doc = _doc()
    doc["scenarios"][0]["examples_zh"] = ["慢"]
    with pytest.raises(CatalogError):
        parse_catalog(doc)
