"""Two builds of the service over HTTP, taking turns, so a slow spell of the machine hits both.

python benchmarks/compare_serving.py NAME=QA_SERVICE_EXE:INDEX_DIR NAME=QA_SERVICE_EXE:INDEX_DIR
                                     [--reps 3] [--seconds 10] [--workers 2] [--squad PATH]

Each side is a `qa-service` executable (for example another checkout's `.venv/bin/qa-service`)
and an index that checkout built. For every repetition, each side in turn is started with
`--workers` workers (two by default) on a free localhost port, warmed for 5 s at concurrency 8,
then measured with wrk for `--seconds` at concurrency 1 and at 8, and stopped. Questions are SQuAD dev's (every 11th). It
prints one line per run and the mean of each side, with the ratio of the first side to the
second. Only 127.0.0.1 is contacted; every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import free_port  # noqa: E402
from scale import wait_healthy, wrk_phase  # noqa: E402
from squad import DEFAULT_DATA, machine, revision  # noqa: E402


def measure(exe: str, index: str, questions_file: Path, seconds: int, workers: int = 2) -> dict[str, float]:
    """Serve one side, warm it, and return its c1 p50 / p99 (ms) and c8 req/s and errors."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([exe, "serve", "--workers", str(workers), "--port", str(port), "--index", index],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_healthy(base)
        wrk_phase(base, questions_file, 8, 5)
        c1 = wrk_phase(base, questions_file, 1, seconds)
        c8 = wrk_phase(base, questions_file, 8, seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {"c1_p50": c1["p50"], "c1_p99": c1["p99"], "c8_rps": c8["rps"], "errors": c1["errors"] + c8["errors"]}


def parse_side(side: str) -> tuple[str, str, str] | None:
    """Return NAME, EXECUTABLE and INDEX_DIR of "NAME=EXECUTABLE:INDEX_DIR", or None when malformed."""
    name, _, rest = side.partition("=")
    exe, _, index = rest.partition(":")
    return (name, exe, index) if name and exe and index else None


def main(argv: list[str] | None = None) -> None:
    """Measure both sides in turn and print each run and the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sides", nargs=2, help="NAME=QA_SERVICE_EXE:INDEX_DIR")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--squad", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    sides = []
    for side in args.sides:
        parsed = parse_side(side)
        if parsed is None:
            parser.error(f"{side!r}: expected NAME=QA_SERVICE_EXE:INDEX_DIR")
        sides.append(parsed)
    print(f"Command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"Machine: {machine()}; this checkout: {revision()}")
    articles = json.loads(args.squad.read_text(encoding="utf-8"))["data"]
    questions = [q["question"] for a in articles for p in a["paragraphs"] for q in p["qas"]][::11]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _e, _i in sides}
    with tempfile.TemporaryDirectory() as tmp:
        questions_file = Path(tmp) / "questions.txt"
        questions_file.write_text("\n".join(json.dumps(q) for q in questions) + "\n", encoding="utf-8")
        for rep in range(args.reps):
            for name, exe, index in sides:
                result = measure(exe, index, questions_file, args.seconds, args.workers)
                runs[name].append(result)
                print(f"run {rep + 1} {name}: c1 p50 {result['c1_p50']:.1f} ms, p99 {result['c1_p99']:.1f} ms; "
                      f"c8 {result['c8_rps']:.1f} req/s; errors {result['errors']:.0f}", flush=True)
                time.sleep(1)
    means = {name: {k: statistics.mean(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    for name, m in means.items():
        print(f"mean {name}: c1 p50 {m['c1_p50']:.1f} ms, p99 {m['c1_p99']:.1f} ms; c8 {m['c8_rps']:.1f} req/s; "
              f"errors {m['errors']:.0f}")
    (a, ma), (b, mb) = means.items()
    print(f"{a} / {b}: c1 p50 {ma['c1_p50'] / mb['c1_p50']:.2f}×, c1 p99 {ma['c1_p99'] / mb['c1_p99']:.2f}×, "
          f"c8 req/s {ma['c8_rps'] / mb['c8_rps']:.2f}×")


if __name__ == "__main__":
    main()
