"""BM25F over Whoosh's postings with NumPy: the same formula as Whoosh, without its matcher tree.

Whoosh scores a disjunction by walking a binary tree of Python matchers, one posting at a time;
for questions of five to fifteen words that walk is most of an answer's time. Here each
(field, term) posting list is read once per index version into two arrays, kept in a bounded
cache, and scores are summed with vector operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from qa_service.search.cache import BoundedCache

# Posting lists kept per worker and index version, bounded both ways: a term absent from the
# index costs an entry too (made-up words must not grow memory), and every entry is charged
# its key and bookkeeping as well as its arrays.
CACHE_BYTES = 16 * 1024 * 1024
CACHE_ENTRIES = 20_000
_ARRAY_BYTES = 112  # a NumPy array object beyond its data
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))  # shared by every absent term


def _posting_bytes(key: tuple[str, str], arrays: tuple[np.ndarray, np.ndarray]) -> int:
    own = 0 if arrays is _EMPTY else arrays[0].nbytes + arrays[1].nbytes + 2 * _ARRAY_BYTES
    return 64 + 49 + len(key[1]) * 4 + own  # key tuple, term string (up to 4 bytes a character)


@dataclass(frozen=True)
class Scored:
    """One document's score and the query terms it matched: in any field, and in the main field."""

    docnum: int
    score: float
    matched: frozenset[str]
    in_main: frozenset[str]


def best_order(scores: np.ndarray, limit: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Return the documents with the `limit` best non-zero scores, best first; ties keep document order."""
    if allowed is not None:
        scores[~allowed] = 0.0
    candidates = np.flatnonzero(scores)
    if candidates.size > limit:
        # Keep everything that ties with the limit-th best score, then order stably.
        cut = np.partition(scores[candidates], candidates.size - limit)[candidates.size - limit]
        candidates = candidates[scores[candidates] >= cut]
    return candidates[np.argsort(-scores[candidates], kind="stable")][:limit]


class BM25F:
    """Score documents of one opened Whoosh searcher for weighted terms over weighted fields.

    The first field is the main one (passage text); `Scored.in_main` says which terms matched there.
    """

    def __init__(self, searcher, fields: Iterable[str], k1: float = 1.2, b: float = 0.75) -> None:  # type: ignore[no-untyped-def]
        self.searcher = searcher
        self.fields = tuple(fields)
        self.k1, self.b = k1, b
        self.size = searcher.doc_count_all()
        self.cache: BoundedCache[tuple[str, str], tuple[np.ndarray, np.ndarray]] = BoundedCache(
            CACHE_ENTRIES, CACHE_BYTES, _posting_bytes)
        self._lengths: dict[str, np.ndarray] = {}  # one array per field, needed by every query

    @cached_property
    def _leaves(self) -> list[tuple[Any, int]]:
        return [(sub.reader(), offset) for sub, offset in self.searcher.leaf_searchers()]

    @cached_property
    def live(self) -> np.ndarray | None:
        """Return a mask of documents not deleted (None when nothing is deleted)."""
        reader = self.searcher.reader()
        if not reader.has_deletions():
            return None
        mask = np.zeros(self.size, dtype=bool)
        mask[list(reader.all_doc_ids())] = True
        return mask

    def lengths(self, field: str) -> np.ndarray:
        """Return every document's length in a field (Whoosh's stored, rounded lengths)."""
        values = self._lengths.get(field)
        if values is None:
            reader = self.searcher.reader()
            values = np.fromiter((reader.doc_field_length(d, field, 0) or 0 for d in range(self.size)),
                                 dtype=np.float32, count=self.size)
            self._lengths[field] = values
        return values

    @cached_property
    def _average(self) -> dict[str, float]:
        # Whoosh's statistics: exact token totals over all documents, deleted ones included
        # until a merge drops them; matching them keeps scores equal to Whoosh's own.
        return {f: self.searcher.avg_field_length(f) or 1.0 for f in self.fields}

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (document numbers, weights) of a term in a field, sorted by document number."""
        key = (field, term)
        hit = self.cache.get(key)  # threaded servers share one scorer per version: the cache locks
        if hit is not None:
            return hit
        ids: list[int] = []
        weights: list[float] = []
        for reader, offset in self._leaves:
            if (field, term) not in reader:
                continue
            matcher = reader.postings(field, term)
            while matcher.is_active():
                ids.append(matcher.id() + offset)
                weights.append(matcher.weight())
                matcher.next()
        arrays = (np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)) if ids else _EMPTY
        if self.live is not None and arrays[0].size:
            keep = self.live[arrays[0]]
            arrays = (arrays[0][keep], arrays[1][keep])
        self.cache.put(key, arrays)
        return arrays

    def idf(self, field: str, term: str) -> float:
        """Return Whoosh's inverse document frequency for a term in a field."""
        return math.log(self.size / (self.searcher.doc_frequency(field, term) + 1)) + 1

    def unseen_idf(self) -> float:
        """Return the idf of a term no document holds: the largest there is."""
        return math.log(self.size / 1) + 1

    def top(self, boosts: dict[str, float], limit: int, allowed: np.ndarray | None = None) -> list[Scored]:
        """Return the best documents for weighted terms, best first; ties go to the earlier document."""
        scores = np.zeros(self.size, dtype=np.float64)
        hits: list[tuple[str, str, np.ndarray]] = []
        for term, boost in boosts.items():
            for field in self.fields:
                ids, tf = self.postings(field, term)
                if not ids.size:
                    continue
                norm = self.k1 * ((1 - self.b) + self.b * self.lengths(field)[ids] / self._average[field])
                scores[ids] += boost * self.idf(field, term) * (tf * (self.k1 + 1)) / (tf + norm)
                hits.append((term, field, ids))
        order = best_order(scores, limit, allowed)
        if not order.size:
            return []
        matched: dict[int, set[str]] = {int(d): set() for d in order}
        in_main: dict[int, set[str]] = {int(d): set() for d in order}
        for term, field, ids in hits:
            for d in order[np.isin(order, ids, assume_unique=True)]:
                matched[int(d)].add(term)
                if field == self.fields[0]:
                    in_main[int(d)].add(term)
        return [Scored(int(d), float(scores[d]), frozenset(matched[int(d)]), frozenset(in_main[int(d)]))
                for d in order]

    def mask(self, field: str, values: Iterable[str]) -> np.ndarray:
        """Return a mask of documents whose (ID) field holds one of the values."""
        allowed = np.zeros(self.size, dtype=bool)
        for value in values:
            allowed[self.postings(field, value)[0]] = True
        return allowed
