"""Soak, hostile-client probe and worst-input timings against a real `qa-service serve` on localhost.

python benchmarks/soak.py [--requests 20000] [--adversarial 3000] [--corpus squad|bundled]
python benchmarks/soak.py --probe      # 50 slow-header + 4 short-body connections, then ask
python benchmarks/soak.py --worst      # median time of the costliest inputs the API accepts

The soak starts `qa-service serve --workers 2 --max-requests 0` (recycling off, so memory growth
shows), sends the adversarial questions (64 made-up capitalised words and three history entries
each) and then ordinary varied questions (SQuAD dev's, or the bundled reports' words), and
prints, every 1,000 requests, each worker's resident memory, the window's p50 / p99 latency and
the errors so far. Everything is bounded in count and time, and only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

CLI = Path(sys.executable).parent / "qa-service"
ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
DEFAULT_SQUAD = ROOT.parent / "shared" / "data" / "squad-dev-v1.1.json"
SQUAD = DEFAULT_SQUAD  # set from --squad
DEADLINE_S = 900          # the whole soak stops after this, whatever happens
WINDOW = 1000             # requests per reported row


def free_port() -> int:
    """Return a free TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Return a process's resident memory (VmRSS) in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def worker_pids(master: int) -> list[int]:
    """Return the worker processes of a gunicorn master, oldest first."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master), "--sort", "start_time"],
                         capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def made_up_word(rng: random.Random) -> str:
    """Return a capitalised word no report holds."""
    return rng.choice(string.ascii_uppercase) + "".join(rng.choices("bcdfghjklmnpqrstvwxz", k=rng.randint(6, 11)))


def adversarial(rng: random.Random) -> dict:
    """Return one request of 64 made-up capitalised words plus three history entries like it."""
    def question() -> str:
        return " ".join(made_up_word(rng) for _ in range(64))[:1000]
    return {"question": question(), "history": [question() for _ in range(3)]}


def ordinary_questions(corpus: str) -> list[str]:
    """Return varied ordinary questions: SQuAD dev's, or made from the bundled reports' words."""
    if corpus == "squad":
        data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
        questions = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    else:
        rng = random.Random(3)
        words = sorted({w.strip(".,;:()“”’'").lower() for f in (ROOT / "content").glob("*.md")
                        for w in f.read_text(encoding="utf-8").split() if w.isascii() and len(w) > 3})
        questions = [f"What about {' '.join(rng.sample(words, rng.randint(1, 5)))}?" for _ in range(5000)]
    random.Random(1).shuffle(questions)
    return questions


def build(corpus: str, out: Path) -> Path:
    """Build the index the soak runs on and return its folder."""
    index_dir = out / f"soak-index-{corpus}"
    shutil.rmtree(index_dir, ignore_errors=True)
    content = ROOT / "content"
    if corpus == "squad":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from squad_reports import prepare

        data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
        content = out / "soak-content-squad"
        prepare(data, content, set(range(len(data))))
    subprocess.run([str(CLI), "index", "build", "--content", str(content), "--index", str(index_dir)],
                   check=True, stdout=subprocess.DEVNULL)
    return index_dir


class Server:
    """`qa-service serve` on a free localhost port, stopped when the block ends."""

    def __init__(self, index_dir: Path, *extra: str, workers: int = 2) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([str(CLI), "serve", "--port", str(self.port), "--workers", str(workers),
                                      "--index", str(index_dir), *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self) -> Server:  # noqa: PYI034
        deadline = time.monotonic() + 180  # a loaded machine starts workers slowly
        while time.monotonic() < deadline:
            try:
                status, _ = ask(self.port, {"question": "health?"}, timeout=2)
                if status == 200 and len(worker_pids(self.proc.pid)) >= 1:
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def ask(port: int, body: dict, timeout: float = 30, conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    """POST one question to /api/ask and return (status, body)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/api/ask", json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def soak(port: int, master: int, bodies: list[dict], concurrency: int, label: str,
         deadline: float) -> list[dict]:
    """Send every body once from `concurrency` keep-alive clients; return one row per window."""
    lock = threading.Lock()
    cursor, done, errors, window_ms, rows = [0], [0], [0], [], []
    started = time.perf_counter()
    base_rss = {pid: rss_mb(pid) for pid in worker_pids(master)}

    def record() -> None:
        pids = worker_pids(master)
        ordered = sorted(window_ms)
        rows.append({"phase": label, "requests": done[0], "seconds": round(time.perf_counter() - started, 1),
                     "p50": ordered[len(ordered) // 2], "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
                     "errors": errors[0], "rss": {pid: rss_mb(pid) for pid in pids}})
        window_ms.clear()

    def client() -> None:
        conn = None
        while time.monotonic() < deadline:
            with lock:
                if cursor[0] >= len(bodies):
                    break
                body = bodies[cursor[0]]
                cursor[0] += 1
            t0 = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, _ = ask(port, body, conn=conn)
                ok = status == 200
            except (OSError, http.client.HTTPException):
                ok, conn = False, None
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                done[0] += 1
                window_ms.append(ms)
                errors[0] += not ok
                if done[0] % WINDOW == 0:
                    record()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if window_ms:
        record()
    rows[0]["base_rss"] = base_rss
    return rows


def print_rows(rows: list[dict]) -> None:
    """Print the soak table: one row per window, every worker's RSS."""
    print("| phase | requests | seconds | p50 ms | p99 ms | errors | worker RSS MB (pid) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        rss = ", ".join(f"{mb:.0f} ({pid})" for pid, mb in r["rss"].items())
        print(f"| {r['phase']} | {r['requests']:,} | {r['seconds']} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['errors']} | {rss} |")


def growth(rows: list[dict]) -> dict[int, float]:
    """Return each worker's RSS growth from before the phase to its last row."""
    base, last = rows[0]["base_rss"], rows[-1]["rss"]
    return {pid: last[pid] - mb for pid, mb in base.items() if pid in last}


def text_plot(rows: list[dict], width: int = 50) -> None:
    """Print worker RSS over requests as a small text plot."""
    top = max(mb for r in rows for mb in r["rss"].values())
    print(f"RSS over requests (each # = {top / width:.1f} MB, largest worker)")
    for r in rows:
        mb = max(r["rss"].values())
        print(f"{r['phase'][:5]:<5} {r['requests']:>6,} {'#' * round(mb / top * width):<{width}} {mb:.0f} MB")


# ---- hostile-client probe ------------------------------------------------------------------

def slow_header(port: int, stop: threading.Event) -> None:
    """Hold a connection open sending one header byte a second; reconnect when dropped."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                while not stop.wait(1.0):
                    sock.sendall(b"a")
        except OSError:
            stop.wait(0.2)


def short_body(port: int, stop: threading.Event) -> None:
    """Promise a 1,000-byte body, send 20 bytes and stall; reconnect when dropped."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
                sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 1000\r\n\r\n" + b'{"question": "What ab')
                sock.settimeout(1.0)
                while not stop.is_set():
                    try:
                        if not sock.recv(4096):
                            break          # dropped by the server
                    except TimeoutError:
                        continue
        except OSError:
            stop.wait(0.2)


def probe(port: int, questions: list[str], slow: int = 50, stalled: int = 4, probes: int = 20) -> dict:
    """Ask `probes` ordinary questions while hostile clients hold connections; count the 2 s answers."""
    stop = threading.Event()
    threads = [threading.Thread(target=slow_header, args=(port, stop), daemon=True) for _ in range(slow)]
    threads += [threading.Thread(target=short_body, args=(port, stop), daemon=True) for _ in range(stalled)]
    for t in threads:
        t.start()
    time.sleep(2.0)  # let the attackers take their connections
    answered, ms = 0, []
    try:
        for q in questions[:probes]:
            t0 = time.perf_counter()
            try:
                status, _ = ask(port, {"question": q}, timeout=2)
                answered += status == 200
            except OSError:
                pass
            ms.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    return {"answered": answered, "probes": probes, "p50_ms": statistics.median(ms), "max_ms": max(ms)}


# ---- worst inputs --------------------------------------------------------------------------

def worst_inputs() -> dict[str, dict]:
    """Return the costliest bodies the API schema accepts, by name."""
    rng = random.Random(5)
    long_word = "a" + "b" * 999
    lower_words = " ".join("".join(rng.choices(string.ascii_lowercase, k=30)) for _ in range(32))[:1000]
    many = " ".join(made_up_word(rng) for _ in range(64))[:1000]
    return {
        "1,000-letter word": {"question": long_word},
        "32 made-up 30-letter words": {"question": lower_words},
        "64 capitalised made-up words + 10 history": {"question": many, "history": [many] * 10},
        "fullwidth and zero-width": {"question": "ｆａｔｈｅｒｓ fa\u200bthers \u0000\u202e" * 40},
        "'Dr. ' x 250": {"question": ("Dr. " * 250)[:1000]},
        "every word a stop word": {"question": ("the of and to in " * 200)[:1000]},
        "20 findings, common words": {"question": ("assessment children babies reviews fathers " * 30)[:1000],
                                      "limit": 20},
        "ordinary": {"question": "What about fathers?"},
    }


def worst(port: int, repeats: int = 15) -> dict[str, float]:
    """Return each worst input's median time over HTTP, in ms."""
    out = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for name, body in worst_inputs().items():
        ms = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            status, _ = ask(port, body, conn=conn)
            ms.append((time.perf_counter() - t0) * 1000)
            assert status == 200, (name, status)
        out[name] = statistics.median(ms)
    conn.close()
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the soak (or the probe, or the worst-input timings) and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="ordinary questions in the soak")
    parser.add_argument("--adversarial", type=int, default=3000, help="adversarial questions sent first")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--corpus", choices=("squad", "bundled"), default=None,
                        help="squad when its file exists, else the bundled reports")
    parser.add_argument("--max-requests", type=int, default=None,
                        help="worker recycling; the soak turns it off (0) by default to show memory growth")
    parser.add_argument("--probe", action="store_true", help="run the hostile-client probe instead")
    parser.add_argument("--worst", action="store_true", help="time the costliest inputs instead (bundled index)")
    parser.add_argument("--index", type=Path, help="serve this index instead of building one")
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 dev JSON (for --corpus squad)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    global SQUAD
    SQUAD = args.squad
    args.corpus = args.corpus or ("squad" if SQUAD.exists() else "bundled")
    args.out.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + DEADLINE_S
    corpus = "bundled" if args.worst else args.corpus
    index_dir = args.index or build(corpus, args.out)
    questions = ordinary_questions(args.corpus)
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; corpus {corpus}; "
          f"command: python benchmarks/soak.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    recycle = args.max_requests if args.max_requests is not None else (None if args.probe or args.worst else 0)
    with Server(index_dir, *(["--max-requests", str(recycle)] if recycle is not None else [])) as server:
        port, master = server.port, server.proc.pid
        if args.probe:
            result = probe(port, questions)
            print(f"50 slow-header + 4 short-body connections: {result['answered']}/{result['probes']} ordinary "
                  f"questions answered within 2 s (p50 {result['p50_ms']:.0f} ms, max {result['max_ms']:.0f} ms)")
            return
        if args.worst:
            for name, ms in worst(port).items():
                print(f"{name:<45} {ms:7.1f} ms median")
            return
        rng = random.Random(11)
        rows: list[dict] = []
        if args.adversarial:
            adv = soak(port, master, [adversarial(rng) for _ in range(args.adversarial)], args.concurrency,
                       "adversarial", deadline)
            rows += adv
            print("adversarial RSS growth per worker MB: "
                  + ", ".join(f"{pid}: {mb:+.1f}" for pid, mb in growth(adv).items()))
        bodies = [{"question": questions[i % len(questions)]} for i in range(args.requests)]
        ordinary = soak(port, master, bodies, args.concurrency, "ordinary", deadline)
        rows += ordinary
        print("ordinary RSS growth per worker MB: "
              + ", ".join(f"{pid}: {mb:+.1f}" for pid, mb in growth(ordinary).items()))
    print()
    print_rows(rows)
    print()
    text_plot(rows)
    print(f"\nerrors: {rows[-1]['errors']} of {rows[-1]['requests']:,} ordinary"
          + (f", {adv[-1]['errors']} of {adv[-1]['requests']:,} adversarial" if args.adversarial else ""))


if __name__ == "__main__":
    main()
