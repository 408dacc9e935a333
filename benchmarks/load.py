"""The whole service under load on localhost, beside raw Whoosh search, as the corpus grows.

python benchmarks/load.py [PATH] [--sizes 1,10] [--requests 600] [--out DIR]

For each corpus size it builds the index (median time of three builds under 1,000 reports,
passages/s, size on disk), starts
`qa-service serve --workers 2` on a free localhost port, times the first answer (cold start),
sends a fixed number of SQuAD questions at concurrency 1 and 8, reads each worker's peak memory,
and times raw in-process Whoosh search for the same questions. Every loop is bounded in count and
time, and only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from qa_service.search.builder import build_index
from qa_service.search.retrieval import IndexHolder, query_terms, whoosh_query

sys.path.insert(0, str(Path(__file__).resolve().parent))
from squad import DEFAULT_DATA, DEFAULT_OUT, machine, markdown_paragraph, prepare  # noqa: E402

CLI = Path(sys.executable).parent / "qa-service"
PUBLISHER = "Generated from SQuAD v1.1 dev paragraphs (CC BY-SA 4.0)"
DEADLINE_S = 300  # no load phase may run longer than this, whatever happens
BUILD_REPEATS = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class LoadResult:
    """Latencies and counts of one fixed-size load phase."""

    concurrency: int
    ms: list[float]
    errors: int
    seconds: float

    def pct(self, p: float) -> float:
        """Return the p-th percentile latency in ms."""
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    @property
    def rps(self) -> float:
        """Return completed requests per second."""
        return len(self.ms) / self.seconds if self.seconds else 0.0


def scaled_content(articles: list[dict], content_dir: Path, copies: int, seed: int = 7) -> int:
    """Write `copies` variants of every article: each passage re-mixes sentences of its article."""
    rng = random.Random(seed)
    shutil.rmtree(content_dir, ignore_errors=True)
    content_dir.mkdir(parents=True)
    total = 0
    for n, article in enumerate(articles):
        sentences = [s for p in article["paragraphs"] for s in _SENTENCE.split(" ".join(p["context"].split()))]
        for c in range(copies):
            paragraphs = []
            for p in article["paragraphs"]:
                k = max(1, len(_SENTENCE.split(p["context"])))
                paragraphs.append(" ".join(rng.sample(sentences, min(k, len(sentences)))))
            title = f"{article['title'].replace('_', ' ')} variant {c + 1}"
            body = "\n\n".join(markdown_paragraph(p) for p in paragraphs)
            (content_dir / f"a{n:03d}-v{c:03d}.md").write_text(
                f"---\ntitle: {json.dumps(title)}\npublisher: {json.dumps(PUBLISHER)}\n---\n\n{body}\n",
                encoding="utf-8")
            total += len(paragraphs)
    return total


def free_port() -> int:
    """Return a free TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(base: str, question: str) -> dict:
    """POST one question and return the answer."""
    req = urllib.request.Request(base + "/api/ask", data=json.dumps({"question": question}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read())


def run_load(base: str, questions: list[str], concurrency: int) -> LoadResult:
    """Send every question once, from `concurrency` threads, and time each request."""
    lock, cursor, ms, errors = threading.Lock(), [0], [], [0]
    deadline = time.monotonic() + DEADLINE_S

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                if cursor[0] >= len(questions):
                    return
                q = questions[cursor[0]]
                cursor[0] += 1
            started = time.perf_counter()
            try:
                post(base, q)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    ms.append(elapsed)
            except OSError:
                with lock:
                    errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(concurrency, ms, errors[0], time.perf_counter() - started)


def worker_pids(master: int) -> list[int]:
    """Return the gunicorn worker processes of a master process."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def peak_rss_mb(pid: int) -> float:
    """Return a process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def raw_whoosh_ms(index_dir: Path, questions: list[str]) -> list[float]:
    """Time Whoosh alone: the same analysed OR query, top 20, stored fields read, in-process."""
    index = IndexHolder(index_dir).get()
    out = []
    for q in questions:
        started = time.perf_counter()
        terms = query_terms(q)
        if terms:
            results = index.searcher.search(whoosh_query({t: 1.0 for t in terms}), limit=20)
            [r.fields() for r in results[:10]]
        out.append((time.perf_counter() - started) * 1000)
    return out


def du_mb(path: Path) -> float:
    """Return the size of a folder's files in MB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def measure(label: str, content_dir: Path, index_dir: Path, questions: list[str], requests: int) -> dict:
    """Build, serve, load and measure one corpus; return one row of results."""
    # Builds of small corpora take seconds and vary run to run: report the median of three.
    builds = []
    for _ in range(BUILD_REPEATS if len(list(content_dir.glob("*.md"))) < 1000 else 1):
        shutil.rmtree(index_dir, ignore_errors=True)
        builds.append(build_index(content_dir, index_dir, full=True))
    build = sorted(builds, key=lambda b: b.seconds)[len(builds) // 2]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = subprocess.Popen([str(CLI), "serve", "--workers", "2", "--port", str(port), "--index", str(index_dir)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cold = None
        while cold is None and time.perf_counter() - started < 60:
            try:
                post(base, questions[0])
                cold = time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        run_load(base, questions[:50], 2)  # warm both workers
        c1 = run_load(base, questions[:requests], 1)
        c8 = run_load(base, questions[: requests * 2], 8)
        rss = [peak_rss_mb(p) for p in worker_pids(server.pid)]
    finally:
        server.terminate()
        server.wait(timeout=20)
    raw = raw_whoosh_ms(index_dir, questions[:requests])
    return {"label": label, "passages": build.passages, "build_s": build.seconds,
            "build_rate": build.passages / build.seconds, "index_mb": du_mb(index_dir), "cold_s": cold,
            "c1": c1, "c8": c8, "raw_p50": statistics.median(raw), "rss": rss}


def print_rows(rows: list[dict]) -> None:
    """Print the results table."""
    print(f"{'corpus':<22}{'passages':>9}{'build s':>9}{'pass/s':>8}{'index MB':>9}{'cold s':>7}"
          f"{'c1 p50':>8}{'c1 p95':>8}{'c1 p99':>8}{'c8 p50':>8}{'c8 p99':>8}{'c8 rps':>8}{'errors':>7}"
          f"{'raw p50':>8}{'svc/raw':>8}{'RSS MB':>8}")
    for r in rows:
        c1, c8 = r["c1"], r["c8"]
        ratio = c1.pct(50) / r["raw_p50"] if r["raw_p50"] else float("nan")
        print(f"{r['label']:<22}{r['passages']:>9}{r['build_s']:>9.1f}{r['build_rate']:>8.0f}{r['index_mb']:>9.1f}"
              f"{r['cold_s']:>7.2f}{c1.pct(50):>8.1f}{c1.pct(95):>8.1f}{c1.pct(99):>8.1f}{c8.pct(50):>8.1f}"
              f"{c8.pct(99):>8.1f}{c8.rps:>8.0f}{c1.errors + c8.errors:>7}{r['raw_p50']:>8.2f}{ratio:>8.2f}"
              f"{max(r['rss'], default=float('nan')):>8.0f}")
    print("latencies in ms; c1/c8 = concurrency 1/8; svc/raw = service c1 p50 over raw Whoosh p50; "
          "RSS = peak resident memory of the larger of the 2 workers")


def main(argv: list[str] | None = None) -> None:
    """Run the load benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default="1,10", help="corpus sizes as multiples of SQuAD dev (1 = 2,067 passages)")
    parser.add_argument("--requests", type=int, default=600, help="requests at concurrency 1 (twice as many at 8)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    articles = json.loads(args.path.read_text(encoding="utf-8"))["data"]
    questions = [qa["question"] for a in articles for p in a["paragraphs"] for qa in p["qas"]]
    random.Random(1).shuffle(questions)
    print(machine())
    print("command: python benchmarks/load.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        content = args.out / f"load-content-{size}"
        if size == 1:
            prepare(articles, content, set(range(len(articles))))
            label = "SQuAD dev"
        else:
            scaled_content(articles, content, size)
            label = f"SQuAD dev remixed x{size}"
        rows.append(measure(label, content, args.out / f"load-index-{size}", questions, args.requests))
        print_rows(rows[-1:])
    print()
    print_rows(rows)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
