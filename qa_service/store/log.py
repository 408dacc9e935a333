"""The question log: one row per answer, its retention, and the grouped views of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Connection, and_, delete, func, insert, or_, select

from qa_service.store.records import QuestionGroup, Trend, iso
from qa_service.store.schema import feedback, questions


def question_key(question: str) -> str:
    """Return the form identical questions share: casefolded, runs of spaces made one."""
    return " ".join(question.casefold().split())


def storable(text: str) -> str:
    """Return text every database can hold (PostgreSQL refuses NUL characters)."""
    return text.replace("\x00", "\ufffd")


_INSERT = insert(questions)


def row(answer_id: str, now: datetime, question: str | None, found: bool, passage_ids: list[str],
        index_version: str, took_ms: float) -> dict[str, object]:
    """Return one answer as a log row; `question` is None when questions are not logged."""
    return {"answer_id": answer_id, "asked_at": now, "found": found, "passage_ids": passage_ids,
            "question": None if question is None else storable(question),
            "question_key": None if question is None else storable(question_key(question)),
            "index_version": index_version[:64], "took_ms": took_ms}


def record(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Add answers to the log in one statement."""
    # One prepared statement with the rows as parameters: building `.values(...)` anew for every
    # answer cost more than the database's own commit.
    conn.execute(_INSERT, rows)


def prune(conn: Connection, cutoff: datetime) -> None:
    """Delete answers asked before the cutoff, and feedback given before it or on those answers."""
    old = select(questions.c.answer_id).where(questions.c.asked_at < cutoff)
    conn.execute(delete(feedback).where(or_(feedback.c.created < cutoff, feedback.c.answer_id.in_(old))))
    conn.execute(delete(questions).where(questions.c.asked_at < cutoff))


def groups(conn: Connection, found: bool | None, limit: int) -> list[QuestionGroup]:
    """Return identical questions grouped, most asked first, each as most recently asked."""
    where = [] if found is None else [questions.c.found == found]
    counted = (select(questions.c.question_key, func.count().label("n"), func.max(questions.c.id).label("last"))
               .where(*where).group_by(questions.c.question_key).subquery())
    rows = conn.execute(
        select(questions.c.question, questions.c.asked_at, questions.c.found, counted.c.n)
        .join(counted, questions.c.id == counted.c.last)
        .order_by(counted.c.n.desc(), questions.c.id.desc()).limit(limit))
    return [QuestionGroup(r.question, r.n, iso(r.asked_at), r.found) for r in rows]


def trends(conn: Connection, now: datetime, weeks: int, top: int) -> tuple[Trend, list[Trend]]:
    """Return all questions per week, and the most asked questions of the period per week."""
    starts = [now - timedelta(weeks=weeks - i) for i in range(weeks + 1)]
    period = questions.c.asked_at >= starts[0]
    popular = list(conn.execute(
        select(questions.c.question_key, func.count().label("n"), func.max(questions.c.id).label("last"))
        .where(period, questions.c.question_key.is_not(None)).group_by(questions.c.question_key)
        .order_by(func.count().desc(), func.max(questions.c.id).desc()).limit(top)))
    keys = [row.question_key for row in popular]
    shown = {r.id: r.question for r in conn.execute(
        select(questions.c.id, questions.c.question).where(questions.c.id.in_([row.last for row in popular])))}
    totals: list[int] = []
    per_key: dict[str, list[int]] = {key: [] for key in keys}
    for begin, end in pairwise(starts):
        week = and_(questions.c.asked_at >= begin, questions.c.asked_at < end)
        totals.append(conn.execute(select(func.count()).where(week)).scalar_one())
        counts = {r.question_key: r.n for r in conn.execute(
            select(questions.c.question_key, func.count().label("n"))
            .where(week, questions.c.question_key.in_(keys)).group_by(questions.c.question_key))} if keys else {}
        for key in keys:
            per_key[key].append(counts.get(key, 0))
    return Trend(None, totals), [Trend(shown.get(row.last), per_key[row.question_key]) for row in popular]
