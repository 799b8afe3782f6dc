"""Text normalisation and fast sparse featurisation for the learned tagger (pure, no Beam).

Chinese and English are handled alike: NFKC (full-width -> half-width), lower case,
then two bags of features, each TF-IDF weighted (sublinear tf) and L2-normalised:

- character n-grams over the whole text padded with one space at each end, so that
  n-grams touching a space mark word starts and ends in English and need no word
  segmentation in Chinese;
- word n-grams over runs of letters and digits (Latin, Cyrillic, ...; CJK characters
  are not words here: the character n-grams already cover them).

Why not scikit-learn's TfidfVectorizer: its character analyzer builds every n-gram
as a Python string, which caps tagging near 10,000 short texts/s on one core. Here
the character n-grams of a whole batch are hashed at once with numpy (a 64-bit
multiply-xor hash over code points, so collisions among a few million distinct
n-grams are vanishingly rare) and looked up in a sorted vocabulary with
`searchsorted`. Only word n-grams go through a Python dict, a few per text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import numpy as np
import scipy.sparse as sp

from voc.tagging.base import normalise as fold  # memoised, shared with the rules
from voc.tagging.base import normalise_many as fold_many

# Letters and digits outside the CJK blocks: CJK ideographs, kana and hangul are
# left to the character n-grams.
_WORD_RE = re.compile(
    r"[^\W_\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff]+"
)

_MIX_A = np.uint64(0x9E3779B97F4A7C15)
_MIX_B = np.uint64(0xBF58476D1CE4E5B9)
_MIX_C = np.uint64(0x94D049BB133111EB)


def normalise(text: object) -> str:
    """NFKC (full-width -> half-width), lower case, whitespace runs -> one space.

    Anything that is not a string (None, NaN from a CSV reader) becomes "".
    """
    if not isinstance(text, str):
        return ""
    return " ".join(fold(text).split())  # str.split's whitespace is the regex's \s


def normalise_many(texts: Sequence[str]) -> list[str]:
    """`normalise` of each of a batch of strings (not memoised, one vectorised
    width fold: `voc.tagging.base.normalise_many`)."""
    return [" ".join(t.split()) for t in fold_many(texts)]


def char_ngram_keys(
    texts: Sequence[str], n_min: int, n_max: int, max_chars: int, *, with_n: bool = False
):
    """(row, key) for every character n-gram of every text: row is the index of the
    text, key a 64-bit hash of the n-gram (n is part of the hash). Texts are
    normalised already; each is cut to `max_chars` and padded with a space each side.
    `with_n`: also each key's n (one hashing pass serves several n-gram blocks).
    """
    padded = [f" {t[:max_chars]} " for t in texts]
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
    # surrogatepass: a lone surrogate (from a badly decoded source) is just a code point
    codes = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    codes = codes.astype(np.uint64)
    total = codes.size
    starts = np.zeros(len(padded), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    row_of = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)
    # characters left in the text from each position (inclusive)
    left = np.repeat(starts + lengths, lengths) - np.arange(total, dtype=np.int64)
    rows: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    h = np.zeros(total, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for n in range(1, n_max + 1):
            # h[i] covers codes[i : i + n]; positions past the end are dropped below
            shifted = np.zeros(total, dtype=np.uint64)
            shifted[: max(total - n + 1, 0)] = codes[n - 1 :]
            h = (h ^ shifted) * _MIX_A + np.uint64(n)
            if n < n_min:
                continue
            ok = left >= n
            k = h[ok]
            k ^= k >> np.uint64(31)
            k *= _MIX_B
            k ^= k >> np.uint64(29)
            k *= _MIX_C
            k ^= k >> np.uint64(32)
            rows.append(row_of[ok])
            keys.append(k)
    if not rows:
        empty = np.zeros(0, np.int64), np.zeros(0, np.uint64)
        return (*empty, np.zeros(0, np.int8)) if with_n else empty
    if with_n:
        ns = np.repeat(np.arange(n_min, n_max + 1, dtype=np.int8), [r.size for r in rows])
        return np.concatenate(rows), np.concatenate(keys), ns
    return np.concatenate(rows), np.concatenate(keys)


def string_keys(strings: Sequence[str]) -> np.ndarray:
    """The key `char_ngram_keys` gives each whole string (normalised, no space)
    where it occurs inside a text: looking strings up among a text's n-gram keys
    finds them in the text without segmenting it."""
    out = np.zeros(len(strings), dtype=np.uint64)
    for i, s in enumerate(strings):
        n = len(s)
        _, keys = char_ngram_keys([s], n, n, n)
        out[i] = keys[1]  # position 0 starts at the padding space
    return out


def grouped_counts(rows: np.ndarray, cols: np.ndarray, width: int):
    """(row, col, count) of each distinct (row, col) pair, in (row, col) order:
    the nonzeros of a count matrix, without building one."""
    if not rows.size:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.float32)
    # 32-bit pair keys sort faster; same pairs, same order
    dtype = np.uint32 if (int(rows.max()) + 1) * width < 2**32 else np.int64
    key, count = np.unique(
        rows.astype(dtype) * dtype(width) + cols.astype(dtype), return_counts=True
    )
    return (key // width).astype(np.int64), (key % width).astype(np.int64), count.astype(np.float32)


def _texts_with_words(texts: Sequence[str]):
    """(i, text) of the texts that hold a word (`_WORD_RE`), found by searching
    the batch joined by newlines (never part of a word) once per such text: most
    Chinese texts hold none, and a regex call per text costs more than the rest
    of them."""
    joined = "\n".join(texts)
    ends = list(accumulate(len(t) + 1 for t in texts))  # text i ends before ends[i]
    search = _WORD_RE.search
    pos = 0
    while (m := search(joined, pos)) is not None:
        i = bisect_right(ends, m.start())
        yield i, texts[i]
        pos = ends[i]


def word_ngrams(text: str, n_min: int, n_max: int) -> list[str]:
    words = _WORD_RE.findall(text)
    grams: list[str] = []
    for n in range(n_min, n_max + 1):
        if n == 1:
            grams.extend(words)
        else:
            grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


def _tfidf_rows(
    rows: np.ndarray,
    cols: np.ndarray,
    n_rows: int,
    idf: np.ndarray,
    unknown: np.ndarray,
    unknown_idf: float,
) -> sp.csr_matrix:
    """Counts -> sublinear tf x idf, each row L2-normalised (empty rows stay zero).

    The norm also counts the row's `unknown` n-grams (not in the vocabulary), each
    weighted `unknown_idf`: a text whose n-grams are mostly unknown keeps small
    weights on the few it shares with the training data, instead of having them
    blown up to unit length. That is what lets gibberish and out-of-scope texts
    score low everywhere and be abstained on.
    """
    counts = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n_rows, idf.size)
    )
    counts.sum_duplicates()
    data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    row_of = np.repeat(np.arange(n_rows), np.diff(counts.indptr))
    sq = np.bincount(row_of, weights=data * data, minlength=n_rows)
    norms = np.sqrt(sq + unknown * unknown_idf**2)
    counts.data = (data / norms[row_of]).astype(np.float32)
    return counts


class KeyTable:
    """A read-only open-addressing hash table from 64-bit keys to column numbers,
    probed for a whole batch at once (a sorted array and `searchsorted` costs about
    log2(vocabulary) dependent memory reads per key; this costs about one)."""

    def __init__(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.uint64) | np.uint64(1)  # 0 marks an empty slot
        size = 1 << max(4, int(2 * max(keys.size, 1) - 1).bit_length() + 1)
        self.mask = np.uint64(size - 1)
        self.slots = np.zeros(size, dtype=np.uint64)
        self.values = np.full(size, -1, dtype=np.int64)
        todo = np.arange(keys.size)
        slot = (keys >> np.uint64(7)) & self.mask
        while todo.size:
            free = self.slots[slot[todo]] == 0
            cand = todo[free]
            # one key per free slot this round; the rest probe on
            _, first = np.unique(slot[cand], return_index=True)
            placed = cand[first]
            self.slots[slot[placed]] = keys[placed]
            self.values[slot[placed]] = placed
            left = np.ones(todo.size, dtype=bool)
            left[np.flatnonzero(free)[first]] = False
            todo = todo[left]
            slot[todo] = (slot[todo] + np.uint64(1)) & self.mask

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Column number of each key, -1 where the key is not in the table."""
        keys = keys | np.uint64(1)
        slot = (keys >> np.uint64(7)) & self.mask
        found = self.slots[slot]
        hit = found == keys
        out = np.where(hit, self.values[slot], -1)
        # collisions on the first probe are rare at a load factor of 1/4 or less
        todo = np.flatnonzero(~hit & (found != 0))
        while todo.size:
            s = (slot[todo] + np.uint64(1)) & self.mask
            slot[todo] = s
            found = self.slots[s]
            hit = found == keys[todo]
            out[todo[hit]] = self.values[s[hit]]
            todo = todo[~hit & (found != 0)]
        return out


def _idf(doc_freq: np.ndarray, n_docs: int) -> np.ndarray:
    # scikit-learn's smooth idf, so figures compare with TfidfVectorizer
    return (np.log((1.0 + n_docs) / (1.0 + doc_freq)) + 1.0).astype(np.float32)


@dataclass
class Featuriser:
    """Character and word n-gram TF-IDF, fitted on training texts.

    `char_ngrams` and `word_ngrams` are inclusive (min, max) ranges; (0, 0) turns a
    block off. `word_weight` scales the word block against the character block
    (each block is L2-normalised on its own first).
    """

    char_ngrams: tuple[int, int] = (1, 4)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2
    word_weight: float = 1.0
    max_chars: int = 2000
    _char_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64), repr=False)
    _char_idf: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)
    _word_index: dict[str, int] = field(default_factory=dict, repr=False)
    _word_idf: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)
    _n_docs: int = field(default=0, repr=False)
    _table: KeyTable | None = field(default=None, repr=False)

    def _unknown_idf(self) -> float:
        # the idf an n-gram seen in no training text would get
        return float(_idf(np.zeros(1), self._n_docs)[0])

    def _char_table(self) -> KeyTable:
        if self._table is None:
            self._table = KeyTable(self._char_keys)
        return self._table

    @property
    def n_features(self) -> int:
        return self._char_keys.size + len(self._word_index)

    def fit(self, texts: Sequence[str]) -> Featuriser:
        """Learn the vocabularies and idf from normalised texts."""
        n_docs = len(texts)
        self._n_docs = n_docs
        if self.char_ngrams[1] > 0:
            rows, keys = char_ngram_keys(texts, *self.char_ngrams, self.max_chars)
            # document frequency: one count per (text, key)
            uniq, inverse = np.unique(keys, return_inverse=True)
            seen = sp.csr_matrix(
                (np.ones(rows.size, dtype=np.float32), (rows, inverse)),
                shape=(n_docs, uniq.size),
            )
            seen.sum_duplicates()
            df = np.bincount(seen.indices, minlength=uniq.size)
            keep = df >= self.min_df
            self._char_keys = uniq[keep]
            self._char_idf = _idf(df[keep], n_docs)
            self._table = None
        if self.word_ngrams[1] > 0:
            df_words: dict[str, int] = {}
            for t in texts:
                for g in set(word_ngrams(t, *self.word_ngrams)):
                    df_words[g] = df_words.get(g, 0) + 1
            kept = sorted(g for g, d in df_words.items() if d >= self.min_df)
            self._word_index = {g: i for i, g in enumerate(kept)}
            self._word_idf = _idf(np.array([df_words[g] for g in kept], dtype=np.float64), n_docs)
        return self

    def char_block(
        self, rows: np.ndarray, keys: np.ndarray, n: int, pos: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """The character block from n-gram keys already hashed (`char_ngram_keys`
        over this featuriser's n range) for `n` texts; `pos`: their columns, when
        looked up already (-1 = not in the vocabulary)."""
        if pos is None:
            pos = self._char_table().lookup(keys)
        hit = pos >= 0
        unknown = np.bincount(rows[~hit], minlength=n)
        rows, cols = rows[hit], pos[hit]
        return _tfidf_rows(rows, cols, n, self._char_idf, unknown, self._unknown_idf())

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Normalised texts -> (len(texts), n_features) float32 CSR."""
        blocks = []
        if self.char_ngrams[1] > 0:
            rows, keys = char_ngram_keys(texts, *self.char_ngrams, self.max_chars)
            blocks.append(self.char_block(rows, keys, len(texts)))
        if self.word_ngrams[1] > 0:
            blocks.append(self.word_block(texts))
        if len(blocks) == 1:
            return blocks[0]
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def word_block(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The word block of normalised texts (word_weight applied)."""
        n = len(texts)
        index = self._word_index
        w_rows: list[int] = []
        w_cols: list[int] = []
        unknown = np.zeros(n, dtype=np.float64)
        for i, t in _texts_with_words(texts):
            grams = word_ngrams(t, *self.word_ngrams)
            before = len(w_cols)
            for g in grams:
                j = index.get(g)
                if j is not None:
                    w_rows.append(i)
                    w_cols.append(j)
            unknown[i] = len(grams) - (len(w_cols) - before)
        block = _tfidf_rows(
            np.array(w_rows, dtype=np.int64),
            np.array(w_cols, dtype=np.int64),
            n,
            self._word_idf,
            unknown,
            self._unknown_idf(),
        )
        if self.word_weight != 1.0:
            block = block * np.float32(self.word_weight)
        return block

    def state(self) -> dict[str, Any]:
        """Everything needed to rebuild this featuriser (plain types and arrays)."""
        return {
            "char_ngrams": self.char_ngrams,
            "word_ngrams": self.word_ngrams,
            "min_df": self.min_df,
            "word_weight": self.word_weight,
            "max_chars": self.max_chars,
            "n_docs": self._n_docs,
            "char_keys": self._char_keys,
            "char_idf": self._char_idf,
            "words": list(self._word_index),
            "word_idf": self._word_idf,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Featuriser:
        f = cls(
            char_ngrams=tuple(state["char_ngrams"]),
            word_ngrams=tuple(state["word_ngrams"]),
            min_df=state["min_df"],
            word_weight=state["word_weight"],
            max_chars=state["max_chars"],
        )
        f._n_docs = int(state["n_docs"])
        f._char_keys = np.asarray(state["char_keys"], dtype=np.uint64)
        f._char_idf = np.asarray(state["char_idf"], dtype=np.float32)
        f._word_index = {g: i for i, g in enumerate(state["words"])}
        f._word_idf = np.asarray(state["word_idf"], dtype=np.float32)
        return f
