"""Question → Whoosh query → ranked passages, from the live index version."""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.scoring import BM25F as WhooshBM25F
from whoosh.spelling import ListCorrector

from qa_service.ingest.content import SECTION_SEP, Passage
from qa_service.search.analysis import terms_of
from qa_service.search.cache import BoundedCache
from qa_service.search.format import (
    BM25_B,
    BM25_K1,
    SEARCH_FIELDS,
    Manifest,
    ReportDetail,
    ReportMeta,
    read_catalog,
    read_detail,
    read_manifest,
    read_words,
    require_current,
    versions_dir,
)
from qa_service.search.topk import CachedBM25F

MAX_QUERY_TERMS = 64
DETAILS_KEPT = 16  # report pages kept parsed per worker; the rest are read again when asked for
DETAILS_BYTES = 32 * 1024 * 1024


def _detail_size(report_id: str, detail: ReportDetail) -> int:
    # Python strings of this text take one to four bytes a character; two is a fair middle.
    return 2 * (len(detail.html) + sum(len(p.text) + len(p.section) + 200 for p in detail.passages))
analyze = terms_of  # the index terms of a text, in order, exactly as passages were analysed


def query_terms(text: str) -> list[str]:
    """Return a question's distinct index terms, in order, at most MAX_QUERY_TERMS."""
    return list(dict.fromkeys(analyze(text)))[:MAX_QUERY_TERMS]


@dataclass(frozen=True)
class Hit:
    """One passage found for a question, with what a citation needs."""

    passage: Passage
    report_title: str
    source_url: str | None
    score: float
    matched: frozenset[str]                         # question terms found in text, section or title
    in_text: frozenset[str] = frozenset()           # those found in the passage text itself
    original: str | None = None                     # /reports/<id>/source when the original is kept


@dataclass
class OpenIndex:
    """One index version opened for searching; kept for as long as it is live."""

    version: str
    path: Path
    ix: whoosh_index.Index
    searcher: Any = field(init=False)  # whoosh.searching.Searcher (Whoosh has no type hints)

    def __post_init__(self) -> None:
        # One searcher per version, reused by every request. Answers are scored by `scorer`; the
        # searcher's own BM25F weighting is what the benchmark and tests compare it against.
        self.searcher = self.ix.searcher(weighting=WhooshBM25F(B=BM25_B, K1=BM25_K1))
        self.scorer = CachedBM25F(self.searcher, SEARCH_FIELDS, k1=BM25_K1, b=BM25_B)
        # Bounded by count and by bytes: one report of 5 MB must not pin hundreds of MB per worker.
        self._details: BoundedCache[str, ReportDetail] = BoundedCache(DETAILS_KEPT, DETAILS_BYTES, _detail_size)

    @cached_property
    def manifest(self) -> Manifest:
        """Return the version's manifest (counts, build time, content hashes)."""
        return read_manifest(self.path.parent.parent, self.version)

    @cached_property
    def reports(self) -> dict[str, ReportMeta]:
        """Return every report's metadata (titles, dates, counts), by id."""
        return read_catalog(self.path)

    @cached_property
    def listings(self) -> frozenset[str]:
        """Return the ids of reports marked `kind: listing` (ranked below the reports themselves)."""
        return frozenset(rid for rid, meta in self.reports.items() if meta.kind == "listing")

    def report(self, report_id: str) -> ReportDetail | None:
        """Return one report's metadata, page HTML and passages, or None for an unknown id."""
        if report_id not in self.reports:  # only ids from the catalog ever name a file
            return None
        detail = self._details.get(report_id)
        if detail is None:
            detail = read_detail(self.path, report_id)
            self._details.put(report_id, detail)
        return detail

    @cached_property
    def title_phrases(self) -> list[tuple[str, ...]]:
        """Return each report's short title (or title) as index terms, when two words or more."""
        phrases = (tuple(analyze(m.name)) for m in self.reports.values())
        return list(dict.fromkeys(p for p in phrases if len(p) >= 2))

    @cached_property
    def _phrases_by_first_term(self) -> dict[str, list[tuple[str, ...]]]:
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.title_phrases:
            by_first.setdefault(phrase[0], []).append(phrase)
        return by_first

    def title_phrases_within(self, terms: list[str]) -> list[tuple[str, ...]]:
        """Return the title phrases whose first term is among `terms` (the only ones they can hold).

        A question is checked against a handful of phrases instead of every report's title,
        which at 1,700 reports was a fifth of an answer's time.
        """
        by_first = self._phrases_by_first_term
        return [phrase for term in dict.fromkeys(terms) for phrase in by_first.get(term, ())]

    @cached_property
    def corrector(self) -> ListCorrector:
        """Return a spelling corrector over the unstemmed words of the reports."""
        return ListCorrector(read_words(self.path))

    def writes(self, word: str) -> bool:
        """Return True if some passage writes this word (lowercase, unstemmed)."""
        words = self.corrector.wordlist  # sorted, and loaded for spelling anyway
        at = bisect_left(words, word)
        return at < len(words) and words[at] == word

    def starts_a_word(self, letters: str) -> bool:
        """Return True if some passage writes a word beginning with these letters (lowercase, unstemmed)."""
        words = self.corrector.wordlist  # sorted, and loaded for spelling anyway
        at = bisect_left(words, letters)
        return at < len(words) and words[at].startswith(letters)

    def known(self, term: str) -> bool:
        """Return True if any passage, section or title holds the term."""
        # Read off the remembered idf (a term no document holds has the largest): a dictionary
        # lookup where asking Whoosh for the three frequencies took 60-100 µs a term.
        unseen = self.scorer.unseen_idf()
        return any(self.scorer.idf(name, term) < unseen for name in SEARCH_FIELDS)

    def weight(self, term: str) -> float:
        """Return a term's inverse document frequency in passage text (rare terms weigh more)."""
        return self.scorer.idf("text", term)

    def written_together(self, first: str, second: str, most: int = 50) -> bool:
        """Return True if a passage writes two words side by side ("steel workers", "pre-birth").

        Positions are not indexed, so up to `most` passages holding both words are read.
        """
        terms = terms_of(f"{first} {second}")
        if len(terms) != 2:
            return False
        beside = re.compile(rf"(?<!\w){re.escape(first)}[\s-]+{re.escape(second)}", re.IGNORECASE)
        both = wq.And([wq.Term("text", t) for t in terms])
        return any(beside.search(self.searcher.stored_fields(doc)["text"])
                   for doc in islice(both.docs(self.searcher), most))

    def close(self) -> None:
        """Release the searcher's files."""
        self.searcher.close()
        self.ix.close()

    def __del__(self) -> None:
        # A replaced version is closed once the last request using it lets go of it.
        try:
            self.close()
        except Exception:  # noqa: BLE001 - half-built objects and interpreter shutdown
            pass


class IndexHolder:
    """Keep the live index version open and move to a newer one when the pointer changes."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._open: OpenIndex | None = None

    def get(self) -> OpenIndex:
        """Return the live version, reopening only if CURRENT names a different one."""
        version = require_current(self.index_dir)
        current = self._open
        if current is not None and current.version == version:
            return current
        with self._lock:
            if self._open is None or self._open.version != version:
                path = versions_dir(self.index_dir) / version
                # The old version is closed by the garbage collector once no request holds it.
                # Plain reads, not mmap: mapped segment pages count against every worker's
                # resident memory (136 → 88 MB at 20,000 passages) for about 10% more time.
                storage = FileStorage(str(path), supports_mmap=False)
                self._open = OpenIndex(version, path, storage.open_index())
            return self._open


def whoosh_query(weighted_terms: dict[str, float]) -> wq.Query:
    """Return the same search as Whoosh's own query: every term in every field, OR-ed.

    Answers never use it; the scorer's tests and the load benchmark compare against it.
    """
    parts = [
        wq.Term(name, term, boost=boost)
        for term, boost in weighted_terms.items()
        for name in SEARCH_FIELDS
    ]
    return wq.Or(parts)


def _hit(index: OpenIndex, doc: dict[str, Any], score: float, matched: frozenset[str],
         in_text: frozenset[str]) -> Hit:
    section = doc.get("section") or ""
    passage = Passage(
        id=doc["id"].split("/", 1)[1],
        report_id=doc["report_id"],
        ordinal=int(doc["ordinal"]),
        kind=doc["kind"],
        headings=tuple(section.split(SECTION_SEP)) if section else (),
        text=doc["text"],
        page=doc.get("page"),
        page_end=doc.get("page_end"),
        page_label=doc.get("page_label"),
        in_section=int(doc.get("in_section") or 0),
    )
    meta = index.reports.get(passage.report_id)
    original = f"/reports/{passage.report_id}/source" if meta is not None and meta.source_file else None
    return Hit(passage, doc["title"], doc.get("source_url") or None, score, matched, in_text, original)


def search(index: OpenIndex, weighted_terms: dict[str, float], limit: int = 10,
           reports: list[str] | None = None) -> list[Hit]:
    """Return the best passages for weighted query terms, best first."""
    if not weighted_terms:
        return []
    allowed = index.scorer.mask("report_id", reports) if reports else None
    # Stored fields are read only for the passages returned, never for the rest.
    return [_hit(index, index.searcher.stored_fields(s.docnum), s.score, s.matched, s.in_main)
            for s in index.scorer.top(weighted_terms, limit, allowed)]
