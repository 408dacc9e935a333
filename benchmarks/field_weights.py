"""The title field's BM25F weight, chosen across corpora: leave one corpus out, check on it.

python benchmarks/field_weights.py [--weights 0.2,0.4,0.8,1.2] [--squad-questions 3000]
                                   [--squad PATH] [--heldout DIR] [--out DIR]

The weight is applied when passages are indexed (qa_service.search.format.FIELD_BOOSTS), so each
weight rebuilds the three corpora's indexes under --out/field-weights/ (from a copy of the content
of its own, so `make bench-quality` may run beside it). For every weight
it prints R@1 as served and of the plain BM25F search on SQuAD, WikiQA and SelQA dev. Then, for
each corpus in turn, it picks the weight with the best mean served R@1 on the other two and shows
what that weight does to the corpus left out: a weight that only suits one corpus shows up there.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path

from qa_service.search import format as index_format
from qa_service.search.builder import build_index
from qa_service.search.retrieval import IndexHolder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402
from squad import machine, revision  # noqa: E402
from squad_reports import subsample  # noqa: E402

CORPORA = ("squad", "wikiqa", "selqa")


def measure(weight: float, args: argparse.Namespace, corpora: dict) -> dict[str, tuple[float, float]]:
    """Return {corpus: (served R@1, plain BM25F R@1)} with the title field at `weight`."""
    index_format.FIELD_BOOSTS["title"] = weight
    scores = {}
    for name, corpus in corpora.items():
        index_dir = args.out / f"{name}-index"
        shutil.rmtree(index_dir, ignore_errors=True)
        build_index(args.out / f"quality-{name}-content", index_dir)
        index = IndexHolder(index_dir).get()
        questions = subsample(corpus.questions, args.squad_questions if name == "squad" else None)
        served = quality.metrics(quality.run_served(index, questions, label=f"{name} {weight}"), questions)
        plain = quality.metrics(quality.run_plain(index, questions), questions)
        scores[name] = (served.r1, plain.r1)
    return scores


def main(argv: list[str] | None = None) -> None:
    """Measure every weight, then choose one per left-out corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="0.2,0.4,0.8,1.2", help="title field weights to try")
    parser.add_argument("--squad-questions", type=int, default=3000, help="SQuAD dev questions (every k-th)")
    parser.add_argument("--squad", type=Path, default=quality.DEFAULT_SQUAD)
    parser.add_argument("--heldout", type=Path, default=quality.DEFAULT_HELDOUT)
    parser.add_argument("--out", type=Path, default=quality.DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out = args.out / "field-weights"  # its own copies: bench-quality may run beside it
    started = time.perf_counter()
    print(f"Command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"Machine: {machine()}")
    print(f"Code: {revision()}; title weight in the code: {index_format.FIELD_BOOSTS['title']}")
    corpora = {name: quality.load_corpus(name, args) for name in CORPORA}
    weights = [float(w) for w in args.weights.split(",")]
    table = {w: measure(w, args, corpora) for w in weights}
    print("\n| title weight | " + " | ".join(f"{n} served | {n} plain" for n in CORPORA) + " |")
    print("| ---: |" + " ---: | ---: |" * len(CORPORA))
    for w, scores in table.items():
        print(f"| {w} | " + " | ".join(f"{scores[n][0]:.3f} | {scores[n][1]:.3f}" for n in CORPORA) + " |")
    print("\nLeft out | chosen on the other two | served R@1 there at each weight")
    for left in CORPORA:
        others = [n for n in CORPORA if n != left]
        chosen = max(weights, key=lambda w: statistics.mean(table[w][n][0] for n in others))
        cells = ", ".join(f"{w}: {table[w][left][0]:.3f}" for w in weights)
        print(f"{left} | {chosen} | {cells}")
    print(f"\nTotal wall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
