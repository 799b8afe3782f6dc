"""The semantic tagger: what the text means, not only the catalog's verbatim
phrases. Pure (numpy, scipy, rjieba, pyahocorasick), no Beam, no training step
for the user: everything is built from the catalog in a few seconds, plus
one small shipped model (`voc.tagging.relevance`) trained here on real text.

How a text is read (DECISIONLOG.md, "Semantic tagger"):

1. The customer's own words (`voc.tagging.transcript.customer_text`: agent
   turns of a transcript dropped), NFKC + lower case.
2. Three kinds of features, each TF-IDF weighted and L2-normalised, then
   concatenated with fixed weights:
   - character 2-3-grams (the numpy featuriser of `voc.tagging.text`):
     spelling variants, Chinese without segmentation;
   - words: the catalog's content words (its documents segmented by jieba,
     the Rust port `rjieba`, which ships its dictionary; English words; stop
     words dropped), found in a text by the hash of their characters among
     the text's character n-grams: one hashing pass and one hash-table probe
     serve the character block and the words, and no text is segmented at
     tagging time;
   - paraphrase concepts (`lexicon.yaml`): every surface form of an idea
     ("送货很慢", "迟迟没到", "late") adds the same concept token, so
     customer wording meets catalog wording even with no word in common.
     Chinese forms are found by the same hash lookup as the words; English
     forms (word boundaries) by an Aho-Corasick automaton, only in texts with
     Latin letters or digits.
3. Each scenario is a set of short documents: its names, descriptions,
   keywords and customer examples (`examples_zh`/`examples_en`). A text's
   score for a scenario = 0.5 x its cosine with the scenario's centroid +
   0.5 x its best cosine with one of the scenario's customer examples (the
   centroid again where it has none), + a small prior for scenarios that
   have examples.
4. Hierarchical narrowing: only the contact's domain and `common` compete;
   a category's score (the mean of its two best scenarios) is added to each
   of its scenarios, so the category is chosen on the evidence of several
   scenarios and the scenario within it; the journey stage, the entry point
   and recent app events the catalog links to a scenario add fixed boosts.
5. Confidence: a logistic function of the winner's score and its margin over
   the runner-up, fitted when the tagger is built on the catalog's customer
   examples, each scored without its own document. The tagger abstains below
   `min_confidence`, when no scenario resembles the text at all
   (`min_similarity`), or when the relevance model says the (Chinese) text is
   not about a service problem (`min_relevance`); the confidence reported is
   the calibrated one times P(about a problem).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from voc.catalog import Catalog, load_catalog
from voc.tagging.base import Tag, TagContext
from voc.tagging.text import (
    Featuriser,
    KeyTable,
    char_ngram_keys,
    grouped_counts,
    normalise,
    normalise_many,
    string_keys,
)
from voc.tagging.transcript import customer_text

LEXICON = Path(__file__).with_name("lexicon.yaml")
METHOD = "semantic"

_STOP = frozenset(
    (
        "的",
        "了",
        "是",
        "我",
        "你",
        "他",
        "她",
        "它",
        "们",
        "我们",
        "你们",
        "他们",
        "也",
        "都",
        "就",
        "还",
        "在",
        "有",
        "和",
        "与",
        "及",
        "很",
        "太",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "这",
        "那",
        "这个",
        "那个",
        "一个",
        "个",
        "一",
        "不",
        "没",
        "被",
        "把",
        "给",
        "让",
        "又",
        "再",
        "才",
        "但",
        "但是",
        "而且",
        "所以",
        "因为",
        "如果",
        "可以",
        "可是",
        "什么",
        "怎么",
        "为什么",
        "一下",
        "一些",
        "已经",
        "自己",
        "这样",
        "那样",
        "还是",
        "或者",
        "真的",
        "非常",
        "比较",
        "特别",
        "东西",
        "感觉",
        "觉得",
        "买",
        "买了",
        "购买",
        "收到",
        "到了",
        "时候",
        "现在",
        "之后",
        "以后",
        "之前",
        "今天",
        "昨天",
        "明天",
        "一直",
        "还有",
        "其实",
        "只是",
        "就是",
        "不是",
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "to",
        "of",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "they",
        "them",
        "his",
        "her",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "not",
        "no",
        "so",
        "very",
        "just",
        "please",
        "can",
        "could",
        "would",
        "should",
        "will",
        "about",
        "what",
        "when",
        "why",
        "how",
        "there",
        "here",
        "as",
        "if",
        "than",
        "then",
    )
)
# Overall sentiment says a customer is unhappy, not about what: a rating word
# must not pull a text towards the review or emotion scenarios.
_SENTIMENT = frozenset(
    (
        "差评",
        "好评",
        "垃圾",
        "失望",
        "郁闷",
        "无语",
        "不满意",
        "满意",
        "生气",
        "气死",
        "太差",
        "很差",
        "非常差",
        "坑人",
        "后悔",
        "不爽",
        "差劲",
    )
)
_STOP = _STOP | _SENTIMENT
_CJK = re.compile(r"[\u4e00-\u9fff]")
_HAS_ASCII = re.compile(r"[a-z0-9]").search
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


@dataclass(frozen=True)
class SemanticConfig:
    char_weight: float = 0.45
    word_weight: float = 0.55
    concept_weight: float = 0.7
    best_doc_share: float = 0.5  # the rest goes to the centroid
    category_share: float = 0.35  # weight of the category's score in a scenario's
    stage_boost: float = 0.04  # the contact is in the scenario's journey stage
    entry_point_boost: float = 0.04  # the contact came through an entry point the scenario names
    app_event_boost: float = 0.08  # a recent app event the scenario names
    example_prior: float = 0.03
    # the scenario mix of real complaints (voc.tagging.prior), as a log-prior
    use_prior: bool = True
    min_confidence: float = 0.3
    # a text must resemble some scenario at all (cosine of its own words; the
    # priors and boosts alone never tag anything)
    min_similarity: float = 0.15
    # None: the gate shipped with the relevance model (the P(in scope) that keeps
    # 95 % of its weakly in-scope held-out texts, voc.tagging.relevance)
    min_relevance: float | None = None
    use_relevance: bool = True
    # what went wrong is said early; a long transcript's tail costs time, not accuracy
    max_chars: int = 400


class Lexicon:
    """Surface form -> paraphrase concepts, one Aho-Corasick automaton."""

    def __init__(self, concepts: dict[str, Sequence[str]]) -> None:
        import ahocorasick

        owners: dict[str, set[str]] = {}
        for concept, forms in concepts.items():
            for form in forms:
                key = normalise(str(form))
                if key:
                    owners.setdefault(key, set()).add(concept)
        self._automaton = ahocorasick.Automaton()
        for form, names in owners.items():
            # (length of an English form that must sit on word boundaries, or 0; concepts)
            self._automaton.add_word(form, (len(form) if form.isascii() else 0, frozenset(names)))
        self._automaton.make_automaton()
        self.concepts = tuple(sorted(concepts))
        # normalised form -> its concepts
        self.forms = {form: frozenset(names) for form, names in owners.items()}
        self._ascii = ahocorasick.Automaton()
        for form, names in owners.items():
            if form.isascii():
                self._ascii.add_word(form, (len(form), frozenset(names)))
        if len(self._ascii):
            self._ascii.make_automaton()

    @classmethod
    def load(cls, path: Path = LEXICON) -> Lexicon:
        import yaml

        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return cls(doc["concepts"])

    def concepts_in(self, norm: str) -> set[str]:
        if not _HAS_ASCII(norm):  # no English form can match: no boundary checks
            return set().union(*(names for _, (_, names) in self._automaton.iter(norm)))
        return self._bounded(norm, self._automaton)

    def ascii_concepts_in(self, norm: str) -> set[str]:
        """The concepts of the English (ASCII) forms alone."""
        return self._bounded(norm, self._ascii) if len(self._ascii) else set()

    @staticmethod
    def _bounded(norm: str, automaton) -> set[str]:
        found: set[str] = set()
        for end, (ascii_len, names) in automaton.iter(norm):
            if ascii_len:
                start = end - ascii_len + 1
                before = norm[start - 1] if start > 0 else " "
                after = norm[end + 1] if end + 1 < len(norm) else " "
                if (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum()):
                    continue
            found |= names
        return found


def words(norm: str) -> list[str]:
    """Content words: jieba's segmentation for Chinese (2+ characters), English
    words, stop words dropped."""
    import rjieba

    out = []
    for w in rjieba.cut(norm):
        if len(w) < 2 or w in _STOP:
            continue
        if w.isascii():
            out.extend(x for x in _ASCII_WORD.findall(w) if x not in _STOP and len(x) > 1)
        elif _CJK.search(w):
            out.append(w)
    return out


class _Vocab:
    """A token -> column dictionary with idf, for the word and concept blocks."""

    def __init__(self, docs: Sequence[Sequence[str]]) -> None:
        df: dict[str, int] = {}
        for d in docs:
            for t in set(d):
                df[t] = df.get(t, 0) + 1
        self.index = {t: i for i, t in enumerate(sorted(df))}
        n = len(docs)
        self.idf = np.array(
            [np.log((1 + n) / (1 + df[t])) + 1 for t in sorted(df)], dtype=np.float32
        )

    def transform(self, docs: Sequence[Sequence[str]]) -> sp.csr_matrix:
        get = self.index.get
        cols = np.fromiter((get(t, -1) for d in docs for t in d), dtype=np.int64)
        rows = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
        known = cols >= 0
        rows, cols = rows[known], cols[known]
        m = sp.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(docs), len(self.index))
        )
        m.sum_duplicates()
        m.data = (1 + np.log(m.data)) * self.idf[m.indices]
        return _l2(m)


# a keyword is looked for by its first characters (the n-grams hashed)
KEYWORD_PREFIX = 4
# Strings up to this many characters are found by their hash among a text's
# n-gram keys; the few longer ones (a dozen words and lexicon forms of 5-6
# characters) by a substring search, so a text is hashed into 2-4-grams only.
MAX_HASHED_CHARS = 4


@dataclass(frozen=True)
class _Found:
    """What `_Strings.find` found in a batch of texts: every hashed n-gram
    (row, key, n, table entry, -1 when not in the table; 1-grams only when asked
    for) and the longer strings found by substring search."""

    rows: np.ndarray
    keys: np.ndarray
    ns: np.ndarray
    entries: np.ndarray
    long_hits: dict[str, tuple[np.ndarray, np.ndarray]]

    def take(self, which: np.ndarray, n: int) -> _Found:
        """What was found in texts `which` of the `n`, renumbered 0..len(which)-1."""
        pos = np.full(n, -1, dtype=np.int64)
        pos[which] = np.arange(which.size)
        keep = pos[self.rows] >= 0
        long_hits = {}
        for name, (rows, cols) in self.long_hits.items():
            k = pos[rows] >= 0
            long_hits[name] = (pos[rows[k]], cols[k])
        return _Found(
            pos[self.rows[keep]], self.keys[keep], self.ns[keep], self.entries[keep], long_hits
        )


@dataclass(frozen=True)
class _Read:
    """A batch of texts read once (`SemanticTagger.read`): each text's
    normalised customer words, whole, and what `_Strings.find` found in them
    cut to `max_chars` (1-grams hashed too, for the relevance model)."""

    norms: list[str]
    found: _Found

    def take(self, which: Sequence[int]) -> _Read:
        which = np.asarray(which, dtype=np.int64)
        return _Read(
            [self.norms[i] for i in which.tolist()], self.found.take(which, len(self.norms))
        )


class _Strings:
    """Strings found in texts by the hash of their characters among the texts'
    n-gram keys (`voc.tagging.text.string_keys`): no segmentation, no automaton,
    one vectorised pass. One table holds the catalog's character 2-3-grams (the
    char block's vocabulary, entries 0..n-1 in its order) and every other string
    looked for; `col[group]` maps an entry to that group's string number (-1:
    not one of the group's). Strings longer than `MAX_HASHED_CHARS` are not
    hashed: `find` looks for them with `in` (there are a few). `keyed` groups
    are given as n-gram keys already (the relevance model's vocabulary): their
    number is the key's position, so one probe serves that model too."""

    def __init__(
        self,
        char_keys: np.ndarray,
        groups: dict[str, Sequence[str]],
        keyed: dict[str, np.ndarray] | None = None,
    ) -> None:
        n_chars = char_keys.size
        entry_of = {int(k): i for i, k in enumerate(char_keys.tolist())}
        extra: list[int] = []
        group_entries = {}
        self.long: dict[str, list[tuple[str, int]]] = {}
        for name, strings in groups.items():
            strings = list(strings)
            short = [j for j, x in enumerate(strings) if len(x) <= MAX_HASHED_CHARS]
            self.long[name] = [(x, j) for j, x in enumerate(strings) if len(x) > MAX_HASHED_CHARS]
            group_entries[name] = (
                self._entries(string_keys([strings[j] for j in short]), entry_of, n_chars, extra),
                np.asarray(short, np.int64),
            )
        for name, keys in (keyed or {}).items():
            self.long[name] = []
            group_entries[name] = (
                self._entries(np.asarray(keys, np.uint64), entry_of, n_chars, extra),
                np.arange(len(keys), dtype=np.int64),
            )
        self.table = KeyTable(np.concatenate([char_keys, np.asarray(extra, dtype=np.uint64)]))
        n_entries = n_chars + len(extra)
        # one more slot, -1: `col[entries]` reads "none" for entry -1 (not found)
        self.char_col = np.full(n_entries + 1, -1, dtype=np.int64)
        self.char_col[:n_chars] = np.arange(n_chars)
        self.col = {}
        for name, (ids, numbers) in group_entries.items():
            col = np.full(n_entries + 1, -1, dtype=np.int64)
            col[ids] = numbers
            self.col[name] = col
        lengths = [len(x) for strings in groups.values() for x in strings]
        self.max_n = max(3, min(max(lengths, default=3), MAX_HASHED_CHARS))

    @staticmethod
    def _entries(keys: np.ndarray, entry_of: dict[int, int], n_chars: int, extra: list[int]):
        """The table entry of each key, new keys appended to `extra`."""
        ids = []
        for k in keys.tolist():
            if k not in entry_of:
                entry_of[k] = n_chars + len(extra)
                extra.append(k)
            ids.append(entry_of[k])
        return np.asarray(ids, dtype=np.int64)

    def find(self, norms: Sequence[str], *, unigrams: bool = False) -> _Found:
        """Every 2..max_n-gram of the texts (1..max_n with `unigrams`, for the
        relevance model, which reads Chinese text only), of every 2-3-gram only
        for an all-ASCII text, which holds none of the (non-ASCII) strings looked
        for beyond the character block; looked up once."""
        n_min = 1 if unigrams else 2
        plain = np.fromiter((t.isascii() for t in norms), dtype=bool, count=len(norms))
        parts = []
        for group, n_lo, n_max in (
            (np.flatnonzero(plain), 2, 3),
            (np.flatnonzero(~plain), n_min, self.max_n),
        ):
            if group.size == len(norms):
                parts = [char_ngram_keys(norms, n_lo, n_max, 10**9, with_n=True)]
                break
            if group.size:
                rows, keys, ns = char_ngram_keys(
                    [norms[i] for i in group], n_lo, n_max, 10**9, with_n=True
                )
                parts.append((group[rows], keys, ns))
        if not parts:
            parts = [char_ngram_keys(norms, n_min, 3, 10**9, with_n=True)]
        rows, keys, ns = (np.concatenate(x) for x in zip(*parts, strict=True))
        entries = self.table.lookup(keys)
        long_hits = {}
        for name, strings in self.long.items():
            hit_rows, hit_cols = [], []
            if strings:
                for i in np.flatnonzero(~plain).tolist():
                    t = norms[i]
                    for x, j in strings:
                        if x in t:
                            hit_rows.append(i)
                            hit_cols.append(j)
            long_hits[name] = (np.asarray(hit_rows, np.int64), np.asarray(hit_cols, np.int64))
        return _Found(rows, keys, ns, entries, long_hits)

    def hits(self, group: str, found: _Found):
        """(rows, string numbers) of the group's strings found."""
        cols = self.col[group][found.entries]
        hit = cols >= 0
        long_rows, long_cols = found.long_hits[group]
        if not long_rows.size:
            return found.rows[hit], cols[hit]
        return (
            np.concatenate([found.rows[hit], long_rows]),
            np.concatenate([cols[hit], long_cols]),
        )


class _WordBlock:
    """The catalog's words found in texts: Chinese words by their hash among a
    text's n-gram keys (`_Strings`; a word inside a longer one counts too),
    English words by a regex. Sublinear tf x idf over the catalog's documents,
    L2-normalised."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self.index = {w: i for i, w in enumerate(vocabulary)}
        self.chinese = [w for w in vocabulary if not w.isascii()]
        self._chinese_col = np.asarray([self.index[w] for w in self.chinese], dtype=np.int64)
        self._ascii = {w: i for w, i in self.index.items() if w.isascii()}
        self.idf = np.ones(len(vocabulary), dtype=np.float32)

    def counts(self, norms: Sequence[str], rows: np.ndarray, found: np.ndarray) -> sp.csr_matrix:
        """`rows`, `found`: the Chinese words found (`_Strings.hits`)."""
        rows, cols = self.pairs(norms, rows, found)
        m = sp.csr_matrix(
            (np.ones(rows.size, np.float32), (rows, cols)), shape=(len(norms), len(self.index))
        )
        m.sum_duplicates()
        return m

    def pairs(self, norms: Sequence[str], rows: np.ndarray, found: np.ndarray):
        """(row, word column) of every word occurrence, repeats included."""
        cols = self._chinese_col[found]
        extra_rows, extra_cols = [], []
        get = self._ascii.get
        for i, t in enumerate(norms):
            if _HAS_ASCII(t):
                for w in _ASCII_WORD.findall(t):
                    j = get(w)
                    if j is not None:
                        extra_rows.append(i)
                        extra_cols.append(j)
        if extra_rows:
            rows = np.concatenate([rows, np.asarray(extra_rows, dtype=np.int64)])
            cols = np.concatenate([cols, np.asarray(extra_cols, dtype=np.int64)])
        return rows, cols

    def fit(self, counts: sp.csr_matrix) -> None:
        df = np.bincount(counts.indices, minlength=len(self.index))
        self.idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)


class _ConceptBlock:
    """Paraphrase concepts per text, each counted once: Chinese forms of two or
    more characters found by `_Strings`, one-character forms by a set of
    characters, English forms by the lexicon's automaton (word boundaries), only
    in texts with Latin letters or digits. The same sets as
    `Lexicon.concepts_in`, each weighted by its idf (`_features_found`)."""

    def __init__(self, lexicon: Lexicon, concepts: _Vocab) -> None:
        self.vocab = concepts
        index = concepts.index
        self.forms = sorted(f for f in lexicon.forms if not f.isascii() and len(f) > 1)
        rows, cols = [], []
        for i, f in enumerate(self.forms):
            for c in lexicon.forms[f]:
                if c in index:
                    rows.append(i)
                    cols.append(index[c])
        self._form_concepts = sp.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(self.forms), len(index))
        )
        self._chars = {
            f: [index[c] for c in names if c in index]
            for f, names in lexicon.forms.items()
            if len(f) == 1 and not f.isascii()
        }
        self._char_set = frozenset(self._chars)
        self._lexicon = lexicon

    def pairs(self, norms: Sequence[str], rows: np.ndarray, found: np.ndarray):
        """(row, concept column) of every concept found, repeats included."""
        fc = self._form_concepts
        per_form = np.diff(fc.indptr)[found]
        starts = np.repeat(fc.indptr[found] - np.cumsum(per_form) + per_form, per_form)
        form_rows = np.repeat(rows, per_form)
        form_cols = fc.indices[starts + np.arange(starts.size)]
        extra_rows, extra_cols = [], []
        index = self.vocab.index
        chars = self._char_set
        for i, t in enumerate(norms):
            single = chars.intersection(t)
            for ch in single:
                extra_rows.append([i] * len(self._chars[ch]))
                extra_cols.append(self._chars[ch])
            if _HAS_ASCII(t):
                names = [index[c] for c in self._lexicon.ascii_concepts_in(t) if c in index]
                extra_rows.append([i] * len(names))
                extra_cols.append(names)
        r = np.fromiter((x for part in extra_rows for x in part), dtype=np.int64)
        c = np.fromiter((x for part in extra_cols for x in part), dtype=np.int64)
        return np.concatenate([form_rows, r]), np.concatenate([form_cols.astype(np.int64), c])


def _l2(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m, dtype=np.float32)


@dataclass(frozen=True)
class _View:
    """A tagger's matrices cut to a subset of scenarios (`cols`, ascending):
    whole categories, since a category never spans two domains."""

    cols: np.ndarray
    centroids_t: sp.csr_matrix
    example_rows: np.ndarray  # catalog document rows of the examples kept
    examples_t: sp.csr_matrix
    ex_scenarios: np.ndarray  # positions in cols of scenarios with examples
    ex_starts: np.ndarray
    prior: np.ndarray
    cat: np.ndarray  # per position: index of its category among the view's
    cat_order: np.ndarray
    cat_starts: np.ndarray
    cat_sizes: np.ndarray

    @classmethod
    def cut(cls, t: SemanticTagger, cols: np.ndarray) -> _View:
        keep = np.isin(t._doc_owner[t._example_rows], cols)
        where = np.full(len(t.ids), -1)
        where[cols] = np.arange(len(cols))
        ex_owner = where[t._doc_owner[t._example_rows[keep]]]
        ex_scenarios, ex_starts = np.unique(ex_owner, return_index=True)
        _, cat = np.unique(t._cat[cols], return_inverse=True)
        cat_order = np.argsort(cat, kind="stable")
        cat_starts = np.searchsorted(cat[cat_order], np.arange(cat.max() + 1 if len(cat) else 0))
        return cls(
            cols=cols,
            centroids_t=t._centroids_t[:, cols].tocsr(),
            example_rows=t._example_rows[keep],
            examples_t=t._examples_t[:, np.flatnonzero(keep)].tocsr(),
            ex_scenarios=ex_scenarios,
            ex_starts=ex_starts,
            prior=t._prior[cols],
            cat=cat,
            cat_order=cat_order,
            cat_starts=cat_starts,
            cat_sizes=np.diff(np.append(cat_starts, len(cols))),
        )


class SemanticTagger:
    def __init__(
        self,
        catalog: Catalog,
        *,
        lexicon: Lexicon | None = None,
        config: SemanticConfig | None = None,
    ) -> None:
        self.catalog = catalog
        self.config = config or SemanticConfig()
        self.lexicon = lexicon or Lexicon.load()
        self.ids = tuple(s.id for s in catalog.scenarios)
        self._col = {sid: i for i, sid in enumerate(self.ids)}
        docs, owner, example_flags = [], [], []
        self._doc_texts: list[str] = []  # as the catalog writes them
        for i, s in enumerate(catalog.scenarios):
            described = (
                s.name_zh,
                s.name_en,
                s.description_zh,
                s.description_en,
                *s.keywords_zh,
                *s.keywords_en,
            )
            for text, is_example in (
                *((t, False) for t in described),
                *((t, True) for t in (*s.examples_zh, *s.examples_en)),
            ):
                if text and text.strip():
                    self._doc_texts.append(text)
                    docs.append(normalise(text))
                    owner.append(i)
                    example_flags.append(is_example)
        self._doc_owner = np.asarray(owner, dtype=np.int64)
        self._chars = Featuriser(char_ngrams=(2, 3), word_ngrams=(0, 0), min_df=1).fit(docs)
        # the catalog's content words (jieba on its own documents); texts, and the
        # documents themselves, are then read by looking these words up, not by
        # segmenting each text again
        self._words = _WordBlock(sorted({w for doc in docs for w in words(doc)}))
        self._concepts = _ConceptBlock(
            self.lexicon, _Vocab([sorted(self.lexicon.concepts_in(doc)) for doc in docs])
        )
        # the rules' keywords, by their first KEYWORD_PREFIX characters: a text
        # none of whose n-grams is one of them holds no keyword, and the rules'
        # automaton need not read it (`keyword_candidates`)
        from voc.tagging.rules import catalog_keywords

        keywords = sorted(catalog_keywords(catalog))
        self._scan_all = any(len(k) < 2 or k != " ".join(k.split()) for k in keywords)
        prefixes = sorted({k[:KEYWORD_PREFIX] for k in keywords})
        # the relevance model's 1-3-grams share the table: one probe of a text's
        # n-grams serves the features, the rules' pre-filter and the gate
        keyed = {}
        if self.config.use_relevance:
            from voc.tagging.relevance import hashed_vocabulary

            vocabulary = hashed_vocabulary()
            if vocabulary is not None:
                keyed["relevance"] = vocabulary
        self._strings = _Strings(
            self._chars._char_keys,
            {"words": self._words.chinese, "forms": self._concepts.forms, "keywords": prefixes},
            keyed,
        )
        found = self._strings.find(docs)
        self._words.fit(self._words.counts(docs, *self._strings.hits("words", found)))
        d = self._features(docs)
        # centroid per scenario: mean of all its documents, renormalised
        n_s = len(self.ids)
        member = sp.csr_matrix(
            (np.ones(len(owner), np.float32), (owner, np.arange(len(owner)))),
            shape=(n_s, len(owner)),
        )
        self._centroids_t = _l2(member @ d).T.tocsr()
        # customer examples are also matched one by one (the best one counts):
        # a text that says what one example says fits, whatever the others say
        is_example = np.asarray(example_flags, dtype=bool)
        self._example_rows = np.flatnonzero(is_example)
        self._examples_t = d[self._example_rows].T.tocsr()
        self._domain = np.asarray([s.domain for s in catalog.scenarios])
        self._stage = np.asarray([f"{s.domain}.{s.stage}" for s in catalog.scenarios])
        self._stage_only = np.asarray([s.stage for s in catalog.scenarios])
        cats = [f"{s.domain}.{s.stage}/{s.category}" for s in catalog.scenarios]
        self._cat_names, self._cat = np.unique(np.asarray(cats), return_inverse=True)
        self._entry: dict[str, np.ndarray] = {}
        self._event: dict[str, np.ndarray] = {}
        for i, s in enumerate(catalog.scenarios):
            for ep in s.entry_point_signals:
                self._entry.setdefault(ep, np.zeros(n_s, bool))[i] = True
            for ev in s.app_event_signals:
                self._event.setdefault(ev, np.zeros(n_s, bool))[i] = True
        self._domain_masks: dict[str, np.ndarray] = {}
        self._views: dict[frozenset[str | None], _View] = {}
        # Scenarios with customer examples are the ones customers are known to
        # write about: a small prior for them over scenarios known only by name.
        self._prior = np.asarray(
            [
                self.config.example_prior if (s.examples_zh or s.examples_en) else 0.0
                for s in catalog.scenarios
            ],
            dtype=np.float32,
        )
        if self.config.use_prior:
            from voc.tagging.prior import log_prior_shift

            self._prior = self._prior + log_prior_shift(self.ids)
        self._calibration = self._calibrate()

    @property
    def min_relevance(self) -> float:
        if self.config.min_relevance is not None:
            return self.config.min_relevance
        from voc.tagging.relevance import gate

        return gate()

    # -- features ---------------------------------------------------------------

    def _features(self, norms: Sequence[str]) -> sp.csr_matrix:
        """Normalised texts -> the weighted, concatenated char, word and concept
        blocks, L2-normalised. One hashing pass gives the character n-grams and
        the catalog words found in each text."""
        return self._features_found(norms)[0]

    def _features_found(self, norms: Sequence[str]):
        """(`_features`, what `_Strings.find` found)."""
        found = self._strings.find(norms)
        return self._features_of(norms, found), found

    def _features_of(self, norms: Sequence[str], found: _Found) -> sp.csr_matrix:
        c = self.config
        strings = self._strings
        rows, ns, entries = found.rows, found.ns, found.entries
        chars = (ns >= 2) & (ns <= 3)
        char_pos = strings.char_col[entries[chars]]
        n = len(norms)
        char_rows = rows[chars]
        known = char_pos >= 0
        chars_f = self._chars
        width = (chars_f._char_keys.size, len(self._words.index), len(self._concepts.vocab.index))
        # each block: (rows, cols, counts) in (row, col) order, then its weights
        blocks = []
        r, col, cnt = grouped_counts(char_rows[known], char_pos[known], width[0])
        unknown = np.bincount(char_rows[~known], minlength=n).astype(np.float32)
        v = (1 + np.log(cnt)) * chars_f._char_idf[col]
        # the char block's norm counts the n-grams the catalog never uses (text.py)
        extra = unknown * np.float32(chars_f._unknown_idf() ** 2)
        blocks.append((r, col, v, extra, c.char_weight))
        r, col, cnt = grouped_counts(
            *self._words.pairs(norms, *strings.hits("words", found)), width[1]
        )
        blocks.append((r, col, (1 + np.log(cnt)) * self._words.idf[col], 0.0, c.word_weight))
        r, col, _ = grouped_counts(
            *self._concepts.pairs(norms, *strings.hits("forms", found)), width[2]
        )
        # a concept counts once per text
        blocks.append((r, col, self._concepts.vocab.idf[col], 0.0, c.concept_weight))
        all_rows, all_cols, all_vals = [], [], []
        offset = 0
        for (r, col, v, extra, weight), w in zip(blocks, width, strict=True):
            norm = np.sqrt(np.bincount(r, weights=v * v, minlength=n) + extra)
            norm[norm == 0] = 1.0
            all_rows.append(r)
            all_cols.append(col + offset)
            all_vals.append((v / norm[r] * weight).astype(np.float32))
            offset += w
        r, col, v = (np.concatenate(x) for x in (all_rows, all_cols, all_vals))
        order = np.argsort(r, kind="stable")  # by row; each block's columns are ordered
        r, col, v = r[order], col[order], v[order]
        norm = np.sqrt(np.bincount(r, weights=v.astype(np.float64) ** 2, minlength=n))
        norm[norm == 0] = 1.0
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
        return sp.csr_matrix(((v / norm[r]).astype(np.float32), col, indptr), shape=(n, offset))

    def read(self, texts: Sequence[str]) -> _Read:
        """Normalise and hash a batch once; `tag_batch(..., read=)` and
        `keyword_candidates` use it."""
        full = normalise_many([customer_text(t) for t in texts])
        cut = self.config.max_chars
        return _Read(full, self._strings.find([t[:cut] for t in full], unigrams=True))

    def keyword_candidates(self, read: _Read) -> np.ndarray:
        """Per text: may it hold one of the rules' keywords? False only when none
        of the keywords' first characters occur in it (all-ASCII texts, texts
        longer than `max_chars`, hashed in part, are always candidates)."""
        n = len(read.norms)
        if self._scan_all:
            return np.ones(n, dtype=bool)
        found = read.found
        hit = self._strings.col["keywords"][found.entries] >= 0
        out = np.zeros(n, dtype=bool)
        out[found.rows[hit]] = True
        cut = self.config.max_chars
        out |= np.fromiter((t.isascii() or len(t) > cut for t in read.norms), bool, count=n)
        return out

    # -- scoring ----------------------------------------------------------------

    def _view(self, domains: frozenset[str | None]) -> _View:
        """The scenarios the contexts' domains let compete (their domain and
        `common`; all of them for a context without a known domain), with the
        matrices cut to them once: a batch from one business scores half the
        catalog, not all of it."""
        view = self._views.get(domains)
        if view is None:
            mask = np.zeros(len(self.ids), bool)
            for d in domains:
                mask |= self._allowed(d)
            view = self._views[domains] = _View.cut(self, np.flatnonzero(mask))
        return view

    def raw_scores(
        self, texts: Sequence[str], *, exclude_docs: np.ndarray | None = None
    ) -> np.ndarray:
        """(len(texts), scenarios): the similarity of each text to each scenario,
        before context and hierarchy. `exclude_docs[i]`: a catalog document row
        text i must not match (held-out scoring of catalog examples)."""
        return self._raw(texts, self._view(frozenset({None})), exclude_docs)

    def _raw(self, texts, view: _View, exclude_docs: np.ndarray | None = None) -> np.ndarray:
        return self._raw_found(texts, view, exclude_docs)[0]

    def _raw_found(self, texts, view: _View, exclude_docs=None, read=None):
        """(`_raw`, the texts' normalised customer words uncut, what
        `_Strings.find` found in them cut to `max_chars`); `read`: the texts
        read already (`read`)."""
        cut = self.config.max_chars
        if read is None:
            full = [normalise(customer_text(t)) for t in texts]
            x, found = self._features_found([t[:cut] for t in full])
        else:
            full, found = read.norms, read.found
            x = self._features_of([t[:cut] for t in full], found)
        cent = (x @ view.centroids_t).toarray()
        best = cent.copy()  # without examples, the best document is the centroid
        if view.example_rows.size:
            sims = (x @ view.examples_t).toarray()
            if exclude_docs is not None:
                pos = np.searchsorted(view.example_rows, exclude_docs)
                pos = np.minimum(pos, view.example_rows.size - 1)
                hit = view.example_rows[pos] == exclude_docs
                sims[np.flatnonzero(hit), pos[hit]] = 0.0
            best[:, view.ex_scenarios] = np.maximum.reduceat(sims, view.ex_starts, axis=1)
        share = self.config.best_doc_share
        return share * best + (1 - share) * cent, full, found

    def _allowed(self, domain: str | None) -> np.ndarray:
        key = domain or ""
        if key not in self._domain_masks:
            if not domain or domain not in set(self._domain):
                self._domain_masks[key] = np.ones(len(self.ids), bool)
            else:
                self._domain_masks[key] = (self._domain == domain) | (self._domain == "common")
        return self._domain_masks[key]

    def scores(self, texts: Sequence[str], contexts: Sequence[TagContext], **kw) -> np.ndarray:
        """(len(texts), scenarios) scores after narrowing: outside the domain
        -inf; category evidence added; context boosts added."""
        s, _, view, _ = self._scores(texts, contexts, **kw)
        full = np.full((len(texts), len(self.ids)), -np.inf, dtype=s.dtype)
        full[:, view.cols] = s
        return full

    def _scores(self, texts, contexts, read=None, **kw):
        """(scores over the view's scenarios, each text's best raw similarity,
        the view, (normalised texts, what was found in them): `_raw_found`).
        No state is kept on self but the views (built once per set of domains):
        one tagger serves every thread of a worker."""
        view = self._view(frozenset(c.domain for c in contexts))
        raw, full, found = self._raw_found(texts, view, read=read, **kw)
        raw_top = raw.max(axis=1) if raw.size else np.zeros(len(texts))
        s = raw + view.prior
        # contexts repeat (a batch holds a few domains and stages): one boost row each
        keys = [
            (c.domain, c.journey_stage, c.entry_point, tuple(c.recent_events)) for c in contexts
        ]
        uniq = {k: j for j, k in enumerate(dict.fromkeys(keys))}
        if len(uniq) == 1:
            s += self._boost(*keys[0])[view.cols].astype(np.float32)
        else:
            boosts = np.stack([self._boost(*k)[view.cols] for k in uniq]).astype(np.float32)
            s += boosts[[uniq[k] for k in keys]]
        # category evidence: the mean of each category's two best scenarios (one
        # lucky hit counts less than a category several of whose scenarios fit),
        # added to its members
        ordered = s[:, view.cat_order]
        best = np.maximum.reduceat(ordered, view.cat_starts, axis=1)
        is_best = ordered >= np.repeat(best, view.cat_sizes, axis=1)
        second = np.maximum.reduceat(np.where(is_best, -np.inf, ordered), view.cat_starts, axis=1)
        second = np.where(np.isfinite(second), second, best)  # one-scenario categories
        cat_score = np.maximum((best + second) / 2, 0.0)
        s += self.config.category_share * cat_score[:, view.cat]
        return s, raw_top, view, (full, found)

    def _boost(self, domain, stage, entry_point, events) -> np.ndarray:
        c = self.config
        boost = np.where(self._allowed(domain), 0.0, -np.inf)
        if stage:
            boost = boost + c.stage_boost * (self._stage_only == stage)
        if entry_point and entry_point in self._entry:
            boost = boost + c.entry_point_boost * self._entry[entry_point]
        for ev in events:
            if ev in self._event:
                boost = boost + c.app_event_boost * self._event[ev]
        return boost

    # -- calibration ------------------------------------------------------------

    def example_documents(self) -> list[tuple[int, int]]:
        """(scenario index, document row) of every customer example, in catalog
        order: score `document(row)` with `exclude_docs` for a held-out figure."""
        return [(int(self._doc_owner[r]), int(r)) for r in self._example_rows]

    def document(self, row: int) -> str:
        return self._doc_texts[row]

    def _calibrate(self) -> tuple[float, float, float]:
        """Logistic fit of P(right scenario) on (top score, margin): every
        customer example of the catalog is scored without its own document and
        within its own domain; right = its scenario wins."""
        pairs = self.example_documents()
        if len(pairs) < 20:
            return (8.0, 8.0, -3.0)  # a catalog without examples: a fixed, cautious curve
        self._calibration = (0.0, 0.0, 0.0)
        owner_ids = [i for i, _ in pairs]
        texts = [self.document(row) for _, row in pairs]
        contexts = [
            TagContext(domain=self.catalog.scenarios[i].domain, channel="") for i in owner_ids
        ]
        scores = self.scores(texts, contexts, exclude_docs=np.asarray([r for _, r in pairs]))
        best, _, top, margin = self.decide(scores)
        right = (best == np.asarray(owner_ids)).astype(np.float64)
        # each example stands for its scenario's texts, and real texts follow the
        # scenario prior: weight the examples by it (mean weight 1)
        weights = None
        if self.config.use_prior:
            from voc.tagging.prior import relative_prior

            weights = relative_prior(self.ids)[np.asarray(owner_ids)]
            weights /= weights.mean()
        return _logistic_fit(np.column_stack([top, margin]), right, weights=weights)

    # -- decisions --------------------------------------------------------------

    def confidence(self, top: np.ndarray, margin: np.ndarray) -> np.ndarray:
        a, b, c0 = self._calibration
        return 1.0 / (1.0 + np.exp(-(a * top + b * margin + c0)))

    def decide(self, scores: np.ndarray):
        """(best column, confidence, top score, margin) per row."""
        rows = np.arange(scores.shape[0])
        first = scores.argmax(axis=1)
        top = scores[rows, first]
        rest = scores.copy()
        rest[rows, first] = -np.inf
        second = rest.max(axis=1)
        order = first[:, None]
        second = np.where(np.isfinite(second), second, 0.0)
        top = np.where(np.isfinite(top), top, 0.0)
        # the score scale includes the category share: back to raw units
        scale = 1.0 + self.config.category_share
        top_u, margin_u = top / scale, (top - second) / scale
        return order[:, 0], self.confidence(top_u, margin_u), top_u, margin_u

    def tag_batch(
        self,
        texts: Sequence[str],
        contexts: Sequence[TagContext],
        read: _Read | None = None,
        rows: Sequence[int] | None = None,
    ) -> list[Tag | None]:
        """`read`: the texts read already (`read`), e.g. by a caller that used
        it for `keyword_candidates` first; `rows`: the positions of `texts` in
        it (all of it by default)."""
        if not texts:
            return []
        if read is None:
            read = self.read(texts)
        rows = np.arange(len(texts)) if rows is None else np.asarray(rows, dtype=np.int64)
        # The relevance gate first: a text under it is abstained whatever it
        # resembles, so only the texts that pass are scored (most reviews and
        # posts are not about a service problem; scoring is the costly part).
        relevance = self._relevance_found(read.norms, read.found, rows)
        passed = np.flatnonzero(relevance >= self.min_relevance)
        tags: list[Tag | None] = [None] * len(texts)
        if not passed.size:
            return tags
        if passed.size < len(read.norms) or not np.array_equal(rows, np.arange(rows.size)):
            read = read.take(rows[passed])
        scores, similarity, view, _ = self._scores(
            [texts[i] for i in passed.tolist()],
            [contexts[i] for i in passed.tolist()],
            read=read,
        )
        best, conf, top, _ = self.decide(scores)
        best = view.cols[best]
        c = self.config
        for i, b, cf, tp, sim in zip(
            passed.tolist(),
            best.tolist(),
            conf.tolist(),
            top.tolist(),
            similarity.tolist(),
            strict=True,
        ):
            if sim < c.min_similarity or cf < c.min_confidence:
                continue
            rel = float(relevance[i])
            why = f"text similarity {tp:.2f}"
            if rel < 1.0:
                why += f", problem p={rel:.2f}"
            tags[i] = Tag(self.ids[b], float(cf * rel), METHOD, why)
        return tags

    def _relevance_found(self, norms: list[str], found: _Found, which: np.ndarray) -> np.ndarray:
        """`_relevance` of the texts `which` from their normalised customer words
        and the keys hashed for the semantic features: the 1-3-gram keys are the
        relevance model's own, for a text the semantic features did not cut
        (`max_chars`); a longer one is hashed again, whole."""
        out = np.ones(len(which))
        if not self.config.use_relevance or not which.size:
            return out
        sub = [norms[i] for i in which.tolist()]
        zh = np.flatnonzero([bool(t) and _CJK.search(t) is not None for t in sub])
        if not zh.size:
            return out
        from voc.tagging.relevance import in_scope_probability_hashed

        texts = which[zh]
        whole = np.asarray([len(norms[i]) <= self.config.max_chars for i in texts.tolist()])
        pos = np.full(len(norms), -1, dtype=np.int64)
        pos[texts[whole]] = np.arange(int(whole.sum()))
        keep = (found.ns <= 3) & (pos[found.rows] >= 0)
        cols = lookup = None
        if "relevance" in self._strings.col:
            col = self._strings.col["relevance"]
            cols = col[found.entries[keep]]

            def lookup(keys):
                return col[self._strings.table.lookup(keys)]

        p = in_scope_probability_hashed(
            [norms[i] for i in texts.tolist()],
            whole,
            pos[found.rows[keep]],
            found.keys[keep] if cols is None else None,
            cols,
            lookup,
        )
        if p is not None:
            out[zh] = p
        return out

    def _relevance(self, texts: Sequence[str]) -> np.ndarray:
        """P(about a service problem) per text from the shipped Chinese relevance
        model; 1.0 (no gate) for texts without Chinese, which it was not trained on."""
        out = np.ones(len(texts))
        if not self.config.use_relevance or not texts:
            return out
        zh = [i for i, t in enumerate(texts) if t and _CJK.search(t)]
        if zh:
            from voc.tagging.relevance import in_scope_probability

            p = in_scope_probability([customer_text(texts[i]) for i in zh])
            if p is not None:
                out[zh] = p
        return out


def _logistic_fit(
    x: np.ndarray, y: np.ndarray, l2: float = 1e-2, weights: np.ndarray | None = None
) -> tuple[float, ...]:
    """Weights (w_1, ..., w_k, bias) of a ridge-regularised logistic regression,
    by Newton steps (a few hundred rows, two features); `weights`: per row."""
    xb = np.column_stack([x, np.ones(len(x))])
    r = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = np.zeros(xb.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-xb @ w))
        grad = xb.T @ (r * (p - y)) + l2 * w
        hess = (xb * (r * p * (1 - p))[:, None]).T @ xb + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return tuple(float(v) for v in w)


@lru_cache(maxsize=4)
def semantic_tagger(catalog_path: str | None = None) -> SemanticTagger:
    """One tagger per catalog per process (the pipeline's DoFns and the CLI ask
    for it repeatedly)."""
    return SemanticTagger(load_catalog(catalog_path) if catalog_path else load_catalog())
