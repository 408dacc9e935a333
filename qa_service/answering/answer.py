"""Passages → findings (the best clause of each), citations, answer text, or an honest refusal."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

from qa_service.answering import thesaurus
from qa_service.answering.cues import expected_answer, satisfies
from qa_service.answering.query import (
    Phrase,
    PreparedQuery,
    Synonyms,
    phrase_terms,
    prepare_query,
    synonym_weight,
    synonyms_of,
)
from qa_service.answering.ranking import RANKING, Ranking
from qa_service.answering.sentences import units
from qa_service.answering.statements import asks_for_several, complete
from qa_service.answering.thesaurus import Entry
from qa_service.ingest.content import FACTS_SECTION, Passage
from qa_service.search.cache import bounded_cache
from qa_service.search.retrieval import Hit, OpenIndex, analyze, search

NOTHING_MORE = "Nothing more on this: every finding the reports give has been shown above."
NOT_FOUND = "The reports do not answer this question."


@dataclass(frozen=True)
class Citation:
    """Where a finding comes from, precisely enough to check it."""

    report: str
    report_id: str
    section: str
    paragraph: int
    passage_id: str
    url: str
    source_url: str | None
    # Imported PDFs: the physical page the passage starts on (and ends on, when it runs on), the
    # printed page label where it differs, and the original file opened at that page.
    page: int | None = None
    page_end: int | None = None
    page_label: str | None = None
    original_url: str | None = None
    # The paragraph's number within its section, as a reader counts ("Summary, paragraph 2").
    section_paragraph: int = 0


@dataclass(frozen=True)
class Finding:
    """One cited finding: the best clause, its whole passage and its score."""

    text: str
    passage: str
    score: float
    citation: Citation
    # When the question asks for several things and the passage lists them: the list's items.
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Related:
    """A place the reports do cover, near a question they do not answer: its name and its link."""

    text: str
    url: str


@dataclass
class Answer:
    """The reply to one question."""

    question: str
    answer: str
    found: bool
    findings: list[Finding] = field(default_factory=list)
    index_version: str = ""
    took_ms: float = 0.0
    suggestions: list[str] = field(default_factory=list)
    expanded_terms: list[str] = field(default_factory=list)
    did_you_mean: str | None = None
    answer_id: str | None = None  # set by /api/ask when the answer is logged, for feedback
    # When nothing answers: sections near the question (sharing its words), with links to open them.
    related: list[Related] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Return the answer as the JSON object the CLI and the API both print."""
        return asdict(self)


class QuestionError(ValueError):
    """A question that cannot be asked (empty, or only whitespace)."""


class Units(NamedTuple):
    """A passage's sentences or clauses, each with its index terms as a lookup table and in order."""

    # Parallel tuples of strings and of string-keyed dicts, not a tuple per piece with a frozenset:
    # tuples of strings and dicts of strings drop out of the garbage collector's view, so the
    # thousands of cached passages stop lengthening every collection (issue 16, the c1 tail).
    pieces: tuple[str, ...]
    terms: tuple[dict[str, None], ...]
    ordered: tuple[tuple[str, ...], ...]


def _units_size(key: tuple, value: Units) -> int:
    # Each piece's text (about 2 bytes a character) plus ~110 bytes a term: its dict slot and its
    # place in the ordered tuple.
    return sum(2 * len(piece) + 110 * len(terms) + 180 for piece, terms in zip(value.pieces, value.terms)) \
        + 2 * len(str(key[0]))


# A few thousand passages cover a worker's working set; a few huge passages cannot blow past it.
@bounded_cache(entries=4096, max_bytes=16 * 1024 * 1024, size=_units_size)
def unit_terms(passage: str, whole: bool = False) -> Units:
    """Return a passage's sentences and clauses (or the passage itself) with their index terms."""
    pieces = tuple([passage.strip()] if whole else units(passage))
    ordered = tuple(tuple(analyze(piece)) for piece in pieces)
    return Units(pieces, tuple(dict.fromkeys(terms) for terms in ordered), ordered)


def is_statement(passage: Passage) -> bool:
    """Return True for passages never split into sentences: facts are one statement each."""
    # Splitting "Published by Ofsted (Great Britain. Office for …)" would cut a name in two.
    return passage.kind == "fact"


def best_unit(passage: str, weights: dict[str, float], cue: re.Pattern[str] | None = None,
              whole: bool = False, ranking: Ranking = RANKING) -> str:
    """Return the clause or sentence of a passage that carries most of the question's weight."""
    best, best_score = passage.strip(), -1.0
    bonus = ranking.cue_boost * sum(weights.values())
    found = unit_terms(passage, whole)
    for piece, terms in zip(found.pieces, found.terms):
        score = sum(w for t, w in weights.items() if t in terms)
        score += bonus if satisfies(cue, piece) else 0.0
        if score > best_score:  # strict: the earlier piece wins a tie
            best, best_score = piece, score
    return best


def sentence_share(passage: str, weights: dict[str, float], synonyms: dict[str, Synonyms] | None = None,
                   whole: bool = False, context: frozenset[str] = frozenset()) -> float:
    """Return the largest share of the question's weight found inside one sentence or clause.

    `context` terms (a report's name, held by its title) count as inside every sentence.
    """
    total = sum(weights.values())
    if not total:
        return 0.0
    wanted = weights.keys()
    always = context & wanted
    # Set operations, not a loop over the question's words per sentence: every candidate's every
    # sentence is scored on every question (a fifth of answering time before).
    related = [(t, syn) for t, syn in (synonyms or {}).items() if t in wanted]
    best = 0.0
    for terms in unit_terms(passage, whole).terms:
        inside = (wanted & terms.keys()) | always
        inside.update(t for t, syn in related if t not in inside and syn.held_by(terms))
        best = max(best, sum(weights[t] for t in inside))
    return best / total


def page_text(c: Citation) -> str:
    """Return "p. 12", "pp. 12–13" or "p. xii" (the printed label where there is one); "" without pages."""
    if c.page is None:
        return ""
    first = c.page_label or str(c.page)
    if c.page_end is not None and c.page_end != c.page:
        return f"pp. {first}–{c.page_end if c.page_label is None else c.page_end}"
    return f"p. {first}"


def citation(hit: Hit) -> Citation:
    """Return the citation of a passage hit."""
    p = hit.passage
    original = hit.original and (f"{hit.original}#page={p.page}" if p.page else hit.original)
    return Citation(hit.report_title, p.report_id, p.section, p.ordinal, p.id,
                    f"/reports/{p.report_id}#{p.anchor}", hit.source_url, p.page, p.page_end, p.page_label, original,
                    p.in_section)


def coverage(hit: Hit, weights: dict[str, float], synonyms: dict[str, Synonyms] | None = None,
             context_credit: float = RANKING.context_credit, named: frozenset[str] = frozenset()) -> float:
    """Return the share of the question's weight that a passage matches (a synonym, all its words, counts).

    A word found only in the report's title or the section heading counts for `context_credit`,
    unless the question uses it to name a report (`named`): then the passage, being part of the
    report named, holds it in full.
    """
    total = sum(weights.values())
    synonyms = synonyms or {}
    got = 0.0
    for term, weight in weights.items():
        other = synonyms.get(term)
        if term in hit.in_text or (other is not None and other.held_by(hit.in_text)):
            got += weight
        elif term in hit.matched or (other is not None and other.held_by(hit.matched)):
            got += (1.0 if term in named else context_credit) * weight
    return got / total if total else 0.0


def proximity_share(passage: str, pairs: list[tuple[str, str, float]], window: int = 2, whole: bool = False) -> float:
    """Return the weighted share of the question's neighbouring word pairs that sit together here.

    `pairs` are the question's consecutive judged terms with the pair's weight; a pair counts when
    its two terms occur within `window` terms of each other in the passage, in either order.
    """
    total = sum(w for _a, _b, w in pairs)
    if not total:
        return 0.0
    wanted = {t for a, b, _w in pairs for t in (a, b)}
    positions: dict[str, list[int]] = {}
    # The pieces' terms in order are the passage's terms in order (pieces split at whitespace
    # and drop only stop words), so the sentence picker's analysis serves here too; a piece
    # holding none of the wanted terms is skipped whole.
    found = unit_terms(passage, whole)
    start = 0
    for terms, ordered in zip(found.terms, found.ordered):
        if not wanted.isdisjoint(terms):
            for n, term in enumerate(ordered, start):
                if term in wanted:
                    positions.setdefault(term, []).append(n)
        start += len(ordered)
    got = sum(w for a, b, w in pairs
              if any(abs(i - j) <= window for i in positions.get(a, ()) for j in positions.get(b, ())))
    return got / total


def question_pairs(question: str, weights: dict[str, float]) -> list[tuple[str, str, float]]:
    """Return the question's consecutive judged terms, each pair weighted by its lighter term."""
    sequence = [t for t in analyze(question) if t in weights]
    return [(a, b, min(weights[a], weights[b])) for a, b in zip(sequence, sequence[1:]) if a != b]


@dataclass(frozen=True)
class Ranked:
    """A passage hit with its reranked score, and the share of the question it covers."""

    hit: Hit
    coverage: float

    @property
    def support(self) -> float:
        """Return the evidence that this passage answers the question: compared with `min_coverage`."""
        return self.coverage


def rerank(hits: list[Hit], weights: dict[str, float], cue: re.Pattern[str] | None,
           aliases: dict[str, set[Phrase]] | None = None, ranking: Ranking = RANKING,
           named: frozenset[str] = frozenset(), pairs: list[tuple[str, str, float]] | None = None) -> list[Ranked]:
    """Reorder BM25's hits by how much of the question each covers, in all and in one sentence."""
    synonyms = {t: synonyms_of(s) for t, s in (aliases or {}).items()}

    def adjusted(hit: Hit) -> Ranked:
        covered = coverage(hit, weights, synonyms, ranking.context_credit, named)
        # Coordination: a passage matching all of the question beats one repeating part of it,
        # and one whose matches sit together in a sentence beats one that scatters them.
        factor = covered ** ranking.coordination
        context = named & (hit.matched - hit.in_text)  # the report's name, from its title
        whole = is_statement(hit.passage)
        factor *= 1 + ranking.sentence_boost * sentence_share(hit.passage.text, weights, synonyms, whole, context)
        if satisfies(cue, hit.passage.text):
            factor *= 1 + ranking.cue_boost
        if ranking.proximity_boost and pairs:
            factor *= 1 + ranking.proximity_boost * proximity_share(hit.passage.text, pairs, ranking.proximity_window, whole)
        return Ranked(replace(hit, score=hit.score * factor), covered)
    # Equal scores go in report and paragraph order: document numbers, which would otherwise
    # decide, differ between two builds of the same content (Whoosh's parallel writer).
    return sorted((adjusted(h) for h in hits),
                  key=lambda r: (-r.hit.score, r.hit.passage.report_id, r.hit.passage.ordinal))


def candidates(index: OpenIndex, question: str, limit: int = 5, history: list[str] | None = None,
               reports: list[str] | None = None, groups: tuple[tuple[Entry, ...], ...] | None = None,
               ranking: Ranking = RANKING) -> tuple[PreparedQuery, list[Ranked]]:
    """Return the prepared question and its reranked passages, before any is judged."""
    query = prepare_query(index, question, history, thesaurus.load() if groups is None else groups, ranking)
    hits = search(index, query.boosts, limit=max(ranking.candidates, limit), reports=reports)
    # Pairs come from the text that was searched: the spelling-corrected question when there is one.
    pairs = question_pairs(query.did_you_mean or question, query.weights) if ranking.proximity_boost else None
    return query, rerank(hits, query.weights, expected_answer(question), query.aliases, ranking, query.named, pairs)


def suggest(index: OpenIndex, weak: list[Hit], asked: set[str], most: int = 5) -> list[Related]:
    """Return sections near the question, nearest first: only passages sharing real words with it."""
    def name(report_id: str) -> str:
        meta = index.reports.get(report_id)
        return meta.name if meta is not None else report_id

    related: dict[str, Related] = {}
    for hit in weak:  # passages that matched some of the question's words, but too few to answer
        if not hit.in_text & asked:  # a title or heading match alone is not "related"
            continue
        headings = [h for h in hit.passage.headings if h != FACTS_SECTION]
        report = name(hit.passage.report_id)
        text = f"{report} — {headings[-1]}" if headings else report
        related.setdefault(text, Related(text, f"/reports/{hit.passage.report_id}#{hit.passage.anchor}"))
    return list(related.values())[:most]


def _compose(findings: list[Finding], ranking: Ranking) -> str:
    """String the strongest findings together with their markers; the rest stay in the list."""
    best = findings[0].score
    chosen = [(n, f) for n, f in enumerate(findings, start=1) if f.score >= ranking.answer_share * best][:ranking.answer_most]
    return " ".join(f"“{f.text}” [{n}]" for n, f in chosen)


def ask(index: OpenIndex, question: str, limit: int = 5, history: list[str] | None = None,
        reports: list[str] | None = None, groups: tuple[tuple[Entry, ...], ...] | None = None,
        ranking: Ranking = RANKING, shown: frozenset[str] = frozenset()) -> Answer:
    """Answer a question from an open index: cited findings, or a plain 'not found'.

    `shown` holds passage ids the conversation has already shown: a follow-up with no words of
    its own ("Tell me more") moves on to the next findings instead of repeating them; a question
    with words of its own is answered in full, whatever was shown before.
    """
    started = time.perf_counter()
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty")
    query, ranked = candidates(index, question, limit + len(shown), history, reports, groups, ranking)
    # A listing of other publications (front matter `kind: listing`) never outranks the reports.
    if index.listings:
        ranked = sorted(ranked, key=lambda r: r.hit.passage.report_id in index.listings)
    if query.terms:
        shown = frozenset()
    cue = expected_answer(question)
    # Synonyms help pick the clause too, at the weight they were searched with.
    # Words naming the report are left out: every sentence of that report is about them.
    asked = {t: w for t, w in query.weights.items() if t not in query.named} or query.weights
    unit_weights = {t: asked[src] * synonym_weight(index, src, syn, ranking) * part
                    for src, syn in query.aliases.items() if src in asked
                    for t, part in phrase_terms(syn).items()} | asked
    findings: list[Finding] = []
    seen: set[str] = set()
    repeated = False
    several = asks_for_several(question)
    # The first finding is the best passage that meets the bar; passages ranked above it that
    # missed it can still follow it, under the lower bar for the rest of the list.
    lead = next((n for n, r in enumerate(ranked)
                 if r.support >= ranking.min_coverage and r.hit.passage.id not in shown), None)
    if lead is not None:
        ranked = [ranked[lead], *ranked[:lead], *ranked[lead + 1:]]
    for candidate in ranked:
        # The first finding must cover enough of the question to answer it; the ones after it
        # stand beside an answer already given, so a lower bar lets a near miss still be seen,
        # but one scoring far below the first is no longer about the question.
        if candidate.support < (ranking.further_coverage if findings else ranking.min_coverage):
            continue
        hit = candidate.hit
        if findings and hit.score < ranking.further_share * findings[0].score:
            continue
        if hit.passage.id in shown:
            repeated = True
            continue
        whole = is_statement(hit.passage)
        text = best_unit(hit.passage.text, unit_weights, cue, whole, ranking)
        items: list[str] = []
        if not whole:  # "These included …" gets what it refers to; lists stay lists
            text, items = complete(hit.passage.text, text, several, ranking.follow_on)
        key = " ".join(analyze(text))
        if key in seen:  # the same words cited twice add nothing
            continue
        seen.add(key)
        findings.append(Finding(text, hit.passage.text, round(hit.score, 4), citation(hit), items))
        if len(findings) == limit:
            break
    related = [] if findings or repeated else suggest(index, [r.hit for r in ranked], set(query.weights))
    took = (time.perf_counter() - started) * 1000
    reply = _compose(findings, ranking) if findings else NOTHING_MORE if repeated else NOT_FOUND
    return Answer(question, reply, bool(findings),
                  findings, index.version, round(took, 2), [r.text for r in related], query.expanded_terms,
                  query.did_you_mean, related=related)
