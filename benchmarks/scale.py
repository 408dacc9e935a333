"""The national-repository size on one machine: 1,700 reports of 300 passages (510,000 passages).

python benchmarks/scale.py [PATH] [--reports 7,334,1700] [--seconds 30] [--out DIR] [--skip-build]

For each corpus size (in reports of 300 passages, ten sections of 30 each, every passage a seeded
remix of 1-4 sentences of one SQuAD dev article) it:

1. writes the corpus (skipped when the same corpus is already written: a stamp file records it);
2. builds it in full with `qa-service index build --full` in a child process: passages/s, peak
   resident memory of the build, index size on disk;
3. starts `qa-service serve --workers 2` on a free 127.0.0.1 port, warms both workers, and drives
   `POST /api/ask` with SQuAD dev questions through Debian's `wrk` (a Lua script cycles through the
   questions): p50/p99 at concurrency 1, requests/s at concurrency 8, errors (non-2xx, timeouts,
   socket errors); without wrk, a bounded Python load generator does the same;
4. reads each worker's peak resident memory (VmHWM);
5. adds one new report through the admin job API (`POST /api/admin/reindex` → 202, then polls
   `GET /api/admin/jobs/<id>`) and times how long after the POST the running server first answers
   a question from the new report; bytes newly written by that incremental build (files that are
   not hard links of the previous version) show it did not rewrite the index; the report is then
   removed again the same way.

Every load phase is bounded in time and only 127.0.0.1 is contacted. Work files go under
benchmarks/out/ (corpus, index, results JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import du_mb, free_port, peak_rss_mb, run_load, worker_pids
from squad import DEFAULT_DATA, DEFAULT_OUT, machine, markdown_paragraph, revision

from qa_service.search.format import SCHEMA_VERSION

CLI = Path(sys.executable).parent / "qa-service"
PUBLISHER = "Generated from SQuAD v1.1 dev sentences (CC BY-SA 4.0)"
PASSAGES_PER_REPORT = 300
SECTIONS = 10
SEED = 16
TOKEN = "bench-scale-token"
POLL_S = 0.1
INCREMENTAL_DEADLINE_S = 300
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
SECTION_WORDS = ["Background", "Findings", "Practice", "Agencies", "Assessment", "Information sharing",
                 "Management", "Recommendations", "Learning", "Conclusions"]

LUA = r"""
local questions = {}
for line in io.lines(os.getenv("SCALE_QUESTIONS")) do questions[#questions + 1] = line end
local counter = 0
local threads = {}
function setup(thread)
  thread:set("offset", #threads * 997)
  table.insert(threads, thread)
end
function init(args)
  counter = offset or 0
end
function request()
  counter = counter + 1
  local body = '{"question": ' .. questions[(counter % #questions) + 1] .. '}'
  return wrk.format("POST", "/api/ask", {["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('SCALE_RESULT {"requests": %d, "seconds": %f, "errors": %d, '
    .. '"p50": %f, "p90": %f, "p99": %f, "max": %f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


# ---------------------------------------------------------------------------------------- corpus

def article_sentences(articles: list[dict]) -> list[tuple[str, list[str]]]:
    """Return each article's title and its sentences."""
    out = []
    for article in articles:
        sentences = [s for p in article["paragraphs"] for s in _SENTENCE.split(" ".join(p["context"].split()))]
        out.append((article["title"].replace("_", " "), [s for s in sentences if len(s) > 20]))
    return out


def report_text(n: int, title: str, sentences: list[str], rng: random.Random, slug: str) -> str:
    """Return one report of 300 passages in ten sections, each passage 1-4 sentences of its article."""
    per_section = PASSAGES_PER_REPORT // SECTIONS
    parts = [(f"---\ntitle: {json.dumps(f'{title}: review {n + 1}')}\npublisher: {json.dumps(PUBLISHER)}\n"
              f"id: {slug}\n---\n")]
    for s in range(SECTIONS):
        words = rng.choice(sentences).split()[:4]
        parts.append(f"\n## {SECTION_WORDS[s]}: {markdown_paragraph(' '.join(words))}\n")
        for _ in range(per_section):
            parts.append("\n" + markdown_paragraph(" ".join(rng.sample(sentences, rng.randint(1, 4)))) + "\n")
    return "".join(parts)


def write_corpus(articles: list[dict], content_dir: Path, reports: int) -> None:
    """Write `reports` seeded reports (article n % 48 each), unless the same corpus is there already."""
    stamp = content_dir / ".scale-corpus"
    want = json.dumps({"reports": reports, "seed": SEED, "passages": PASSAGES_PER_REPORT, "format": 1})
    if stamp.is_file() and stamp.read_text() == want:
        for stray in content_dir.glob("new-*.md"):  # left by an interrupted incremental step
            stray.unlink()
        return
    shutil.rmtree(content_dir, ignore_errors=True)
    content_dir.mkdir(parents=True)
    pool = article_sentences(articles)
    for n in range(reports):
        rng = random.Random(SEED * 1_000_003 + n)
        title, sentences = pool[n % len(pool)]
        slug = f"r{n:04d}"
        (content_dir / f"{slug}.md").write_text(report_text(n, title, sentences, rng, slug), encoding="utf-8")
    stamp.write_text(want)


# ----------------------------------------------------------------------------------------- build

def build(content_dir: Path, index_dir: Path) -> dict:
    """Build the corpus in full in a child process; return its time, rate, peak memory and size."""
    shutil.rmtree(index_dir, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([str(CLI), "index", "build", "--full", "--content", str(content_dir),
                           "--index", str(index_dir)], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    line = done.stdout.strip().splitlines()[-1]
    passages = int(re.search(r"(\d+) passages", line).group(1))  # type: ignore[union-attr]
    return {"passages": passages, "build_s": seconds, "build_rate": passages / seconds,
            # ru_maxrss of children is the largest finished child's; an earlier larger one hides it.
            "build_rss_mb": peak / 1024 if peak > before else float("nan"),
            "index_mb": du_mb(live_version(index_dir)), "summary": line}


def same_schema(index_dir: Path) -> bool:
    """Return True if the live version was built with this code's schema (else a build is full)."""
    manifest = json.loads((live_version(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    return manifest.get("schema") == SCHEMA_VERSION


def live_version(index_dir: Path) -> Path:
    """Return the live version's folder."""
    return index_dir / "versions" / (index_dir / "CURRENT").read_text().strip()


# ------------------------------------------------------------------------------------------ HTTP

def call(base: str, path: str, body: dict | None = None, method: str = "GET",
         token: str | None = None, timeout: float = 30) -> tuple[int, dict, dict]:
    """Send one request; return status, JSON body and headers (errors included)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), dict(exc.headers)


def wait_healthy(base: str, deadline_s: float = 120) -> float:
    """Wait until /api/health answers 200; return the seconds it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < deadline_s:
        try:
            if call(base, "/api/health", timeout=5)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become healthy")


def wrk_phase(base: str, questions_file: Path, concurrency: int, seconds: int) -> dict:
    """Run wrk for a fixed time at a concurrency; return latency percentiles (ms), rps and errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA)
    try:
        out = subprocess.run(["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{seconds}s",
                              "--timeout", "10s", "-s", fh.name, base],
                             capture_output=True, text=True, timeout=seconds + 60, check=False,
                             env={**os.environ, "SCALE_QUESTIONS": str(questions_file)}).stdout
    finally:
        os.unlink(fh.name)
    line = next(x for x in out.splitlines() if x.startswith("SCALE_RESULT "))
    result = json.loads(line.split(" ", 1)[1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def python_phase(base: str, questions: list[str], concurrency: int, seconds: int) -> dict:
    """The same phase without wrk: as many questions as fit in `seconds`, from threads."""
    budget = max(50, int(seconds * 25 * concurrency))  # bounded by count; stops at its deadline too
    result = run_load(base, (questions * (budget // len(questions) + 1))[:budget], concurrency)
    return {"requests": len(result.ms), "seconds": result.seconds, "errors": result.errors,
            "p50": result.pct(50), "p90": result.pct(90), "p99": result.pct(99),
            "max": max(result.ms, default=float("nan")), "rps": result.rps}


# ----------------------------------------------------------------------------------- incremental

def new_bytes(version: Path) -> int:
    """Return the bytes of a version's files that are not shared (hard-linked) with another version."""
    return sum(f.stat().st_size for f in version.rglob("*") if f.is_file() and f.stat().st_nlink == 1)


def run_job(base: str, full: bool = False, deadline_s: float = 3600) -> tuple[dict, float, dict]:
    """Start an admin reindex job; return the 202 body, seconds until it answered, and its last state."""
    started = time.perf_counter()
    status, body, headers = call(base, "/api/admin/reindex" + ("?full=true" if full else ""), method="POST",
                                 token=TOKEN)
    answered = time.perf_counter() - started
    if status != 202:
        raise RuntimeError(f"reindex answered {status}: {body}")
    assert headers.get("Location") == body["url"], headers
    job = body
    while time.perf_counter() - started < deadline_s:
        job = call(base, body["url"], token=TOKEN)[1]
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.25)
    return body, answered, job


def incremental(articles: list[dict], base: str, content_dir: Path, index_dir: Path) -> dict:
    """Add one report through an admin job and time until the running server answers from it."""
    pool = article_sentences(articles)
    rng = random.Random(int(time.time()))
    slug = f"new-{int(time.time())}"
    title, sentences = pool[rng.randrange(len(pool))]
    path = content_dir / f"{slug}.md"
    text = report_text(9999, title, sentences, rng, slug)
    path.write_text(text, encoding="utf-8")
    # A question the new report answers word for word: its first passage's first sentence.
    first = text.split("\n## ", 1)[1].split("\n\n", 1)[1].split("\n", 1)[0]
    question = _SENTENCE.split(first.replace("\\", ""))[0]
    answer_at: list[float] = []
    started = time.perf_counter()

    def poll() -> None:
        while time.perf_counter() - started < INCREMENTAL_DEADLINE_S and not answer_at:
            status, body, _ = call(base, "/api/ask", {"question": question, "reports": [slug]}, method="POST")
            if status == 200 and any(f["citation"]["report_id"] == slug for f in body.get("findings", [])):
                answer_at.append(time.perf_counter() - started)
                return
            time.sleep(POLL_S)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        _, answered_s, job = run_job(base)
        poller.join(timeout=INCREMENTAL_DEADLINE_S)
        written = new_bytes(live_version(index_dir))
    finally:
        path.unlink()
    _, _, cleanup = run_job(base)  # back to the corpus as generated
    print(f"  new report: answered after {answer_at[0] if answer_at else float('nan'):.1f} s; job {job['state']}: "
          f"{(job.get('summary') or {}).get('summary') or job.get('error')}", flush=True)
    return {"answered_s": answer_at[0] if answer_at else float("nan"), "job_state": job["state"],
            "job_post_ms": answered_s * 1000, "job_summary": (job.get("summary") or {}).get("summary"),
            "job_error": job.get("error"), "new_mb": written / 1e6, "cleanup_state": cleanup["state"]}


# ----------------------------------------------------------------------------------------- serve

def serve_and_measure(articles: list[dict], questions: list[str], content_dir: Path, index_dir: Path,
                      seconds: int, out: Path) -> dict:
    """Serve with two workers; measure c1 and c8, worker memory, and an incremental admin job."""
    questions_file = out / "scale-questions.txt"
    questions_file.write_text("\n".join(json.dumps(q) for q in questions) + "\n", encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "QA_ADMIN_TOKEN": TOKEN}
    server = subprocess.Popen([str(CLI), "serve", "--workers", "2", "--port", str(port), "--index", str(index_dir),
                               "--content", str(content_dir)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cold = wait_healthy(base)
        run_load(base, questions[:200], 2)  # warm both workers
        phase = wrk_phase if shutil.which("wrk") else python_phase
        arg = questions_file if phase is wrk_phase else questions
        c1 = phase(base, arg, 1, seconds)  # type: ignore[arg-type]
        print(f"  c1: {json.dumps(c1)}", flush=True)
        c8 = phase(base, arg, 8, seconds)  # type: ignore[arg-type]
        print(f"  c8: {json.dumps(c8)}", flush=True)
        rss = [peak_rss_mb(p) for p in worker_pids(server.pid)]
        print(f"  worker peak RSS MB: {rss}", flush=True)
        inc = incremental(articles, base, content_dir, index_dir)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"cold_s": cold, "c1": c1, "c8": c8, "rss": rss, "load_tool": "wrk" if phase is wrk_phase else "python",
            **inc}


def replicas(questions: list[str], content_dir: Path, index_dir: Path, seconds: int, out: Path) -> dict:
    """Two servers (one worker each) on one index folder, loaded at once: req/s each, memory, same version."""
    questions_file = out / "scale-questions.txt"
    questions_file.write_text("\n".join(json.dumps(q) for q in questions) + "\n", encoding="utf-8")
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen([str(CLI), "serve", "--workers", "1", "--port", str(port), "--index", str(index_dir),
                                 "--content", str(content_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in bases:
            wait_healthy(base)
            run_load(base, questions[:100], 1)
        versions = {call(base, "/api/health")[1]["index_version"] for base in bases}
        results: list[dict] = [{}, {}]

        def drive(n: int) -> None:
            results[n] = wrk_phase(bases[n], questions_file, 4, seconds)

        threads = [threading.Thread(target=drive, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss = [max((peak_rss_mb(p) for p in worker_pids(server.pid)), default=float("nan")) for server in servers]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    row = {"rps": [r["rps"] for r in results], "p50": [r["p50"] for r in results], "p99": [r["p99"] for r in results],
           "errors": sum(r["errors"] for r in results), "rss": rss, "same_version": len(versions) == 1}
    print(f"  two servers x 1 worker, one index folder, c=4 each: {sum(row['rps']):.1f} req/s together "
          f"({', '.join(f'{x:.1f}' for x in row['rps'])}), p50 {row['p50']}, p99 {row['p99']}, errors {row['errors']}, "
          f"worker RSS MB {[round(x) for x in rss]}, same version: {row['same_version']}", flush=True)
    return row


# ----------------------------------------------------------------------------------------- table

GOALS = {"build_rate": 1000, "p50": 50, "p99": 250, "rps": 60, "rss": 400, "answered_s": 20}


def print_rows(rows: list[dict]) -> None:
    """Print the results table."""
    print(f"{'passages':>9}{'build s':>9}{'pass/s':>8}{'build MB':>9}{'index MB':>9}{'c1 p50':>8}{'c1 p99':>8}"
          f"{'c8 rps':>8}{'c8 p99':>8}{'errors':>7}{'worker MB':>10}{'new s':>7}{'new MB':>7}  job")
    for r in rows:
        print(f"{r['passages']:>9}{r['build_s']:>9.1f}{r['build_rate']:>8.0f}{r['build_rss_mb']:>9.0f}"
              f"{r['index_mb']:>9.0f}{r['c1']['p50']:>8.1f}{r['c1']['p99']:>8.1f}{r['c8']['rps']:>8.1f}"
              f"{r['c8']['p99']:>8.1f}{r['c1']['errors'] + r['c8']['errors']:>7}"
              f"{max(r['rss'], default=float('nan')):>10.0f}{r['answered_s']:>7.1f}{r['new_mb']:>7.1f}"
              f"  {r['job_state']} (202 in {r['job_post_ms']:.0f} ms)")
    print("c1/c8 = concurrency 1/8 (latencies in ms); build MB = peak RSS of the build process; worker MB = "
          "peak RSS of the larger of 2 workers; new s = seconds from the admin reindex POST until the running "
          "server answered from a newly added report; new MB = bytes that incremental build wrote")


def check_goals(row: dict) -> None:
    """Print each goal of issue 16 beside the measured value."""
    measured = {"build_rate": row["build_rate"], "p50": row["c1"]["p50"], "p99": row["c1"]["p99"],
                "rps": row["c8"]["rps"], "rss": max(row["rss"]), "answered_s": row["answered_s"]}
    for key, goal in GOALS.items():
        ok = measured[key] >= goal if key in ("build_rate", "rps") else measured[key] <= goal
        print(f"  {key:<11} goal {'>=' if key in ('build_rate', 'rps') else '<='} {goal:<6} "
              f"measured {measured[key]:.1f}  {'met' if ok else 'MISSED'}")
    errors = row["c1"]["errors"] + row["c8"]["errors"]
    print(f"  errors      goal 0      measured {errors}  {'met' if errors == 0 else 'MISSED'}")
    print(f"  admin job   202 at once, reaches done: {row['job_post_ms']:.0f} ms, {row['job_state']}")


def main(argv: list[str] | None = None) -> None:
    """Run the scale benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--reports", default="7,334,1700", help="corpus sizes in reports of 300 passages")
    parser.add_argument("--seconds", type=int, default=30, help="seconds of load per phase")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--skip-build", action="store_true", help="serve the index already built for a size")
    parser.add_argument("--replicas", action="store_true",
                        help="also run two servers of one worker on the largest index at once")
    args = parser.parse_args(argv)
    articles = json.loads(args.path.read_text(encoding="utf-8"))["data"]
    questions = [qa["question"] for a in articles for p in a["paragraphs"] for qa in p["qas"]]
    random.Random(1).shuffle(questions)
    args.out.mkdir(parents=True, exist_ok=True)
    print(machine(), f"revision {revision()}", f"load average {os.getloadavg()[0]:.2f} at start", sep="; ")
    print("command: python benchmarks/scale.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    rows = []
    for reports in (int(n) for n in args.reports.split(",")):
        content, index = args.out / f"scale-content-{reports}", args.out / f"scale-index-{reports}"
        write_corpus(articles, content, reports)
        if args.skip_build and (index / "CURRENT").is_file() and same_schema(index):
            built = {"passages": reports * PASSAGES_PER_REPORT, "build_s": float("nan"), "build_rate": float("nan"),
                     "build_rss_mb": float("nan"), "index_mb": du_mb(live_version(index)), "summary": "(reused)"}
        else:
            built = build(content, index)
        print(built["summary"], flush=True)
        row = {"reports": reports, **built, **serve_and_measure(articles, questions, content, index, args.seconds,
                                                                 args.out)}
        rows.append(row)
        print_rows([row])
        print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    if args.replicas:
        reports = rows[-1]["reports"]
        rows[-1]["replicas"] = replicas(questions, args.out / f"scale-content-{reports}",
                                        args.out / f"scale-index-{reports}", args.seconds, args.out)
    print()
    print_rows(rows)
    print(f"\nGoals (issue 16) at {rows[-1]['passages']:,} passages:")
    check_goals(rows[-1])
    (args.out / "scale-results.json").write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
