"""The catalog hold-out evaluation on a small simulation: every figure present and
in range, and no contact both trained on and held out."""

from __future__ import annotations

import pytest

from voc.catalog import load_catalog
from voc.evaluation.catalog_holdout import (
    TAGGERS,
    evaluate_catalog_holdout,
    random_split,
    read_contacts,
    time_split,
)
from voc.simulate import DEFAULT_START, simulate

DAYS, SCALE, SEED = 2, 0.3, 7


@pytest.fixture(scope="module")
def contacts(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    simulate(out, days=DAYS, seed=SEED, scale=SCALE, malformed_rate=0.0)
    return read_contacts(out)


def test_contacts_carry_text_context_and_truth(contacts):
    # GIVEN a small simulation read back as contacts
    # THEN every contact has text and a pipeline channel, some are off-topic, and
    # some carry the app events that preceded them
    assert contacts
    assert all(c.text and c.context.channel in ("call", "ticket", "social") for c in contacts)
    assert any(c.scenario_id is None for c in contacts)
    assert any(c.context.recent_events for c in contacts)
    assert [c.event_time_s for c in contacts] == sorted(c.event_time_s for c in contacts)


def test_splits_never_share_a_contact(contacts):
    # GIVEN the contacts of a run
    start = DEFAULT_START.timestamp()
    # WHEN they are split by time and at random
    by_time = time_split(contacts, start, start + DAYS * 86_400, 0.7)
    at_random = random_split(contacts, 0.7, seed=0)
    # THEN training and hold-out are disjoint and together are every contact, and
    # the time split trains only on contacts older than every held-out one
    for split in (by_time, at_random):
        train = {c.contact_id for c in split.train}
        holdout = {c.contact_id for c in split.holdout}
        assert not train & holdout
        assert len(train | holdout) == len(contacts)
        assert split.train and split.holdout
    assert max(c.event_time_s for c in by_time.train) < min(c.event_time_s for c in by_time.holdout)


def test_evaluate_catalog_holdout_reports_every_figure_in_range():
    # GIVEN two simulated days at a small scale
    # WHEN the whole evaluation runs (time and random split)
    report = evaluate_catalog_holdout(days=DAYS, seed=SEED, scale=SCALE)
    # THEN the headline figures are there and sane
    for key in ("macro_f1", "accuracy", "coverage", "oos_abstained"):
        assert 0.0 <= report[key] <= 1.0, key
    assert report["texts_per_s"] > 0
    assert report["n_train"] > report["n_holdout"] > 0
    assert 0 < report["scenarios_in_holdout"] <= report["catalog_scenarios"]
    assert report["catalog_scenarios"] == len(load_catalog())
    for name in TAGGERS:
        assert 0.0 <= report[name]["macro_f1"] <= 1.0
        assert 0.0 <= report["random"][name]["macro_f1"] <= 1.0
    # the hybrid answers at least what the rules answer: the model only fills gaps
    assert report["hybrid"]["coverage"] >= report["rules"]["coverage"]


def test_a_run_with_broken_lines_reads_only_what_the_pipeline_accepts(tmp_path):
    # GIVEN a simulation with the simulator's deliberately broken lines (bad JSON,
    # and JSON that breaks a stream's schema, e.g. an app event without its name)
    simulate(tmp_path, days=1, seed=SEED, scale=SCALE, malformed_rate=0.05)
    clean = tmp_path / "clean"
    simulate(clean, days=1, seed=SEED, scale=SCALE, malformed_rate=0.0)
    # WHEN its contacts are read back
    broken = read_contacts(tmp_path)
    # THEN it does not fail, and every contact read is a valid one (the broken
    # lines are left out, as the pipeline dead-letters them)
    assert broken
    assert len(broken) <= len(read_contacts(clean))
    assert all(c.text and c.context.channel in ("call", "ticket", "social") for c in broken)
