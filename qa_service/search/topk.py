"""Exact top-k BM25F that does not score every posting of common terms (MaxScore-style).

`BoundedBM25F` gives the same documents, scores (to the last bit), order and matched terms as
`scoring.BM25F.top`, faster on large indexes:

- **Postings decoded by block.** Whoosh's posting blocks are decoded whole (its own block
  reader, one NumPy conversion per block of up to 128 postings) instead of one Python call per
  posting, which was most of the cost of a term not yet cached.
- **The query-independent part precomputed.** Each cached (field, term) list holds its document
  numbers (int32) and the numerator and denominator of BM25's term-frequency part (float32), so a
  query multiplies by boost × IDF only: no lengths gathered, no normalisation recomputed.
- **Bounded search.** Lists are taken in order of the most a posting can add (boost × IDF ×
  the list's largest term-frequency part). Once the k-th best score so far beats everything the
  remaining lists could still add, no document they alone hold can enter the top k: the remaining
  (common) lists are only looked up for the candidates already found (binary search), and
  candidates that can no longer reach the k-th score are dropped as the bound shrinks. The
  survivors are then scored again in the original term order, so every score is summed exactly
  as the plain scorer sums it, and ties go to the earlier document as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, W3PerDocReader
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

from qa_service.search.cache import BoundedCache
from qa_service.search.scoring import BM25F, Scored

# Precomputed posting lists per worker and index version: 12 bytes a posting, so 160 MB holds
# about 13 million postings, the common terms of a 500,000-passage index and then some.
LIST_CACHE_BYTES = 160 * 1024 * 1024
LIST_CACHE_ENTRIES = 50_000
DENSE_BELOW = 40_000   # total postings under which plain vector scoring of everything is cheaper
SAFETY = 1e-6          # relative slack on every bound (float32 rounding is ~6e-8 an operation)


@dataclass(frozen=True)
class PostingList:
    """One (field, term)'s postings: document numbers and BM25's term-frequency part, precomputed."""

    ids: np.ndarray    # int32, sorted
    num: np.ndarray    # float32: tf × (k1 + 1)
    den: np.ndarray    # float32: tf + k1 × (1 − b + b × length / average length)
    peak: float        # the largest num / den in the list

    @property
    def nbytes(self) -> int:
        """Return the bytes the arrays hold."""
        return self.ids.nbytes + self.num.nbytes + self.den.nbytes


# Whoosh stores a field's length in one byte per document; this maps the byte back (0 → 0).
_BYTE_LENGTHS = np.array([byte_to_length(n) if n else 0 for n in range(256)], dtype=np.float32)
EMPTY = PostingList(np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(0, np.float32), 0.0)


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
    order: int          # position in the plain scorer's order (terms as given, then fields)
    term: str
    field: str
    plist: PostingList
    weight: float       # boost × IDF
    bound: float        # the most one posting of this list can add


class BoundedBM25F(BM25F):
    """BM25F.top with the same answers, that skips most postings of common terms."""

    def __init__(self, searcher, fields: Iterable[str], k1: float = 1.2, b: float = 0.75) -> None:  # type: ignore[no-untyped-def]
        super().__init__(searcher, fields, k1=k1, b=b)
        self.lists: BoundedCache[tuple[str, str], PostingList] = BoundedCache(
            LIST_CACHE_ENTRIES, LIST_CACHE_BYTES, _list_bytes)

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
                plist = PostingList(ids.astype(np.int32), num, den, float(np.max(num / den)))
        self.lists.put(key, plist)
        return plist

    def _entries(self, boosts: dict[str, float]) -> list[_Entry]:
        entries: list[_Entry] = []
        for term, boost in boosts.items():
            for field in self.fields:
                plist = self.posting_list(field, term)
                if plist.ids.size:
                    weight = boost * self.idf(field, term)
                    entries.append(_Entry(len(entries), term, field, plist, weight,
                                          weight * plist.peak * (1 + SAFETY) + 1e-12))
        return entries

    def top(self, boosts: dict[str, float], limit: int, allowed: np.ndarray | None = None) -> list[Scored]:
        """Return the best documents for weighted terms, best first; ties go to the earlier document."""
        entries = self._entries(boosts)
        if not entries or limit <= 0:
            return []
        if sum(e.plist.ids.size for e in entries) < DENSE_BELOW:
            candidates = self._dense(entries, allowed)
        else:
            candidates = self._bounded(entries, limit, allowed)
        return self._finish(entries, candidates, limit)

    def _dense(self, entries: list[_Entry], allowed: np.ndarray | None) -> np.ndarray:
        touched = np.unique(np.concatenate([e.plist.ids for e in entries]))
        return touched if allowed is None else touched[allowed[touched]]

    def _bounded(self, entries: list[_Entry], limit: int, allowed: np.ndarray | None) -> np.ndarray:
        """Return a set of documents that holds every one of the top `limit` (and their ties)."""
        ranked = sorted(entries, key=lambda e: -e.bound)
        left = sum(e.bound for e in ranked)   # the most the lists not yet read can add
        scores = np.zeros(self.size, dtype=np.float64)
        read: list[np.ndarray] = []
        i = 0
        # Phase 1: read whole lists, best bound first, until no unseen document can make the top k.
        while i < len(ranked):
            e = ranked[i]
            p = e.plist
            scores[p.ids] += e.weight * p.num / p.den
            read.append(p.ids)
            left -= e.bound
            i += 1
            # The k-th score so far is at most what the lists read can add: check only when that
            # could beat what the rest can add, and while the documents seen are few.
            if i < len(ranked) and (sum(r.bound for r in ranked[:i]) > left
                                    and sum(r.size for r in read) <= self.size // 8):
                pool = np.unique(np.concatenate(read))
                if allowed is not None:
                    pool = pool[allowed[pool]]
                if pool.size >= limit:
                    kth = np.partition(scores[pool], pool.size - limit)[pool.size - limit]
                    if kth > left * (1 + SAFETY) + 1e-12:
                        break
        if i == len(ranked):  # every list read in full: the plain scorer's candidates
            candidates = np.flatnonzero(scores if allowed is None else np.where(allowed, scores, 0.0))
        else:
            candidates = np.unique(np.concatenate(read))
            if allowed is not None:
                candidates = candidates[allowed[candidates]]
        # Phase 2: the remaining lists only for candidates still able to reach the k-th score.
        while i < len(ranked) and candidates.size:
            if candidates.size > limit:
                kth = np.partition(scores[candidates], candidates.size - limit)[candidates.size - limit]
                candidates = candidates[scores[candidates] + left * (1 + SAFETY) + 1e-12 >= kth * (1 - SAFETY)]
            e = ranked[i]
            p = e.plist
            pos = np.minimum(np.searchsorted(p.ids, candidates), p.ids.size - 1)
            hit = p.ids[pos] == candidates
            at = pos[hit]
            scores[candidates[hit]] += e.weight * p.num[at] / p.den[at]
            left -= e.bound
            i += 1
        if candidates.size > limit:
            kth = np.partition(scores[candidates], candidates.size - limit)[candidates.size - limit]
            candidates = candidates[scores[candidates] >= kth * (1 - SAFETY) - 1e-12]
        return candidates

    def _finish(self, entries: list[_Entry], candidates: np.ndarray, limit: int) -> list[Scored]:
        """Score candidates exactly as the plain scorer does (same order of sums); keep the best."""
        candidates = np.sort(candidates.astype(np.int64))
        exact = np.zeros(candidates.size, dtype=np.float64)
        found: list[np.ndarray] = []
        for e in entries:  # the plain scorer's order: every term's fields, term by term
            p = e.plist
            pos = np.minimum(np.searchsorted(p.ids, candidates), p.ids.size - 1)
            hit = p.ids[pos] == candidates
            at = pos[hit]
            exact[hit] += e.weight * p.num[at] / p.den[at]
            found.append(hit)
        keep = exact > 0
        order = np.flatnonzero(keep)
        order = order[np.argsort(-exact[order], kind="stable")][:limit]  # candidates are sorted by docnum
        out = []
        for j in order:
            matched = {e.term for e, hit in zip(entries, found) if hit[j]}
            in_main = {e.term for e, hit in zip(entries, found) if hit[j] and e.field == self.fields[0]}
            out.append(Scored(int(candidates[j]), float(exact[j]), frozenset(matched), frozenset(in_main)))
        return out
