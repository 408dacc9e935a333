"""BM25F over precomputed posting lists: the plain scorer's results, without its cold-term cost.

`CachedBM25F` gives the same documents, scores (to the last bit), order and matched terms as
`scoring.BM25F.top`. At 510,000 passages the profile showed the plain scorer fast once a term's
postings are cached (p50 8 ms, p99 20 ms for the search) and slow when they are not: Whoosh's
matcher read a common term's 50,000+ postings one Python call at a time (p99 340 ms, and
7 s for the first question of a version, computing every document's length the same way). So:

- **Postings decoded by block.** Whoosh's block reader unpickles each block of up to 128
  postings; the ids (stored as gaps) are summed with NumPy instead of a Python generator.
- **The query-independent part precomputed.** Each cached (field, term) list holds its document
  numbers (int32) and the numerator and denominator of BM25's term-frequency part (float32, the
  plain scorer's own arithmetic), so a query multiplies by boost × IDF only.
- **A larger cache.** 12 bytes a posting; 160 MB per worker holds the common terms of a
  510,000-passage index.
- **Lengths read a column at a time** from Whoosh's per-segment length bytes.

Tried and not kept: MaxScore-style pruning (read the rare terms' lists, then look the common
ones up only for candidates that can still reach the k-th score). Exact, but in NumPy the
bookkeeping (finding the documents seen so far) cost more than scoring whole cached lists:
search p50 18 ms against 8 ms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, W3PerDocReader
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

from qa_service.search.cache import BoundedCache
from qa_service.search.scoring import BM25F, Scored, best_order

# Precomputed posting lists per worker and index version: 12 bytes a posting, so 160 MB holds
# about 13 million postings: the common terms of a 500,000-passage index and then some.
LIST_CACHE_BYTES = 160 * 1024 * 1024
# Entry caps keep made-up words (which cost an entry each) from filling memory: 3,000 questions of
# 64 made-up words grew each worker by about 60 MB with 50,000 lists and 100,000 IDFs kept.
LIST_CACHE_ENTRIES = 20_000
IDF_CACHE_ENTRIES = 30_000    # (field, term) → IDF; Whoosh's doc_frequency walks every segment


@dataclass(frozen=True, slots=True)
class PostingList:
    """One (field, term)'s postings: document numbers and BM25's term-frequency part, precomputed."""

    ids: np.ndarray    # int32, sorted
    num: np.ndarray    # float32: tf × (k1 + 1)
    den: np.ndarray    # float32: tf + k1 × (1 − b + b × length / average length)

    @property
    def nbytes(self) -> int:
        """Return the bytes the arrays hold."""
        return self.ids.nbytes + self.num.nbytes + self.den.nbytes


# Whoosh stores a field's length in one byte per document; this maps the byte back (0 → 0).
_BYTE_LENGTHS = np.array([byte_to_length(n) if n else 0 for n in range(256)], dtype=np.float32)
EMPTY = PostingList(np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(0, np.float32))


def _list_bytes(key: tuple[str, str], value: PostingList) -> int:
    return 64 + 49 + len(key[1]) * 4 + (0 if value is EMPTY else value.nbytes + 3 * 112 + 80)


def decode(matcher) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Return every (id, weight) of a Whoosh leaf matcher, a block at a time where it can."""
    if isinstance(matcher, FilterMatcher):  # deletions: the caller masks deleted documents itself
        matcher = matcher.child
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        while matcher.is_active():
            # Whoosh's own block reading (one unpickling a block); the ids are stored as gaps,
            # summed here with NumPy rather than by Whoosh's Python generator.
            matcher._read_data()
            gaps, stored = matcher._data[0], matcher._data[1]
            ids.append(np.cumsum(np.asarray(gaps, dtype=np.int64)))
            if stored is None or isinstance(stored, float):
                weights.append(np.full(len(gaps), 1.0 if stored is None else stored, dtype=np.float32))
            else:
                weights.append(np.asarray(stored, dtype=np.float32))
            matcher._next_block()
    else:  # postings inlined in the term info (rare terms): a short list
        one_ids, one_weights = [], []
        while matcher.is_active():
            one_ids.append(matcher.id())
            one_weights.append(matcher.weight())
            matcher.next()
        ids.append(np.asarray(one_ids, dtype=np.int64))
        weights.append(np.asarray(one_weights, dtype=np.float32))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(ids), np.concatenate(weights)


@dataclass
class _Entry:
    term: str
    field: str
    plist: PostingList
    weight: float       # boost × IDF


class CachedBM25F(BM25F):
    """BM25F.top with the same answers, over precomputed posting lists in a larger bounded cache."""

    def __init__(self, searcher, fields: Iterable[str],  # type: ignore[no-untyped-def]
                 k1: float = 1.2, b: float = 0.75) -> None:
        super().__init__(searcher, fields, k1=k1, b=b)
        self.lists: BoundedCache[tuple[str, str], PostingList] = BoundedCache(
            LIST_CACHE_ENTRIES, LIST_CACHE_BYTES, _list_bytes)
        self.idfs: BoundedCache[tuple[str, str], float] = BoundedCache(
            IDF_CACHE_ENTRIES, IDF_CACHE_ENTRIES * 300, lambda key, value: 200 + 4 * len(key[1]))

    def idf(self, field: str, term: str) -> float:
        """Return Whoosh's inverse document frequency for a term in a field (remembered per version)."""
        key = (field, term)
        value = self.idfs.get(key)
        if value is None:
            value = super().idf(field, term)
            self.idfs.put(key, value)
        return value

    def lengths(self, field: str) -> np.ndarray:
        """Return every document's length in a field, read a column at a time (same values as BM25F's)."""
        values = self._lengths.get(field)
        if values is None:
            values = self._column_lengths(field)
            if values is None:
                values = super().lengths(field)
            self._lengths[field] = values
        return values

    def _column_lengths(self, field: str) -> np.ndarray | None:
        """Return a field's lengths from each segment's length column (bytes, as Whoosh stores them)."""
        out = np.zeros(self.size, dtype=np.float32)
        for reader, offset in self._leaves:
            perdoc = getattr(reader, "_perdoc", None)
            if not isinstance(perdoc, W3PerDocReader):
                return None
            column = perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
            if column is None:
                continue
            count = min(column._count, reader.doc_count_all())
            raw = np.frombuffer(column._dbfile.get(column._basepos, count), dtype=np.uint8)
            out[offset:offset + count] = _BYTE_LENGTHS[raw]
        return out

    def posting_list(self, field: str, term: str) -> PostingList:
        """Return a (field, term)'s precomputed postings (cached per index version)."""
        key = (field, term)
        hit = self.lists.get(key)
        if hit is not None:
            return hit
        parts_ids, parts_tf = [], []
        for reader, offset in self._leaves:
            if (field, term) in reader:
                ids, tf = decode(reader.postings(field, term))
                parts_ids.append(ids + offset)
                parts_tf.append(tf)
        plist = EMPTY
        if parts_ids:
            ids = np.concatenate(parts_ids)
            tf = np.concatenate(parts_tf)
            if self.live is not None and ids.size:
                keep = self.live[ids]
                ids, tf = ids[keep], tf[keep]
            if ids.size:
                # Exactly the plain scorer's float32 arithmetic, done once instead of per query.
                norm = self.k1 * ((1 - self.b) + self.b * self.lengths(field)[ids] / self._average[field])
                num, den = tf * (self.k1 + 1), tf + norm
                plist = PostingList(ids.astype(np.int32), num, den)
        self.lists.put(key, plist)
        return plist

    def _entries(self, boosts: dict[str, float]) -> list[_Entry]:
        entries: list[_Entry] = []
        for term, boost in boosts.items():
            for field in self.fields:
                plist = self.posting_list(field, term)
                if plist.ids.size:
                    entries.append(_Entry(term, field, plist, boost * self.idf(field, term)))
        return entries

    def top(self, boosts: dict[str, float], limit: int, allowed: np.ndarray | None = None) -> list[Scored]:
        """Return the best documents for weighted terms, best first; ties go to the earlier document."""
        entries = self._entries(boosts)
        if not entries or limit <= 0:
            return []
        scores = np.zeros(self.size, dtype=np.float64)
        for e in entries:  # the plain scorer's order and arithmetic, so every sum is the same
            p = e.plist
            scores[p.ids] += e.weight * p.num / p.den
        order = best_order(scores, limit, allowed)
        if not order.size:
            return []
        out = []
        hits = []
        for e in entries:
            pos = np.minimum(np.searchsorted(e.plist.ids, order), e.plist.ids.size - 1)
            hits.append(e.plist.ids[pos] == order)
        for j, doc in enumerate(order):
            matched = frozenset(e.term for e, hit in zip(entries, hits) if hit[j])
            in_main = frozenset(e.term for e, hit in zip(entries, hits) if hit[j] and e.field == self.fields[0])
            out.append(Scored(int(doc), float(scores[doc]), matched, in_main))
        return out
