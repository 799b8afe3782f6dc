"""The structured-signal and keyword tagger, driven entirely by the catalog.

Precedence (DECISIONLOG.md, "Tag precedence"):
1. a ticket category code that a scenario claims (a human or system already
   classified the contact);
2. a scenario's app-event signal among the customer's recent journey events,
   unless the text's keywords point at a different scenario;
3. keywords: one Aho-Corasick automaton over every keyword of every scenario,
   Chinese and English alike; the scenario with the most distinct keyword hits
   wins, restricted to the contact's domain and the cross-cutting `common` one;
   a tie between scenarios abstains.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import ahocorasick

from voc.catalog import Catalog
from voc.tagging.base import Tag, TagContext, normalise

CONFIDENCE = {
    "category": 0.97,
    "signal_and_keyword": 0.95,
    "signal": 0.85,
    "keyword_strong": 0.9,  # two or more distinct keywords
    "keyword": 0.75,
}


class RuleTagger:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._by_category: dict[str, str] = {}
        self._by_app_event: dict[str, list[str]] = defaultdict(list)
        for s in catalog.scenarios:
            for code in s.ticket_category_signals:
                self._by_category.setdefault(code, s.id)
            for name in s.app_event_signals:
                self._by_app_event[name].append(s.id)
        keyword_owners = catalog_keywords(catalog)
        self._automaton = ahocorasick.Automaton()
        for kw, owners in keyword_owners.items():
            if kw:
                self._automaton.add_word(kw, (kw, tuple(sorted(owners))))
        self._automaton.make_automaton()

    def tag_batch(
        self,
        texts: Sequence[str],
        contexts: Sequence[TagContext],
        scan: Sequence[bool] | None = None,
    ) -> list[Tag | None]:
        """`scan[i]` False: text i holds no keyword (its caller knows, e.g. from
        `SemanticTagger.keyword_candidates`), so the automaton is not run on it."""
        if scan is None:
            return [self.tag_one(t, c) for t, c in zip(texts, contexts, strict=True)]
        return [self.tag_one(t, c, s) for t, c, s in zip(texts, contexts, scan, strict=True)]

    def tag_one(self, text: str, ctx: TagContext, scan: bool = True) -> Tag | None:
        if ctx.category_code and ctx.category_code in self._by_category:
            sid = self._by_category[ctx.category_code]
            return Tag(
                sid, CONFIDENCE["category"], "signal", f"ticket category {ctx.category_code}"
            )
        hits = self.keyword_hits(text, ctx.domain) if scan else {}
        signalled = self._signalled(ctx)
        if signalled:
            sid, event = signalled
            kw_best = _best(hits)
            if kw_best is None or kw_best == sid:
                agreed = kw_best == sid
                return Tag(
                    sid,
                    CONFIDENCE["signal_and_keyword" if agreed else "signal"],
                    "signal",
                    f"app event {event} before contact"
                    + (f"; keywords {', '.join(sorted(hits[sid]))}" if agreed else ""),
                )
        best = _best(hits)
        if best is None:
            return None
        strength = "keyword_strong" if len(hits[best]) >= 2 else "keyword"
        return Tag(
            best, CONFIDENCE[strength], "keyword", "keywords " + ", ".join(sorted(hits[best]))
        )

    def keyword_hits(self, text: str, domain: str) -> dict[str, set[str]]:
        norm = normalise(text)
        hits: dict[str, set[str]] = defaultdict(set)
        for end, (kw, owners) in self._automaton.iter(norm):
            if kw.isascii() and not _on_word_boundaries(norm, end - len(kw) + 1, end):
                continue
            for sid in owners:
                # no domain known (an export of mixed contacts): every domain competes
                if not domain or sid.split(".", 1)[0] in (domain, "common"):
                    hits[sid].add(kw)
        return hits

    def _signalled(self, ctx: TagContext) -> tuple[str, str] | None:
        # The newest signal wins: it is the one closest to the moment of contact.
        for event in reversed(ctx.recent_events):
            for sid in self._by_app_event.get(event, ()):
                if not ctx.domain or sid.split(".", 1)[0] in (ctx.domain, "common"):
                    return sid, event
        return None


def catalog_keywords(catalog: Catalog) -> dict[str, set[str]]:
    """Every keyword of the catalog as the automaton matches it (normalised)
    -> the scenarios that list it."""
    owners: dict[str, set[str]] = defaultdict(set)
    for s in catalog.scenarios:
        for kw in (*s.keywords_zh, *s.keywords_en):
            owners[normalise(kw).strip()].add(s.id)
    owners.pop("", None)
    return owners


def _best(hits: dict[str, set[str]]) -> str | None:
    if not hits:
        return None
    ranked = sorted(hits.items(), key=lambda kv: (-len(kv[1]), -sum(map(len, kv[1])), kv[0]))
    if (
        len(ranked) > 1
        and len(ranked[0][1]) == len(ranked[1][1])
        and sum(map(len, ranked[0][1])) == sum(map(len, ranked[1][1]))
    ):
        return None  # a true tie: abstain rather than guess
    return ranked[0][0]


def _on_word_boundaries(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end + 1] if end + 1 < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())
