"""SQuAD v1.1 dev as reports: qa_service's ranking, findings and refusals beside bm25s and tantivy.

python benchmarks/squad.py [PATH] [--out DIR] [--max-questions N] [--abstention]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import markdown
import numpy as np
from tqdm import tqdm

from qa_service import answer as qa_answer
from qa_service.answer import CANDIDATES, ask, best_unit, coverage, rerank
from qa_service.content import parse_report
from qa_service.cues import expected_answer
from qa_service.indexing import build_index
from qa_service.retrieval import IndexHolder, OpenIndex, query_terms, search

sys.path.insert(0, str(Path(__file__).resolve().parent))  # peers.py sits beside this file
from peers import Peer, build_peers  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "squad-dev-v1.1.json"
DEFAULT_OUT = REPO / "benchmarks" / "out"
PUBLISHER = "Wikipedia (SQuAD v1.1 dev, CC BY-SA 4.0)"
LIMIT = 10
MAX_REFUSED = 0.05  # the recommended threshold may refuse at most this share of answerable questions
THRESHOLDS = [round(0.05 * i, 2) for i in range(21)]
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
    questions: list[Question] = field(default_factory=list)
    rewritten: int = 0  # paragraphs whose text needed '<'/'&' neutralised


@dataclass
class Run:
    """Per-question outcomes of one system."""

    name: str
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of the gold passage
    first_ok: list[bool] = field(default_factory=list)  # first finding holds a gold answer
    ms: list[float] = field(default_factory=list)
    refused: list[bool] = field(default_factory=list)


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
                raise SystemExit(f"{path}: {len(passages)} paragraph passages for {len(paragraphs)} paragraphs")
            for i, (para, passage) in enumerate(zip(paragraphs, passages)):
                if passage.text != flat_text(para["context"]):
                    raise SystemExit(f"{path}: paragraph {i + 1} did not survive Markdown: {passage.text[:80]!r}")
                corpus.rewritten += flat_text(para["context"]) != " ".join(para["context"].split())
                gold[i] = (rid, passage.id)
                corpus.keys.append(gold[i])
                corpus.texts.append(passage.text)
        for para, key in zip(paragraphs, gold):
            corpus.questions += [Question(q["question"], tuple(a["text"] for a in q["answers"]), key)
                                 for q in para["qas"]]
    return corpus


def subsample(questions: list[Question], limit: int | None) -> list[Question]:
    """Return every k-th question so that at most `limit` remain (all of them without a limit)."""
    if not limit or limit >= len(questions):
        return questions
    return questions[:: max(1, len(questions) // limit)][:limit]


@contextlib.contextmanager
def min_coverage(value: float) -> Iterator[None]:
    """Set qa_service.answer.MIN_COVERAGE (read by ask() at call time) for a block, then restore it."""
    saved, qa_answer.MIN_COVERAGE = qa_answer.MIN_COVERAGE, value
    try:
        yield
    finally:
        qa_answer.MIN_COVERAGE = saved


def holds_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Return True when text contains one of the answer strings (case and spacing ignored)."""
    flat = " ".join(text.split()).lower()
    return any(" ".join(a.split()).lower() in flat for a in answers)


def rank_of(gold: tuple[str, str] | None, keys: list[tuple[str, str]]) -> int | None:
    """Return the 1-based rank of the gold passage among results, or None."""
    return keys.index(gold) + 1 if gold in keys else None


def progress(items: list[Question], label: str) -> Iterator[Question]:
    """Iterate with a progress bar on stderr."""
    return iter(tqdm(items, desc=label, unit="q", file=sys.stderr, mininterval=1.0))


def run_qa_service(index: OpenIndex, questions: list[Question]) -> Run:
    """Rank with abstention off (MIN_COVERAGE 0), then ask again with the real threshold for refusals."""
    run = Run("qa_service")
    with min_coverage(0.0):
        for q in progress(questions, "qa_service ranking"):
            started = time.perf_counter()
            reply = ask(index, q.text, limit=LIMIT)
            run.ms.append((time.perf_counter() - started) * 1000)
            run.ranks.append(rank_of(q.gold, [(f.citation.report_id, f.citation.passage_id) for f in reply.findings]))
            run.first_ok.append(bool(reply.findings) and holds_answer(reply.findings[0].text, q.answers))
    for q in progress(questions, "qa_service refusals"):
        run.refused.append(not ask(index, q.text, limit=LIMIT).found)
    return run


def run_peer(peer: Peer, corpus: Corpus, index: OpenIndex, questions: list[Question]) -> Run:
    """Rank with a peer; its first passage's finding is picked by qa_service's own best_unit."""
    run = Run(peer.name)
    for q in progress(questions, peer.name):
        started = time.perf_counter()
        found = peer.search(q.text, LIMIT)
        run.ms.append((time.perf_counter() - started) * 1000)
        run.ranks.append(rank_of(q.gold, [corpus.keys[i] for i in found]))
        weights = {t: index.weight(t) for t in query_terms(q.text)}
        text = best_unit(corpus.texts[found[0]], weights, expected_answer(q.text)) if found else ""
        run.first_ok.append(bool(found) and holds_answer(text, q.answers))
    return run


def best_coverage(index: OpenIndex, question: str) -> float:
    """Return the top coverage among the hits ask() would weigh (-1 for none): found at T iff >= T."""
    own = query_terms(question)  # mirrors ask() for a question without history or report filter
    weights = {t: index.weight(t) for t in own}
    hits = search(index, {t: 1.0 for t in own}, limit=max(CANDIDATES, LIMIT))
    hits = rerank(hits, weights, expected_answer(question))
    return max((coverage(h, weights) for h in hits), default=-1.0)


def machine() -> str:
    """Return the CPU model, core count and Python version."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
               platform.processor() or "unknown CPU")
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()} "
            f"({platform.system()} {platform.release()})")


def stage(label: str, timings: dict[str, float], work: Callable[[], object]) -> object:
    """Run one stage of the benchmark and record its wall time."""
    started = time.perf_counter()
    result = work()
    timings[label] = time.perf_counter() - started
    return result


def share(flags: list[bool]) -> float:
    """Return the share of true values (0 for none)."""
    return sum(flags) / len(flags) if flags else 0.0


def print_table(runs: list[Run]) -> None:
    """Print the metrics of each system, one row each."""
    print(f"{'system':<11} {'R@1':>6} {'R@5':>6} {'MRR@10':>7} {'Find@1':>7} {'refused':>8} {'med ms':>7} {'p95 ms':>7}")
    for r in runs:
        mrr = sum(1 / k for k in r.ranks if k) / len(r.ranks)
        refused = f"{share(r.refused):8.1%}" if r.refused else f"{'n/a':>8}"
        print(f"{r.name:<11} {share([k == 1 for k in r.ranks]):6.1%} "
              f"{share([k is not None and k <= 5 for k in r.ranks]):6.1%} {mrr:7.3f} "
              f"{share(r.first_ok):7.1%} {refused} {np.median(r.ms):7.2f} {np.percentile(r.ms, 95):7.2f}")


def write_results(path: Path, questions: list[Question], runs: list[Run]) -> None:
    """Write one JSON line per question with every system's gold rank, for looking at failures."""
    with path.open("w", encoding="utf-8") as out:
        for n, q in enumerate(questions):
            row = {"question": q.text, "answers": q.answers, "gold": q.gold}
            for r in runs:
                row[r.name] = {"rank": r.ranks[n], "finding_ok": r.first_ok[n], **({"refused": r.refused[n]} if r.refused else {})}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def benchmark(articles: list[dict], out: Path, max_questions: int | None) -> None:
    """Index every article; measure qa_service and the peers on the same passages and questions."""
    timings: dict[str, float] = {}
    corpus = stage("write + parse reports", timings, lambda: prepare(articles, out / "squad-content", set(range(len(articles)))))
    summary = stage("qa_service build_index", timings, lambda: build_index(out / "squad-content", out / "squad-index"))
    index = IndexHolder(out / "squad-index").get()
    questions = subsample(corpus.questions, max_questions)
    runs = [stage("qa_service ask (2 passes)", timings, lambda: run_qa_service(index, questions))]
    peers = stage("peers: index", timings, lambda: build_peers(corpus.texts))
    for peer in peers:
        runs.append(stage(f"{peer.name}: search", timings, lambda p=peer: run_peer(p, corpus, index, questions)))
    write_results(out / "squad-results.jsonl", questions, runs)
    print(f"\n{summary.line()}; {len(articles)} articles, {corpus.rewritten} paragraphs with '<'/'&' spaced out")
    print(f"{len(questions)} of {len(corpus.questions)} questions, top {LIMIT} findings or passages each\n")
    print_table(runs)
    print(f"\n- R@k, MRR@{LIMIT}: rank of the question's own paragraph. qa_service ranks with abstention off "
          f"(qa_service.answer.MIN_COVERAGE set to 0.0 for that pass);\n  'refused' is a second pass of ask() "
          f"with the real MIN_COVERAGE = {qa_answer.MIN_COVERAGE}.")
    print("- Find@1: first finding's text contains a gold answer (case-insensitive). For the peers it is picked "
          "from their first passage\n  by qa_service.answer.best_unit with qa_service's idf weights and answer cue, "
          "so Find@1 compares retrieval.")
    print("- qa_service indexes passage text + section + report title (its normal schema, BM25F); the peers index "
          "passage text only.")
    print("- Times per question: qa_service = whole ask() (search, rerank, picking up to 10 findings); "
          "peers = query tokenizing + search.")
    for peer in peers:
        print(f"- {peer.note}")
    print(f"\nStage wall times: " + "; ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def abstention(articles: list[dict], out: Path, max_questions: int | None) -> None:
    """Index every other article; sweep MIN_COVERAGE over answerable and unanswerable questions."""
    indexed = set(range(0, len(articles), 2))
    corpus = prepare(articles, out / "squad-content-half", indexed)
    summary = build_index(out / "squad-content-half", out / "squad-index-half")
    index = IndexHolder(out / "squad-index-half").get()
    questions = subsample(corpus.questions, max_questions)
    best = [best_coverage(index, q.text) for q in progress(questions, "coverage")]
    # The helper must agree with ask() itself at the real threshold; check a sample.
    sample = list(range(0, len(questions), max(1, len(questions) // 300)))
    disagree = [i for i in sample if ask(index, questions[i].text, limit=LIMIT).found
                != (best[i] >= qa_answer.MIN_COVERAGE)]
    if disagree:
        raise SystemExit(f"best_coverage disagrees with ask() on {len(disagree)} of {len(sample)} questions")
    answerable = [b for b, q in zip(best, questions) if q.gold is not None]
    unanswerable = [b for b, q in zip(best, questions) if q.gold is None]
    print(f"\n{summary.line()}: {len(indexed)} of {len(articles)} articles (every other one, from the first)")
    print(f"{len(answerable)} answerable and {len(unanswerable)} unanswerable questions; "
          f"ask() agreed with the coverage helper on all {len(sample)} checked\n")
    print(f"{'MIN_COVERAGE':>12} {'answerable refused':>19} {'unanswerable answered':>22}")
    recommended = 0.0
    for t in THRESHOLDS:
        refused = share([b < t for b in answerable])
        mark = "  <- current" if math.isclose(t, qa_answer.MIN_COVERAGE) else ""
        print(f"{t:>12.2f} {refused:>19.1%} {share([b >= t for b in unanswerable]):>22.1%}{mark}")
        if refused <= MAX_REFUSED:
            recommended = t
    print(f"\nRecommended MIN_COVERAGE = {recommended:.2f}: the largest threshold refusing at most "
          f"{MAX_REFUSED:.0%} of answerable questions ({share([b < recommended for b in answerable]):.1%});\n"
          f"it refuses {share([b < recommended for b in unanswerable]):.1%} of unanswerable ones.")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the benchmark or the abstention sweep."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DATA, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="work folder (content, index, results)")
    parser.add_argument("--max-questions", type=int, default=None, help="every k-th question, at most N")
    parser.add_argument("--abstention", action="store_true", help="index half the articles; sweep MIN_COVERAGE")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    articles = json.loads(args.path.read_text(encoding="utf-8"))["data"]
    print(f"Command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"Machine: {machine()}")
    (abstention if args.abstention else benchmark)(articles, args.out, args.max_questions)
    print(f"Total wall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
