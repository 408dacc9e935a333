"""Garbage-collector pauses and first-sight answer times of builds of the service, in process.

python benchmarks/gc_pauses.py NAME=PYTHON:INDEX_DIR [NAME=PYTHON:INDEX_DIR ...] [--questions 962]

Each side is a Python with a checkout's qa_service installed (for example another checkout's
`.venv/bin/python`) and an index that checkout built. Each side runs in its own process: the app
answers one question, moves start-up objects out of the collector's reach (as a served worker
does), then answers SQuAD dev questions (every 11th) through Flask's test client, each once
("first sight": no passage of it analysed before, unless an earlier question shared it) and then
again. It prints, per side, the collections of each generation (count, median and longest pause),
the objects still tracked, and the answer times of both passes; with two sides, the ratios of the
first to the second. The question log goes to an in-memory database, so no file is written.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The child runs under another checkout's Python and imports nothing from here but this file.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad-dev-v1.1.json"


def child(index: str, data: Path, count: int) -> dict[str, object]:
    """Measure one build in this process and return its numbers."""
    import gc

    from qa_service import create_app

    client = create_app({"INDEX_DIR": index, "DATABASE_URL": "sqlite://"}).test_client()
    squad = json.loads(data.read_text(encoding="utf-8"))
    questions = [q["question"] for article in squad["data"] for paragraph in article["paragraphs"]
                 for q in paragraph["qas"]][::11][:count]
    client.post("/api/ask", json={"question": "What do the reports recommend for assessments?"})
    gc.freeze()
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append((time.perf_counter() - started[0]) * 1000)

    passes: list[list[float]] = []
    gc.callbacks.append(timed)
    for _ in range(2):
        times = []
        for question in questions:
            begun = time.perf_counter()
            client.post("/api/ask", json={"question": question})
            times.append((time.perf_counter() - begun) * 1000)
        passes.append(sorted(times))
    gc.callbacks.remove(timed)

    def pct(values: list[float], share: float) -> float:
        return values[min(len(values) - 1, int(share * len(values)))] if values else 0.0

    return {
        "generations": {g: {"count": len(p), "median_ms": statistics.median(p) if p else 0.0,
                            "max_ms": max(p, default=0.0), "total_ms": sum(p)} for g, p in pauses.items()},
        "tracked": len(gc.get_objects()),
        "first": {"p50": pct(passes[0], 0.5), "p99": pct(passes[0], 0.99)},
        "again": {"p50": pct(passes[1], 0.5), "p99": pct(passes[1], 0.99)},
    }


def main() -> None:
    """Run every side in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sides", nargs="*", help="NAME=PYTHON:INDEX_DIR")
    parser.add_argument("--questions", type=int, default=962)
    parser.add_argument("--squad", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--child", nargs=2, metavar=("INDEX", "QUESTIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.squad, int(args.child[1]))))
        return
    if not args.sides:
        parser.error("name at least one side: NAME=PYTHON:INDEX_DIR")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from compare_serving import parse_side
    from squad import machine, revision

    print("Command:", " ".join([sys.executable, *sys.argv]))
    print(f"Machine: {machine()}; this checkout: {revision()}")
    results: list[tuple[str, dict]] = []
    for side in args.sides:
        parsed = parse_side(side)
        if parsed is None:
            parser.error(f"{side!r}: expected NAME=PYTHON:INDEX_DIR")
        name, python, index = parsed
        done = subprocess.run([python, __file__, "--squad", str(args.squad), "--child", index, str(args.questions)],
                              capture_output=True, text=True, timeout=1800, check=False)
        if done.returncode != 0:
            sys.exit(f"{name}: exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
        numbers = json.loads(done.stdout.strip().splitlines()[-1])
        results.append((name, numbers))
        gens = numbers["generations"]
        print(f"{name}: " + "; ".join(
            f"gen {g} {v['count']} collections, median {v['median_ms']:.1f} ms, longest {v['max_ms']:.1f} ms, "
            f"total {v['total_ms']:.0f} ms" for g, v in gens.items())
            + f"; {numbers['tracked']:,} objects tracked")
        print(f"{name}: first sight p50 {numbers['first']['p50']:.1f} ms, p99 {numbers['first']['p99']:.1f} ms; "
              f"again p50 {numbers['again']['p50']:.1f} ms, p99 {numbers['again']['p99']:.1f} ms")
    if len(results) == 2:
        (a, x), (b, y) = results
        print(f"{a} / {b}: gen 1 median pause {x['generations']['1']['median_ms'] / y['generations']['1']['median_ms']:.2f}×, "
              f"first sight p50 {x['first']['p50'] / y['first']['p50']:.2f}×, p99 {x['first']['p99'] / y['first']['p99']:.2f}×; "
              f"again p50 {x['again']['p50'] / y['again']['p50']:.2f}×, p99 {x['again']['p99'] / y['again']['p99']:.2f}×")


if __name__ == "__main__":
    main()
