"""What the store hands back: plain dataclasses, which the API's contract also uses as its shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def iso(moment: datetime) -> str:
    """Return a stored UTC time as ISO 8601 with a Z, to the second."""
    return moment.replace(microsecond=0).isoformat() + "Z"


@dataclass(frozen=True)
class QuestionGroup:
    """Identical questions (case and spacing ignored), with how often and when they were last asked."""

    question: str | None
    count: int
    last_asked: str
    found: bool


@dataclass(frozen=True)
class FeedbackRecord:
    """One rating of an answer, with the question and the passages that answer cited."""

    answer_id: str
    question: str | None
    helpful: bool
    comment: str | None
    created: str
    passage_ids: list[str]


@dataclass(frozen=True)
class Trend:
    """How often a question (or all questions) was asked in each of the last weeks, oldest first."""

    question: str | None
    weeks: list[int]

    @property
    def total(self) -> int:
        """Return the questions asked over all the weeks."""
        return sum(self.weeks)
