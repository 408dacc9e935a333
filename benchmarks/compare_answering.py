"""Answer time of two checkouts side by side: ask() in process, the same SQuAD questions, the same index.

python benchmarks/compare_answering.py OLD_SOURCE NEW_SOURCE [--index DIR] [--every 5] [--pairs 2]

OLD_SOURCE and NEW_SOURCE are folders holding a `qa_service` package (a checkout, or a
`git worktree add /tmp/old <commit>`). Both sides run at the same time, each in its own process
pinned to its own core, so both see the same machine speed (this VM's speed drifts by up to 1.5×
within minutes); the cores are swapped every pair. Each side warms up on every question, then times
ask() (limit 10, as /api/ask) and the plain BM25F search on each, and the medians are compared as
ratios. The index must be one both versions read; the default is bench-quality's SQuAD index
(`make bench-quality` builds it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Not imported from quality.py: that imports qa_service from this checkout, and each side must
# import it from the checkout it times.
DEFAULT_INDEX = HERE / "out" / "quality-squad-index"
DEFAULT_SQUAD = HERE.parent.parent / "shared" / "data" / "squad-dev-v1.1.json"


def questions(squad: Path, every: int) -> list[str]:
    """Return every `every`-th SQuAD dev question, in file order."""
    articles = json.loads(squad.read_text(encoding="utf-8"))["data"]
    texts = [qa["question"] for a in articles for p in a["paragraphs"] for qa in p["qas"]]
    return texts[::every]


def side(source: str, index: str, squad: str, every: int, cpu: int) -> None:
    """Time one checkout's ask() and plain search on pinned `cpu`; print one JSON line."""
    os.sched_setaffinity(0, {cpu})
    sys.path.insert(0, source)
    import qa_service  # noqa: F401 - imported from `source`, checked below
    from qa_service.answering import thesaurus
    from qa_service.answering.answer import ask
    from qa_service.search.retrieval import IndexHolder, query_terms, search

    if not Path(qa_service.__file__).resolve().is_relative_to(Path(source).resolve()):
        raise SystemExit(f"{source}: imported qa_service from {qa_service.__file__} instead")
    opened = IndexHolder(Path(index)).get()
    asked = questions(Path(squad), every)
    thesaurus.load()
    for q in asked:  # warm-up: caches filled the same way on both sides
        ask(opened, q, limit=10)
    served, plain = [], []
    for q in asked:
        started = time.perf_counter()
        ask(opened, q, limit=10)
        served.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        search(opened, {t: 1.0 for t in query_terms(q)}, limit=10)
        plain.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"served": statistics.median(served), "served_p95": statistics.quantiles(served, n=20)[-1],
                      "plain": statistics.median(plain), "questions": len(asked)}))


def main() -> None:
    """Run the pairs and print each side's medians and the new/old ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--index", default=str(DEFAULT_INDEX))
    parser.add_argument("--squad", default=str(DEFAULT_SQUAD))
    parser.add_argument("--every", type=int, default=5, help="every k-th SQuAD dev question (default 5: 2,114)")
    parser.add_argument("--pairs", type=int, default=2, help="runs of both sides at once; cores swap each run")
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side(args.side, args.index, args.squad, args.every, args.cpu)
        return
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs two cores: each side runs pinned to its own")
    cores = sorted(os.sched_getaffinity(0))[:2]
    print(f"Command: {' '.join([sys.executable, *sys.argv])}")
    ratios = []
    for n in range(args.pairs):
        pinned = {"old": cores[n % 2], "new": cores[(n + 1) % 2]}
        procs = {name: subprocess.Popen(
            [sys.executable, __file__, args.old, args.new, "--index", args.index, "--squad", args.squad,
             "--every", str(args.every), "--side", getattr(args, name), "--cpu", str(pinned[name])],
            stdout=subprocess.PIPE, text=True) for name in ("old", "new")}
        result = {}
        for name, proc in procs.items():
            out, _ = proc.communicate(timeout=1800)
            if proc.returncode:
                raise SystemExit(f"{name} side failed ({proc.returncode})")
            result[name] = json.loads(out.strip().splitlines()[-1])
        ratio = result["new"]["served"] / result["old"]["served"]
        ratios.append(ratio)
        print(f"pair {n + 1} ({result['new']['questions']:,} questions; old on core {pinned['old']}, new on "
              f"core {pinned['new']}): served median old {result['old']['served']:.2f} ms, new "
              f"{result['new']['served']:.2f} ms ({ratio:.2f}×); p95 old {result['old']['served_p95']:.2f}, new "
              f"{result['new']['served_p95']:.2f} ms; plain search median old {result['old']['plain']:.2f}, "
              f"new {result['new']['plain']:.2f} ms")
    print(f"Served median, new / old: {' '.join(f'{r:.2f}×' for r in ratios)} (mean {statistics.mean(ratios):.2f}×)")


if __name__ == "__main__":
    main()
