"""Feedback on answers: adding it, listing it, and turning it into a gold set for `qa-service eval`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, insert, literal, select

from qa_service.store.log import question_key, storable
from qa_service.store.records import FeedbackRecord, iso
from qa_service.store.schema import feedback, questions


def add(conn: Connection, answer_id: str, helpful: bool, comment: str | None, now: datetime) -> int | None:
    """Store a rating of a logged answer and return its id; None when no answer has that id."""
    # One statement: the answer's existence is checked by the INSERT itself, so a concurrent
    # retention run cannot slip between a check and the write.
    source = select(literal(answer_id), literal(helpful), literal(None if comment is None else storable(comment)),
                    literal(now)).where(questions.c.answer_id == answer_id)
    inserted = conn.execute(insert(feedback).from_select(["answer_id", "helpful", "comment", "created"], source)
                            .returning(feedback.c.id)).scalar_one_or_none()
    return None if inserted is None else int(inserted)


def _select(helpful: bool | None = None, since: datetime | None = None):  # type: ignore[no-untyped-def]
    query = (select(feedback.c.answer_id, feedback.c.helpful, feedback.c.comment, feedback.c.created,
                    questions.c.question, questions.c.found, questions.c.passage_ids)
             .join(questions, questions.c.answer_id == feedback.c.answer_id))
    if helpful is not None:
        query = query.where(feedback.c.helpful == helpful)
    if since is not None:
        query = query.where(feedback.c.created >= since)
    return query


def recent(conn: Connection, limit: int, helpful: bool | None = None) -> list[FeedbackRecord]:
    """Return the newest feedback first, with each answer's question and cited passages."""
    rows = conn.execute(_select(helpful).order_by(feedback.c.created.desc(), feedback.c.id.desc()).limit(limit))
    return [FeedbackRecord(r.answer_id, r.question, r.helpful, r.comment, iso(r.created), list(r.passage_ids))
            for r in rows]


def gold_lines(conn: Connection, since: datetime | None) -> Iterator[str]:
    """Yield a gold set in `qa-service eval`'s JSON Lines format, oldest feedback first.

    A helpful answer gives its first finding's passage id; a helpful refusal gives
    "answerable": false; an unhelpful answer becomes a `#` comment line for a person to review.
    A question rated more than once gives one gold line: its latest helpful rating.
    """
    gold: dict[str, str] = {}
    for r in conn.execute(_select(since=since).order_by(feedback.c.created, feedback.c.id)):
        if r.question is None:
            yield f"# answer {r.answer_id}: question not logged (QA_LOG_QUESTIONS=false)"
            continue
        if not r.helpful:
            note = {"question": r.question, "found": r.found, "passage_ids": list(r.passage_ids),
                    "comment": r.comment, "created": iso(r.created)}
            yield "# not helpful: " + json.dumps(note, ensure_ascii=False)
            continue
        ids = list(r.passage_ids)
        line = {"question": r.question, "passage_id": ids[0]} if r.found and ids else \
            {"question": r.question, "answerable": False}
        gold[question_key(r.question)] = json.dumps(line, ensure_ascii=False)
    yield from gold.values()
