"""SQuAD v1.1 dev → content Markdown reports, and each question → the passage it was asked about."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import markdown

from qa_service.ingest.content import parse_report

PUBLISHER = "Wikipedia (SQuAD v1.1 dev, CC BY-SA 4.0)"
# Backslash-escape every character Python-Markdown can unescape; the parser restores them verbatim.
_ESCAPE = re.compile("([" + re.escape("".join(markdown.Markdown().ESCAPED_CHARS)) + "])")
# "<Uyless Black, 1991>" would be stashed as raw HTML and "&x;" as an entity, both dropped from the
# passage text; a space after the '<' or '&' keeps them text (and leaves the words unchanged).
_HTML_LIKE = re.compile(r"<(?=\S)|&(?=#?\w+;)")


@dataclass(frozen=True)
class Question:
    """One SQuAD question, its answer strings, and the passage it was asked about (None: unindexed)."""

    text: str
    answers: tuple[str, ...]
    gold: tuple[str, str] | None


@dataclass
class Corpus:
    """The reports written for the run: every passage in index order, and the questions."""

    keys: list[tuple[str, str]] = field(default_factory=list)  # (report id, passage id)
    texts: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # each passage's report title
    questions: list[Question] = field(default_factory=list)
    rewritten: int = 0  # paragraphs whose text needed '<'/'&' neutralised


def slug(title: str) -> str:
    """Return a report id for an article title: lowercase letters, digits and '-'."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def flat_text(text: str) -> str:
    """Return a paragraph on one line, with raw-HTML-like text neutralised: what parsing must give back."""
    return _HTML_LIKE.sub(lambda m: m.group() + " ", " ".join(text.split()))


def markdown_paragraph(text: str) -> str:
    """Return a paragraph as one Markdown paragraph; one line, so no line starts a list or heading."""
    return _ESCAPE.sub(r"\\\1", flat_text(text))


def prepare(articles: list[dict], content_dir: Path, indexed: set[int]) -> Corpus:
    """Write the indexed articles as reports, parse them back, and map each question to its passage."""
    shutil.rmtree(content_dir, ignore_errors=True)
    content_dir.mkdir(parents=True)
    corpus = Corpus()
    for n, article in enumerate(articles):
        paragraphs = article["paragraphs"]
        gold: list[tuple[str, str] | None] = [None] * len(paragraphs)
        if n in indexed:
            rid = slug(article["title"])
            path = content_dir / f"{rid}.md"
            if path.exists():
                raise SystemExit(f"two articles share the report id {rid!r}")
            title = article["title"].replace("_", " ")
            body = "\n\n".join(markdown_paragraph(p["context"]) for p in paragraphs)
            path.write_text(f"---\ntitle: {json.dumps(title)}\npublisher: {json.dumps(PUBLISHER)}\n---\n\n"
                            f"{body}\n", encoding="utf-8")
            passages = [p for p in parse_report(path).passages if p.kind == "paragraph"]
            if len(passages) != len(paragraphs):
                raise SystemExit(f"{path}: {len(passages)} paragraph passages, {len(paragraphs)} paragraphs")
            for i, (para, passage) in enumerate(zip(paragraphs, passages)):
                if passage.text != flat_text(para["context"]):
                    raise SystemExit(f"{path}: paragraph {i + 1} changed in Markdown: {passage.text[:60]!r}")
                corpus.rewritten += flat_text(para["context"]) != " ".join(para["context"].split())
                gold[i] = (rid, passage.id)
                corpus.keys.append(gold[i])
                corpus.texts.append(passage.text)
                corpus.titles.append(title)
        for para, key in zip(paragraphs, gold):
            corpus.questions += [Question(q["question"], tuple(a["text"] for a in q["answers"]), key)
                                 for q in para["qas"]]
    return corpus


def subsample(questions: list[Question], limit: int | None) -> list[Question]:
    """Return every k-th question so that at most `limit` remain (all of them without a limit)."""
    if not limit or limit >= len(questions):
        return questions
    return questions[:: max(1, len(questions) // limit)][:limit]
