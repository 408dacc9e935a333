"""Split a passage into sentences and clauses, as character spans of its verbatim text.

Linear in the passage's length whatever it holds (a paragraph of "Dr. " × 16,000 took 10 s
before), and each passage's split is cached, bounded by entries and bytes.
"""

from __future__ import annotations

import re

from qa_service.search.cache import bounded_cache

# Words that end in a full stop without ending a sentence.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al fig figs no nos vol vols pp ed eds "
    "inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec gen gov sen rep rev col "
    "lt capt sgt u.s u.k u.n a.m p.m approx dept est govt univ".split()
)
# A run of end marks is tried once, from its first mark (the lookbehind), and nothing backtracks
# (possessive quantifiers): the same boundaries as the plain pattern, in linear time.
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[\"'”’)\]]*+\s++(?=[\"'“‘(\[]?[A-Z0-9])")
_CLAUSE = re.compile(r";\s+")
_INITIALS = re.compile(r"[a-z]|(?:[a-z]\.)+[a-z]")  # "J." or "U.S.A."
_LEADING_JOIN = re.compile(r"^(?:and|or|but|and also)\s+", re.IGNORECASE)
# Clauses shorter than this many characters stay attached to their sentence.
MIN_CLAUSE = 20
# A sentence is split at semicolons only when it is a list ("These included A; B; C …"): two
# clauses joined by one semicolon usually need each other (measured on SQuAD dev, BENCHMARKS.md).
MIN_LIST_PARTS = 3


def _ends_with_abbreviation(text: str, low: int, end: int) -> bool:
    """Return True if the last word of text[low:end] is an abbreviation (or an initial)."""
    # Walk back from the mark to the last whitespace, never before `low` (the previous boundary,
    # which ends in whitespace): each character is looked at once over a whole passage.
    start = end
    while start > low and not text[start - 1].isspace():
        start -= 1
    word = text[start:end].rstrip(".!?\"'”’)").lower().lstrip("(\"'“‘")
    return word in ABBREVIATIONS or _INITIALS.fullmatch(word) is not None


def _spans_size(key: tuple, value: tuple[tuple[int, int], ...]) -> int:
    # The text (about 2 bytes a character) and ~100 bytes a span: cheaper than walking the tuples.
    return 2 * len(str(key[0])) + 100 * len(value) + 200


# Cached: the sentence picker and the statement widener split the same candidates.
@bounded_cache(entries=2048, max_bytes=8 * 1024 * 1024, size=_spans_size)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Return (start, end) spans of the sentences in text."""
    spans, start, low = [], 0, 0
    for m in _BOUNDARY.finditer(text):
        skip = _ends_with_abbreviation(text, low, m.start() + 1)
        low = m.end()
        if skip:
            continue
        end = m.end() - (len(m.group()) - len(m.group().rstrip()))
        spans.append((start, end))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text.rstrip())))
    return tuple((s, e) for s, e in spans if text[s:e].strip())


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one sentence span at semicolons into clauses that can stand alone."""
    pieces, cursor = [], start
    for m in _CLAUSE.finditer(text, start, end):
        pieces.append((cursor, m.start()))
        cursor = m.end()
    pieces.append((cursor, end))
    if len(pieces) < MIN_LIST_PARTS:
        return [(start, end)]
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        if merged and (e - s < MIN_CLAUSE or merged[-1][1] - merged[-1][0] < MIN_CLAUSE):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def units(text: str) -> list[str]:
    """Return the passage's findings-sized pieces: clauses of sentences, verbatim."""
    return list(_units(text))


@bounded_cache(entries=2048, max_bytes=8 * 1024 * 1024)
def _units(text: str) -> tuple[str, ...]:
    out = []
    for s, e in sentence_spans(text):
        for cs, ce in clause_spans(text, s, e):
            piece = text[cs:ce].strip()
            piece = _LEADING_JOIN.sub("", piece)
            if piece:
                out.append(piece)
    return tuple(out) or (text.strip(),)
