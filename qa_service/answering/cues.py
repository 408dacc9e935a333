"""Answer-type cues: a 'when' question wants a date, a 'how many' question wants a number."""

from __future__ import annotations

import re

MONTHS = "january february march april may june july august september october november december"
_YEAR_OR_DATE = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b|\b(?:" + MONTHS.replace(" ", "|") + r")\b",
                           re.IGNORECASE)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen|half|third|quarter|percent)\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")

_CUES = (
    (re.compile(r"\b(?:when|what (?:year|date|day|month|century|decade|time)|which (?:year|date))\b", re.I),
     _YEAR_OR_DATE),
    (re.compile(r"\b(?:how (?:many|much|long|old|far|large|big|often)|what (?:number|percentage|proportion|"
                r"share|amount|age))\b", re.I), _NUMBER),
    (re.compile(r"\b(?:who|whom|whose)\b", re.I), _NAME),
)


def expected_answer(question: str) -> re.Pattern[str] | None:
    """Return a pattern an answer to this question is likely to contain, or None."""
    for asks, pattern in _CUES:
        if asks.search(question):
            return pattern
    return None


def satisfies(pattern: re.Pattern[str] | None, text: str) -> bool:
    """Return True when text contains what the question's cue asks for."""
    return pattern is not None and pattern.search(text) is not None
