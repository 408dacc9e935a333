"""WikiQA and SelQA dev (JSON Lines) → content Markdown reports, one report per passage.

The mapping the data's README suggests: the passage `title` is the report title, its text one
paragraph (Markdown-escaped), and the lowercased `pid` the report id. A question's gold passage is
its `gold_passage_ids[0]`; an unanswerable WikiQA question has none (gold None).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from squad_reports import Corpus, Question, flat_text, markdown_paragraph

from qa_service.ingest.content import parse_report

PUBLISHERS = {
    "wikiqa": "Wikipedia (WikiQA dev, Microsoft Research Data License Agreement)",
    "selqa": "Wikipedia (SelQA dev, CC BY-SA; annotations Apache-2.0)",
}


def read_jsonl(path: Path) -> list[dict]:
    """Return the objects of a JSON Lines file."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def prepare(folder: Path, content_dir: Path) -> Corpus:
    """Write every passage of one set (a folder holding passages.jsonl, questions.jsonl) as a report."""
    name = folder.name
    passages = read_jsonl(folder / "passages.jsonl")
    shutil.rmtree(content_dir, ignore_errors=True)
    content_dir.mkdir(parents=True)
    corpus = Corpus()
    key_of: dict[str, tuple[str, str]] = {}
    for row in passages:
        rid = row["pid"].lower()
        path = content_dir / f"{rid}.md"
        if path.exists():
            raise SystemExit(f"two passages share the report id {rid!r}")
        path.write_text(f"---\ntitle: {json.dumps(row['title'])}\n"
                        f"publisher: {json.dumps(PUBLISHERS.get(name, 'Wikipedia'))}\n---\n\n"
                        f"{markdown_paragraph(row['text'])}\n", encoding="utf-8")
        parsed = [p for p in parse_report(path).passages if p.kind == "paragraph"]
        if len(parsed) != 1 or parsed[0].text != flat_text(row["text"]):
            raise SystemExit(f"{path}: the passage did not survive Markdown intact")
        corpus.rewritten += flat_text(row["text"]) != " ".join(row["text"].split())
        key_of[row["pid"]] = (rid, parsed[0].id)
        corpus.keys.append(key_of[row["pid"]])
        corpus.texts.append(parsed[0].text)
        corpus.titles.append(row["title"])
    for q in read_jsonl(folder / "questions.jsonl"):
        gold = key_of[q["gold_passage_ids"][0]] if q["gold_passage_ids"] else None
        corpus.questions.append(Question(q["question"], tuple(q["answers"]), gold))
    return corpus
