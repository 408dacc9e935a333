"""Findings that read as complete statements: what "These …" points back to, and lists kept as lists."""

from __future__ import annotations

import re

from qa_service.answering.sentences import clause_spans, sentence_spans

# A sentence opening like this leans on the one before: quote both, or "These" means nothing.
# ("This report …" names its subject; "This was …" and "These included …" do not.)
REFERS_BACK = re.compile(
    r"^(?:(?:They|Their|Theirs|It|Its|He|She|His|Her)\b"
    r"|(?:These|This|Those|Such|Both)\s+(?:included|include|includes|is|was|were|are|has|had|have|meant|means|"
    r"led|leads|showed|shows|can|could|may|might|should|would|will|did|does|do|also|often|all)\b)")
# Questions that ask for several things, answered best with a list's items.
SEVERAL = re.compile(
    r"\b(?:what went wrong|went wrong|lessons?|findings|errors|mistakes|failings|failures|shortcomings|"
    r"issues|problems|recommendations|themes|factors|concerns|weaknesses|strengths|gaps|barriers)\b",
    re.IGNORECASE)  # not "which" or "what are": factoid questions ask those too
# A series needs this many clauses to be a list rather than two halves of one thought.
LIST_FROM = 3
_JOIN = re.compile(r"^(?:and|or)\s+", re.IGNORECASE)
_LEAD = re.compile(r"^(?:These|They|Those)\s+(?:included|include|were|are)\s+", re.IGNORECASE)


def asks_for_several(question: str) -> bool:
    """Return True when a question asks for several things ("what went wrong", "key lessons")."""
    return SEVERAL.search(question) is not None


def _sentence_at(spans: tuple[tuple[int, int], ...], offset: int) -> int | None:
    for n, (start, end) in enumerate(spans):
        if start <= offset < end:
            return n
    return None


def complete(passage: str, text: str, several: bool, follow: bool = True) -> tuple[str, list[str]]:
    """Return the finding text widened to a complete statement, and a list's items when asked for several.

    With `follow`, a finding that ends its sentence also takes the next one when that one leans
    on it ("… awarded the game to Levi's Stadium. It opened in 2014."). The text stays verbatim:
    it is always one contiguous stretch of the passage.
    """
    at = passage.find(text)
    spans = sentence_spans(passage)
    n = _sentence_at(spans, at) if at >= 0 else None
    if n is None:
        return text, []
    start, end = at, at + len(text)
    items: list[str] = []
    if several:
        for m in (n, n + 1):  # the series may be the sentence itself or the one it introduces
            if m < len(spans):
                clauses = clause_spans(passage, *spans[m])
                if len(clauses) >= LIST_FROM:
                    items = [passage[a:b].strip().rstrip(";.").strip() for a, b in clauses]
                    items[0] = _LEAD.sub("", items[0])
                    items = [_JOIN.sub("", i) for i in items]
                    items = [i[:1].upper() + i[1:] for i in items if i]
                    start, end = min(start, spans[m][0]), max(end, spans[m][1])
                    n = min(n, m)
                    break
    last = _sentence_at(spans, end - 1) if follow and not items else None
    if last is not None and last + 1 < len(spans) and end >= spans[last][1] \
            and REFERS_BACK.match(passage[spans[last + 1][0]:]):
        end = spans[last + 1][1]
    first = _sentence_at(spans, start)
    if first is not None and first > 0 and REFERS_BACK.match(passage[spans[first][0]:]) \
            and start == spans[first][0]:
        start = spans[first - 1][0]
    return passage[start:end].strip(), items
