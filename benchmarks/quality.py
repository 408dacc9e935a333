"""Answer quality on three corpora (SQuAD, WikiQA and SelQA dev): the service as served beside plain BM25.

python benchmarks/quality.py [--squad PATH] [--heldout DIR] [--out DIR] [--max-questions N]
                             [--ablation-questions N] [--corpora squad,wikiqa,selqa] [--no-ablations]

Per corpus, in one run and on the same passages and questions:
- `served`: ask() as /api/ask answers it: the real refusal threshold, limit 10, ranked by the
  findings a user sees (a refused question has no findings, so it is a miss);
- `plain BM25F`: the service's own search (qa_service.search.retrieval.search) over the question's
  terms, no rerank, no refusal;
- bm25s and tantivy over title + passage text.
Then, for corpora with unanswerable questions (WikiQA), the refusal trade-off over thresholds, and
an ablation table: each ranking feature switched off in turn, as served, on every corpus.
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa_service.answering import thesaurus
from qa_service.answering.answer import ask, best_unit, candidates
from qa_service.answering.cues import expected_answer
from qa_service.answering.ranking import RANKING, Ranking
from qa_service.search.retrieval import IndexHolder, OpenIndex, query_terms, search

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the loaders sit beside this file
import heldout_reports  # noqa: E402
import squad_reports  # noqa: E402
from peers import build_peers  # noqa: E402
from squad import fresh_index, holds_answer, machine, revision  # noqa: E402
from squad_reports import Corpus, Question, subsample  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SQUAD = REPO.parent / "shared" / "data" / "squad-dev-v1.1.json"
DEFAULT_HELDOUT = REPO.parent / "shared" / "data" / "heldout-dev"
DEFAULT_OUT = REPO / "benchmarks" / "out"
LIMIT = 10
THRESHOLDS = [round(0.05 * i, 2) for i in range(21)]
progress = functools.partial(tqdm, unit="q", file=sys.stderr, mininterval=2.0)
# Refusal goal (issue 11): at least this share of unanswerable questions refused …
GOAL_UNANSWERABLE_REFUSED = 0.40
# … with at most this share of answerable ones refused.
GOAL_ANSWERABLE_REFUSED = 0.10

# Each ranking feature switched off in turn: (label, ranking, thesaurus groups or None for the bundled).
ABLATIONS: list[tuple[str, Ranking, tuple | None]] = [
    ("no coverage rerank (coordination 0)", replace(RANKING, coordination=0.0), None),
    ("full coverage rerank (coordination 1, the old default)", replace(RANKING, coordination=1.0), None),
    ("no sentence boost", replace(RANKING, sentence_boost=0.0), None),
    ("no answer-type cue", replace(RANKING, cue_boost=0.0), None),
    ("no proximity of question words", replace(RANKING, proximity_boost=0.0), None),
    ("findings without the next sentence that leans on them", replace(RANKING, follow_on=False), None),
    ("title/heading-only words at half credit (context_credit 0.5, the old rule)", replace(RANKING, context_credit=0.5), None),
    ("report-name rule off (ordinary words)", replace(RANKING, report_names="off"), None),
    ("report-name words not judged (old rule)", replace(RANKING, report_names="discount"), None),
    ("form words judged", replace(RANKING, judge_form_words=True), None),
    ("no spelling correction", replace(RANKING, spelling=False), None),
    ("no spelling correction of capitalised words (names)", replace(RANKING, spelling_names=False), None),
    ("no compound words (\"never ending\" / NeverEnding, steelworkers → steel workers)", replace(RANKING, compounds=False), None),
    ("numbers in figures not matched to their names (\"5\" / \"five\")", replace(RANKING, numbers=False), None),
    ("findings after the first held to the first's bar (further_coverage = min_coverage)",
     replace(RANKING, further_coverage=RANKING.min_coverage), None),
    ("findings after the first not cut by score (further_share 0)", replace(RANKING, further_share=0.0), None),
    ("no thesaurus", RANKING, ()),
]


@dataclass
class Run:
    """Per-question outcomes of one system on one corpus (answerable and unanswerable alike)."""

    name: str
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of the gold passage
    first_ok: list[bool] = field(default_factory=list)  # first finding holds a gold answer
    ms: list[float] = field(default_factory=list)
    refused: list[bool] = field(default_factory=list)  # served only: no findings
    listed: list[int] = field(default_factory=list)  # served only: findings in each answer


@dataclass
class Metrics:
    """A run's scores over the answerable questions, and refusals split by answerability."""

    r1: float
    r5: float
    mrr: float
    f1: float
    median_ms: float
    p95_ms: float
    refused_answerable: float | None = None
    refused_unanswerable: float | None = None
    listed: float | None = None  # mean findings per answered question: how long a list users read


def share(flags: list[bool]) -> float:
    """Return the share of true values (0 for none)."""
    return sum(flags) / len(flags) if flags else 0.0


def rank_of(gold: tuple[str, str] | None, keys: list[tuple[str, str]]) -> int | None:
    """Return the 1-based rank of the gold passage among results, or None."""
    return keys.index(gold) + 1 if gold is not None and gold in keys else None


def metrics(run: Run, questions: list[Question]) -> Metrics:
    """Score a run: ranks over answerable questions, refusals over both kinds."""
    ans = [i for i, q in enumerate(questions) if q.gold is not None]
    una = [i for i, q in enumerate(questions) if q.gold is None]
    ranks = [run.ranks[i] for i in ans]
    m = Metrics(share([k == 1 for k in ranks]), share([k is not None and k <= 5 for k in ranks]),
                sum(1 / k for k in ranks if k) / max(1, len(ranks)), share([run.first_ok[i] for i in ans]),
                float(np.median(run.ms)), float(np.percentile(run.ms, 95)))
    if run.refused:
        m.refused_answerable = share([run.refused[i] for i in ans])
        m.refused_unanswerable = share([run.refused[i] for i in una]) if una else None
        answered = [n for n in run.listed if n]
        m.listed = sum(answered) / len(answered) if answered else 0.0
    return m


def first_finding(index: OpenIndex, text: str, question: str) -> str:
    """Return the clause qa_service's picker chooses from a passage, for systems without findings."""
    weights = {t: index.weight(t) for t in query_terms(question)}
    return best_unit(text, weights, expected_answer(question))


def run_served(index: OpenIndex, questions: list[Question], ranking: Ranking = RANKING,
               groups: tuple | None = None, label: str = "served") -> Run:
    """Ask every question as /api/ask does (limit 10, the real threshold) and score the findings."""
    run = Run(label)
    for q in progress(questions, label):
        started = time.perf_counter()
        reply = ask(index, q.text, limit=LIMIT, groups=groups, ranking=ranking)
        run.ms.append((time.perf_counter() - started) * 1000)
        cited = [(f.citation.report_id, f.citation.passage_id) for f in reply.findings]
        run.ranks.append(rank_of(q.gold, cited))
        run.first_ok.append(bool(reply.findings) and holds_answer(reply.findings[0].text, q.answers))
        run.refused.append(not reply.found)
        run.listed.append(len(reply.findings))
    return run


def run_plain(index: OpenIndex, questions: list[Question]) -> Run:
    """The service's own BM25F over the question's terms: no rerank, no refusal, no synonyms."""
    run = Run("plain BM25F")
    for q in progress(questions, "plain"):
        started = time.perf_counter()
        hits = search(index, {t: 1.0 for t in query_terms(q.text)}, limit=LIMIT)
        run.ms.append((time.perf_counter() - started) * 1000)
        run.ranks.append(rank_of(q.gold, [(h.passage.report_id, h.passage.id) for h in hits]))
        run.first_ok.append(bool(hits) and holds_answer(first_finding(index, hits[0].passage.text, q.text), q.answers))
    return run


def run_peers(corpus: Corpus, index: OpenIndex, questions: list[Question]) -> tuple[list[Run], list[str]]:
    """Index title + text with each peer and rank every question."""
    peers = build_peers([f"{title}\n{text}" for title, text in zip(corpus.titles, corpus.texts)])
    runs = []
    for peer in peers:
        run = Run(peer.name)
        for q in progress(questions, peer.name):
            started = time.perf_counter()
            found = peer.search(q.text, LIMIT)
            run.ms.append((time.perf_counter() - started) * 1000)
            run.ranks.append(rank_of(q.gold, [corpus.keys[i] for i in found]))
            run.first_ok.append(bool(found) and holds_answer(
                first_finding(index, corpus.texts[found[0]], q.text), q.answers))
        runs.append(run)
    return runs, [p.note for p in peers]


def best_support(index: OpenIndex, question: str, ranking: Ranking = RANKING) -> float:
    """Return the strongest refusal evidence among the passages ask() judges (-1 for none).

    ask() answers at threshold T exactly when this is at least T; the benchmark checks that.
    """
    _query, ranked = candidates(index, question, LIMIT, ranking=ranking)
    return max((r.support for r in ranked), default=-1.0)


def pct(x: float | None) -> str:
    """Format a share as a percentage with one decimal, or 'n/a'."""
    return "n/a" if x is None else f"{100 * x:.1f} %"


@dataclass
class CorpusResult:
    """Everything measured on one corpus."""

    name: str
    passages: int
    questions: int
    answerable: int
    total_questions: int
    build_s: float
    rows: dict[str, Metrics]
    notes: list[str]
    curve: list[tuple[float, float, float]] = field(default_factory=list)  # (T, answerable, unanswerable refused)
    served_ms: float = 0.0


def load_corpus(name: str, args: argparse.Namespace) -> Corpus:
    """Write one corpus's reports into the work folder and return its passages and questions."""
    content = args.out / f"quality-{name}-content"
    if name == "squad":
        articles = json.loads(args.squad.read_text(encoding="utf-8"))["data"]
        return squad_reports.prepare(articles, content, set(range(len(articles))))
    return heldout_reports.prepare(args.heldout / name, content)


def measure(name: str, corpus: Corpus, index: OpenIndex, questions: list[Question], build_s: float) -> CorpusResult:
    """Run every system on one corpus, and the refusal curve when some questions have no answer."""
    served = run_served(index, questions)
    runs = [served, run_plain(index, questions)]
    peer_runs, notes = run_peers(corpus, index, questions)
    runs += peer_runs
    result = CorpusResult(name, len(corpus.texts), len(questions), sum(q.gold is not None for q in questions),
                          len(corpus.questions), build_s, {r.name: metrics(r, questions) for r in runs}, notes)
    if any(q.gold is None for q in questions):
        support = [best_support(index, q.text) for q in progress(questions, "refusal curve")]
        disagree = sum((s >= RANKING.min_coverage) == refused for s, refused in zip(support, served.refused))
        if disagree:
            raise SystemExit(f"{name}: best_support disagrees with ask() on {disagree} questions")
        ans = [s for s, q in zip(support, questions) if q.gold is not None]
        una = [s for s, q in zip(support, questions) if q.gold is None]
        result.curve = [(t, share([s < t for s in ans]), share([s < t for s in una])) for t in THRESHOLDS]
    with (Path(index.path).parent.parent.parent / f"quality-{name}-results.jsonl").open("w", encoding="utf-8") as out:
        for n, q in enumerate(questions):
            row = {"question": q.text, "answers": q.answers, "gold": q.gold}
            row |= {r.name: {"rank": r.ranks[n], "finding_ok": r.first_ok[n]} for r in runs}
            row["served"]["refused"] = served.refused[n]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return result


def print_corpus(res: CorpusResult) -> None:
    """Print one corpus's table (Markdown), with the peers as ratios of the served service."""
    print(f"\n### {res.name}: {res.passages:,} passages; {res.questions:,} of {res.total_questions:,} questions "
          f"({res.answerable:,} answerable); index built in {res.build_s:.1f} s\n")
    print("| system | R@1 | R@5 | MRR@10 | Finding@1 | median ms | p95 ms | refused (answerable) | refused (unanswerable) "
          "| findings per answer |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, m in res.rows.items():
        bold = "**" if name == "served" else ""
        listed = f"{m.listed:.1f}" if m.listed is not None else "n/a"
        print(f"| {bold}{name}{bold} | {m.r1:.3f} | {m.r5:.3f} | {m.mrr:.3f} | {m.f1:.3f} | {m.median_ms:.2f} | "
              f"{m.p95_ms:.2f} | {pct(m.refused_answerable)} | {pct(m.refused_unanswerable)} | {listed} |")
    s = res.rows["served"]
    ratios = "; ".join(f"{name} R@1 {s.r1 / m.r1:.3f}×, MRR {s.mrr / m.mrr:.3f}×, Finding@1 {s.f1 / m.f1:.3f}×, "
                       f"median time {s.median_ms / m.median_ms:.1f}×"
                       for name, m in res.rows.items() if name != "served" and m.r1 and m.f1)
    print(f"\nServed vs each (same run): {ratios}.")
    plain = max(res.rows["plain BM25F"].r1, res.rows["bm25s"].r1)
    print(f"Goal R@1 ≥ plain BM25 + 2 points = {plain + 0.02:.3f}: served {s.r1:.3f} "
          f"({'met' if s.r1 >= plain + 0.02 else 'missed'}).")
    if res.curve:
        print("\nRefusal trade-off (threshold on the best passage's support):\n")
        print("| threshold | answerable refused | unanswerable refused |")
        print("| ---: | ---: | ---: |")
        for t, a, u in res.curve:
            mark = " (used)" if abs(t - RANKING.min_coverage) < 1e-9 else ""
            ok = " ✓" if a <= GOAL_ANSWERABLE_REFUSED and u >= GOAL_UNANSWERABLE_REFUSED else ""
            print(f"| {t:.2f}{mark} | {pct(a)} | {pct(u)}{ok} |")


def ablations(corpora: dict[str, tuple[OpenIndex, list[Question]]], base: dict[str, Metrics]) -> None:
    """Switch each ranking feature off in turn and print its effect (points) on every corpus."""
    names = list(corpora)
    print("\n### Ablations: one feature off, as served (change in points vs the full service)\n")
    heads = [f"{n} {m}" for n in names for m in ("R@1", "MRR", "F@1")]
    if any(base[n].refused_unanswerable is not None for n in names):
        heads += [f"{n} refused ans/unans" for n in names if base[n].refused_unanswerable is not None]
    heads.append("findings per answer (" + " / ".join(names) + ")")
    print("| feature off | " + " | ".join(heads) + " |")
    print("| --- |" + " ---: |" * len(heads))
    base_cells = [f"{v:.3f}" for n in names for v in (base[n].r1, base[n].mrr, base[n].f1)]
    base_cells += [f"{pct(base[n].refused_answerable)} / {pct(base[n].refused_unanswerable)}"
                   for n in names if base[n].refused_unanswerable is not None]
    base_cells.append(" / ".join(f"{base[n].listed:.1f}" for n in names))
    print("| (full service) | " + " | ".join(base_cells) + " |")
    for label, ranking, groups in ABLATIONS:
        cells, refusals, listed = [], [], []
        for n in names:
            index, questions = corpora[n]
            m = metrics(run_served(index, questions, ranking, groups, label=f"{n}: {label}"), questions)
            b = base[n]
            cells += [f"{100 * (m.r1 - b.r1):+.1f}", f"{100 * (m.mrr - b.mrr):+.1f}", f"{100 * (m.f1 - b.f1):+.1f}"]
            if b.refused_unanswerable is not None:
                refusals.append(f"{pct(m.refused_answerable)} / {pct(m.refused_unanswerable)}")
            listed.append(f"{m.listed:.1f}")
        print(f"| {label} | " + " | ".join(cells + refusals + [" / ".join(listed)]) + " |", flush=True)


def stage(label: str, timings: dict[str, float], work: Callable[[], object]) -> object:
    """Run one stage and record its wall time."""
    started = time.perf_counter()
    result = work()
    timings[label] = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and measure every corpus named."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--heldout", type=Path, default=DEFAULT_HELDOUT,
                        help="folder holding wikiqa/ and selqa/ (passages.jsonl, questions.jsonl)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="work folder (content, indexes, results)")
    parser.add_argument("--corpora", default="squad,wikiqa,selqa", help="comma-separated: squad, wikiqa, selqa")
    parser.add_argument("--max-questions", type=int, default=None,
                        help="per corpus, every k-th question, at most N (default: all)")
    parser.add_argument("--ablation-questions", type=int, default=None,
                        help="per corpus, at most N questions for the ablations (default: as --max-questions)")
    parser.add_argument("--no-ablations", action="store_true", help="skip the ablation table")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"Command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"Machine: {machine()} (shared with other work: times are noisy)")
    print(f"Code: {revision()}")
    thesaurus.load()  # read once, not inside the first timed question
    timings: dict[str, float] = {}
    results: list[CorpusResult] = []
    opened: dict[str, tuple[OpenIndex, Corpus]] = {}
    for name in [c.strip() for c in args.corpora.split(",") if c.strip()]:
        corpus = stage(f"{name}: write reports", timings, lambda n=name: load_corpus(n, args))
        index_dir = args.out / f"quality-{name}-index"
        t0 = time.perf_counter()
        fresh_index(args.out / f"quality-{name}-content", index_dir)
        build_s = time.perf_counter() - t0
        index = IndexHolder(index_dir).get()
        questions = subsample(corpus.questions, args.max_questions)
        results.append(stage(f"{name}: measure", timings,
                             lambda n=name, c=corpus, i=index, q=questions, b=build_s: measure(n, c, i, q, b)))
        opened[name] = (index, corpus)
        print_corpus(results[-1])
        for note in results[-1].notes if len(results) == 1 else []:
            print(f"- {note}")
        sys.stdout.flush()
    if not args.no_ablations:
        limit = args.ablation_questions or args.max_questions
        sets = {n: (i, subsample(c.questions, limit)) for n, (i, c) in opened.items()}
        base = {n: metrics(run_served(i, q, label=f"{n}: full"), q) for n, (i, q) in sets.items()}
        print("\nAblation questions per corpus: " + ", ".join(f"{n} {len(q):,}" for n, (_i, q) in sets.items()))
        stage("ablations", timings, lambda: ablations(sets, base))
    print("\nStage wall times: " + "; ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print(f"Total wall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
