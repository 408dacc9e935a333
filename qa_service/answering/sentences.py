"""Split a passage into sentences and clauses, as character spans of its verbatim text."""

from __future__ import annotations

import re

# Words that end in a full stop without ending a sentence.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al fig figs no nos vol vols pp ed eds "
    "inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec gen gov sen rep rev col "
    "lt capt sgt u.s u.k u.n a.m p.m approx dept est govt univ".split()
)
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_CLAUSE = re.compile(r";\s+")
_LEADING_JOIN = re.compile(r"^(?:and|or|but|and also)\s+", re.IGNORECASE)
# Clauses shorter than this many characters stay attached to their sentence.
MIN_CLAUSE = 20
# A sentence is split at semicolons only when it is a list ("These included A; B; C …"): two
# clauses joined by one semicolon usually need each other (measured on SQuAD dev, BENCHMARKS.md).
MIN_LIST_PARTS = 3


def _ends_with_abbreviation(text: str) -> bool:
    word = re.split(r"\s", text.rstrip())[-1].rstrip(".!?\"'”’)").lower().lstrip("(\"'“‘")
    return word in ABBREVIATIONS or bool(re.fullmatch(r"[a-z]", word)) or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in text."""
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        candidate = text[start : m.start() + 1]
        if _ends_with_abbreviation(candidate):
            continue
        end = m.end() - (len(m.group()) - len(m.group().rstrip()))
        spans.append((start, end))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if text[s:e].strip()]


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
    out = []
    for s, e in sentence_spans(text):
        for cs, ce in clause_spans(text, s, e):
            piece = text[cs:ce].strip()
            piece = _LEADING_JOIN.sub("", piece)
            if piece:
                out.append(piece)
    return out or [text.strip()]
