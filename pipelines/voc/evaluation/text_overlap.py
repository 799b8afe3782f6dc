"""How much of a scenario's own catalog wording a simulated text contains
verbatim: the leak the simulator must not have.

A text "overlaps" when it contains, after NFKC folding and lower-casing, one of
its true scenario's keywords (either language), its name (either language), or
one of its examples when the catalog carries them. The simulator never reads
these strings (voc.simulate.text); what overlap is left comes by chance, from
customers and the catalog using the same everyday words.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from voc.catalog import Catalog, Scenario
from voc.tagging.base import normalise


def catalog_strings(scenario: Scenario) -> tuple[str, ...]:
    """The strings a tagger may match on for `scenario`, normalised."""
    raw = [
        *scenario.keywords_zh,
        *scenario.keywords_en,
        scenario.name_zh,
        scenario.name_en,
        *getattr(scenario, "examples_zh", ()),
        *getattr(scenario, "examples_en", ()),
    ]
    return tuple(s for s in (normalise(x).strip() for x in raw) if s)


def overlaps(text: str, scenario: Scenario) -> bool:
    low = normalise(text)
    return any(s in low for s in catalog_strings(scenario))


def overlap_rate(pairs: Iterable[tuple[str, str]], catalog: Catalog) -> dict[str, Any]:
    """Share of (text, true scenario id) pairs whose text overlaps its scenario."""
    n = hits = 0
    for text, scenario_id in pairs:
        if scenario_id is None or scenario_id not in catalog:
            continue
        n += 1
        hits += overlaps(text, catalog[scenario_id])
    return {"n": n, "overlapping": hits, "overlap_rate": round(hits / n, 4) if n else None}
