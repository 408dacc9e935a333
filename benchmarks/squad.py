"""SQuAD v1.1 dev as reports: qa_service's ranking, findings and refusals beside bm25s and tantivy.

python benchmarks/squad.py [PATH] [--out DIR] [--max-questions N] [--abstention]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa_service.answering.answer import ask, best_unit, candidates
from qa_service.answering.cues import expected_answer
from qa_service.answering.ranking import RANKING
from qa_service.search.builder import BuildSummary, build_index
from qa_service.search.retrieval import IndexHolder, OpenIndex, query_terms

sys.path.insert(0, str(Path(__file__).resolve().parent))  # peers.py sits beside this file
from peers import Peer, build_peers  # noqa: E402

# load.py imports markdown_paragraph and prepare from this module.
from squad_reports import Corpus, Question, markdown_paragraph, prepare, subsample  # noqa: E402,F401

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "squad-dev-v1.1.json"
DEFAULT_OUT = REPO / "benchmarks" / "out"
LIMIT = 10
progress = functools.partial(tqdm, unit="q", file=sys.stderr, mininterval=1.0)  # (items, label)
MAX_REFUSED = 0.05  # the recommended threshold may refuse at most this share of answerable questions
THRESHOLDS = [round(0.05 * i, 2) for i in range(21)]
NOTES = """
- R@k, MRR@{limit}: rank of the question's own paragraph. qa_service ranks with abstention off
  (qa_service.answering.answer.MIN_COVERAGE set to 0.0 for that pass); 'refused' is a second pass of ask()
  with the real MIN_COVERAGE = {min_coverage}.
- Find@1: the first finding's text contains a gold answer (case-insensitive). For the peers it is
  picked from their first passage by qa_service.answering.answer.best_unit with qa_service's idf weights and
  answer cue, so Find@1 compares retrieval.
- qa_service indexes passage text + section + report title (its own schema, BM25F); the peers
  index passage text only.
- Time per question: qa_service = the whole ask() (search, rerank, picking up to {limit} findings);
  peers = tokenizing the question + search."""


@dataclass
class Run:
    """Per-question outcomes of one system."""

    name: str
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of the gold passage
    first_ok: list[bool] = field(default_factory=list)  # first finding holds a gold answer
    ms: list[float] = field(default_factory=list)
    refused: list[bool] = field(default_factory=list)


NO_REFUSAL = replace(RANKING, min_coverage=0.0)  # ranking measured with abstention off


def holds_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Return True when text contains one of the answer strings (case and spacing ignored)."""
    flat = " ".join(text.split()).lower()
    return any(" ".join(a.split()).lower() in flat for a in answers)


def rank_of(gold: tuple[str, str] | None, keys: list[tuple[str, str]]) -> int | None:
    """Return the 1-based rank of the gold passage among results, or None."""
    return keys.index(gold) + 1 if gold in keys else None


def run_qa_service(index: OpenIndex, questions: list[Question]) -> Run:
    """Rank with abstention off (MIN_COVERAGE 0), then ask again with the real threshold for refusals."""
    run = Run("qa_service")
    for q in progress(questions, "qa_service ranking"):
        started = time.perf_counter()
        reply = ask(index, q.text, limit=LIMIT, ranking=NO_REFUSAL)
        run.ms.append((time.perf_counter() - started) * 1000)
        cited = [(f.citation.report_id, f.citation.passage_id) for f in reply.findings]
        run.ranks.append(rank_of(q.gold, cited))
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
    # The same candidates ask() judges; abstention() still checks that the two agree.
    _query, ranked = candidates(index, question, LIMIT)
    return max((r.coverage for r in ranked), default=-1.0)


def machine() -> str:
    """Return the CPU model, core count and Python version."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
               platform.processor() or "unknown CPU")
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()} "
            f"({platform.system()} {platform.release()})")


def revision() -> str:
    """Return the commit measured, and whether qa_service/ had uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--", "qa_service")
    return f"{git('rev-parse', '--short', 'HEAD') or 'unknown'}{' + uncommitted qa_service changes' if dirty else ''}"


def fresh_index(content_dir: Path, index_dir: Path) -> BuildSummary:
    """Build an index from scratch: nothing reused from earlier runs (or earlier index formats)."""
    shutil.rmtree(index_dir, ignore_errors=True)
    return build_index(content_dir, index_dir)


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
    heads = ("R@1", "R@5", "MRR@10", "Find@1", "refused", "med ms", "p95 ms")
    print(f"{'system':<11} " + " ".join(f"{h:>{w}}" for h, w in zip(heads, (6, 6, 7, 7, 8, 7, 7))))
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
                row[r.name] = {"rank": r.ranks[n], "finding_ok": r.first_ok[n]}
                if r.refused:
                    row[r.name]["refused"] = r.refused[n]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def benchmark(articles: list[dict], out: Path, max_questions: int | None) -> None:
    """Index every article; measure qa_service and the peers on the same passages and questions."""
    timings: dict[str, float] = {}
    everything = set(range(len(articles)))
    corpus = stage("write + parse reports", timings,
                   lambda: prepare(articles, out / "squad-content", everything))
    summary = stage("qa_service build_index", timings,
                    lambda: fresh_index(out / "squad-content", out / "squad-index"))
    index = IndexHolder(out / "squad-index").get()
    questions = subsample(corpus.questions, max_questions)
    runs = [stage("qa_service ask (2 passes)", timings, lambda: run_qa_service(index, questions))]
    peers = stage("peers: index", timings, lambda: build_peers(corpus.texts))
    for peer in peers:
        runs.append(stage(f"{peer.name}: search", timings,
                          lambda p=peer: run_peer(p, corpus, index, questions)))
    write_results(out / "squad-results.jsonl", questions, runs)
    print(f"\n{summary.line()}; {len(articles)} articles, "
          f"{corpus.rewritten} paragraphs with '<'/'&' spaced out")
    print(f"{len(questions)} of {len(corpus.questions)} questions, top {LIMIT} findings or passages each\n")
    print_table(runs)
    print(NOTES.format(limit=LIMIT, min_coverage=RANKING.min_coverage)
          + "".join(f"\n- {p.note}" for p in peers))
    print("\nStage wall times: " + "; ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def abstention(articles: list[dict], out: Path, max_questions: int | None) -> None:
    """Index every other article; sweep MIN_COVERAGE over answerable and unanswerable questions."""
    indexed = set(range(0, len(articles), 2))
    corpus = prepare(articles, out / "squad-content-half", indexed)
    summary = fresh_index(out / "squad-content-half", out / "squad-index-half")
    index = IndexHolder(out / "squad-index-half").get()
    questions = subsample(corpus.questions, max_questions)
    best = [best_coverage(index, q.text) for q in progress(questions, "coverage")]
    # The helper must agree with ask() itself at the real threshold; check a sample.
    sample = list(range(0, len(questions), max(1, len(questions) // 300)))
    disagree = [i for i in sample if ask(index, questions[i].text, limit=LIMIT).found
                != (best[i] >= RANKING.min_coverage)]
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
        mark = "  <- current" if math.isclose(t, RANKING.min_coverage) else ""
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
    parser.add_argument("--abstention", action="store_true",
                        help="index half the articles; sweep MIN_COVERAGE")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    articles = json.loads(args.path.read_text(encoding="utf-8"))["data"]
    print(f"Command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"Machine: {machine()}")
    print(f"Code: {revision()}")
    (abstention if args.abstention else benchmark)(articles, args.out, args.max_questions)
    print(f"Total wall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
