"""A real `qa-service serve` attacked on localhost: slow clients, stalled and oversized bodies,
malformed HTTP, adversarial questions and content. Every attack is bounded in count and time.

Timing goals (slow-client probe success, worst-input medians, the 3,000-question memory goal)
live in benchmarks/soak.py; these tests check behaviour, with generous time limits only where
availability itself is what is tested.
"""

from __future__ import annotations

import http.client
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "qa-service"
READ_TIMEOUT = 2
pytestmark = pytest.mark.slow
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write(folder: Path, name: str, title: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(f"---\ntitle: {title}\npublisher: Test Publisher\n---\n\n{body}\n",
                                       encoding="utf-8")


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny index: a few ordinary passages and one paragraph of 'Dr. ' × 16,000."""
    root = tmp_path_factory.mktemp("hostile")
    content = root / "content"
    write(content, "fathers", "Fathers in reviews",
          "## Findings\n\nThe role of the fathers had been marginalised in many reviews.\n\n"
          "Pre-birth assessments were often late and of poor quality.\n\n"
          "Young parents received insufficient support from health agencies.")
    write(content, "doctors", "Doctors everywhere", "## Names\n\n" + "Dr. " * 16_000 + "Zebrafinch studied them.")
    subprocess.run([str(CLI), "index", "build", "--content", str(content), "--index", str(root / "index")],
                   check=True, capture_output=True, timeout=120)
    return root / "index"


class Served:
    """`qa-service serve` on a free localhost port, its log in a file."""

    def __init__(self, index_dir: Path, log: Path, *extra: str) -> None:
        self.port = free_port()
        self.log_path = log
        self._log = log.open("w")
        self.proc = subprocess.Popen([str(CLI), "serve", "--port", str(self.port), "--index", str(index_dir),
                                      "--read-timeout", str(READ_TIMEOUT), *extra],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text()
            try:
                if self.ask({"question": "fathers"}, timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("server did not start")

    def ask(self, body: dict, timeout: float = 10) -> tuple[int, dict, http.client.HTTPResponse]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", "/api/ask", json.dumps(body), {"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, json.loads(response.read()), response
        finally:
            conn.close()

    def raw(self, data: bytes, timeout: float = 10) -> bytes:
        """Send raw bytes and return everything the server answers before closing."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            return read_all(sock)

    def workers(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True,
                             check=False).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()
        return self.log_path.read_text()


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def server(tiny_index: Path, tmp_path_factory: pytest.TempPathFactory):
    served = Served(tiny_index, tmp_path_factory.mktemp("log") / "serve.log", "--workers", "2",
                    "--max-requests", "0")
    yield served
    log = served.stop()
    assert " 500 " not in log and "Traceback" not in log, log[-3000:]


def assert_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> None:
    assert status == expected
    assert headers["Content-Type"] == "application/problem+json"
    assert all(h in headers for h in SECURITY_HEADERS)
    assert "Server" not in headers
    problem = json.loads(body)
    assert problem["status"] == expected and problem["request_id"] and problem["title"]


def test_no_server_banner_and_answers(server: Served) -> None:
    status, body, response = server.ask({"question": "What about fathers?"})
    assert status == 200 and "fathers" in body["findings"][0]["text"]
    assert response.getheader("Server") is None


def test_slow_headers_do_not_starve_questions(server: Served) -> None:
    """40 connections trickling headers a byte a second; ordinary questions still answered."""
    stop = threading.Event()
    dropped: list[float] = []

    def slow() -> None:
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                while not stop.wait(0.5):
                    sock.sendall(b"a")
        except OSError:  # the server dropped us: the read timeout works
            dropped.append(time.monotonic() - started)

    threads = [threading.Thread(target=slow, daemon=True) for _ in range(40)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        answered = 0
        for _ in range(10):
            try:
                answered += server.ask({"question": "What about fathers?"}, timeout=5)[0] == 200
            except OSError:
                pass
        assert answered >= 9
        time.sleep(READ_TIMEOUT + 2)  # past the read timeout every trickler has been dropped
        assert len(dropped) >= 35
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)


def test_stalled_body_gets_408_problem_and_is_dropped(server: Served) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=READ_TIMEOUT + 8) as sock:
        sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n" + b'{"question": "What ab')
        raw = read_all(sock)  # returns when the server closes the connection
    assert time.monotonic() - started < READ_TIMEOUT + 5
    status, headers, body = parse(raw)
    assert_problem(status, headers, body, 408)
    assert headers["Connection"] == "close"


def test_four_stalled_bodies_do_not_block_questions(server: Served) -> None:
    socks = []
    try:
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{")
            socks.append(sock)
        for _ in range(5):
            assert server.ask({"question": "pre-birth assessments"}, timeout=5)[0] == 200
    finally:
        for sock in socks:
            sock.close()


def test_chunked_body_over_the_limit_gets_413(server: Served) -> None:
    chunk = b"a" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(9)) + b"0\r\n\r\n"  # 72 KiB
    raw = server.raw(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert_problem(*parse(raw), 413)


def test_chunked_body_within_the_limit_is_answered(server: Served) -> None:
    payload = json.dumps({"question": "What about fathers?"}).encode()
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
    raw = server.raw(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
    status, _headers, answer = parse(raw)
    assert status == 200 and json.loads(answer)["found"]


@pytest.mark.parametrize(("request_bytes", "expected"), [
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(120)) + b"\r\n", 431),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
    (b"NOT A REQUEST\r\n\r\n", 400),
    (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413),
])
def test_gunicorn_level_errors_are_problems(server: Served, request_bytes: bytes, expected: int) -> None:
    assert_problem(*parse(server.raw(request_bytes)), expected)


def test_normalised_questions_find_passages(server: Served) -> None:
    for question in ["ｆａｔｈｅｒｓ", "fa\u200bthers", "fathers\u0000", "\u202efathers"]:
        status, body, _ = server.ask({"question": question})
        assert status == 200 and body["found"], question


def test_costly_inputs_are_answered(server: Served) -> None:
    """Correctness only; their time is measured by `benchmarks/soak.py --worst`."""
    for question in ["a" + "b" * 999, " ".join(["abcdefghijklmnopqrstuvwxyzabcd"] * 32)[:1000],
                     "Who studied the zebrafinch?"]:
        status, body, _ = server.ask({"question": question}, timeout=30)
        assert status == 200, question
    assert body["found"] and "Zebrafinch" in body["findings"][0]["passage"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_adversarial_questions_keep_memory_flat(server: Served) -> None:
    """400 questions of 64 made-up capitalised words plus 3 history entries each, all answered, and
    RSS per worker stays bounded once the caches have filled. The unbounded cache this replaced
    grew about 100 KB a question (40 MB here); allocator noise is a few MB, so 15 MB separates
    the two. The full 3,000-question goal (60 MB) is measured by `make bench-soak`."""
    import random
    import string

    rng = random.Random(7)
    # Words come from a made-up vocabulary of 20,000 (no index holds them) and every question is a
    # new mix: the bounded word cache (65,536 entries) then fills during warm-up, not while measured.
    vocabulary = [rng.choice(string.ascii_uppercase) + "".join(rng.choices(string.ascii_lowercase, k=9))
                  for _ in range(20_000)]

    def question() -> str:
        return " ".join(rng.choices(vocabulary, k=64))[:1000]

    def batch(n: int) -> None:
        for _ in range(n):
            assert server.ask({"question": question(), "history": [question() for _ in range(3)]})[0] == 200

    batch(200)  # imports, first allocations and the caches filling to their bounds are not growth
    before = {pid: rss_mb(pid) for pid in server.workers()}
    batch(400)
    growth = {pid: rss_mb(pid) - mb for pid, mb in before.items()}
    assert max(growth.values()) <= 15.0, growth


def test_recycled_workers_open_the_index_first(tiny_index: Path, tmp_path: Path) -> None:
    served = Served(tiny_index, tmp_path / "serve.log", "--workers", "1", "--max-requests", "20")
    try:
        seen = set(served.workers())
        statuses = []
        # A worker retires after 20-22 requests, but gevent's worker notices only within a second
        # and answers until then, so the count per worker varies: ask until a third worker has
        # started and answered (bounded), then check every answer and every start.
        for _ in range(200):
            statuses.append(served.ask({"question": "What about fathers?"}, timeout=20)[0])
            seen.update(served.workers())
            if served.log_path.read_text().count(" ready in ") >= 3 and len(statuses) >= 60:
                break
            time.sleep(0.05)
        assert statuses == [200] * len(statuses)
        assert len(seen) >= 3
    finally:
        log = served.stop()
    ready = log.count(" ready in ")
    assert ready >= 3, log  # each new worker opened and warmed its index before taking requests
    assert " 500 " not in log and "Traceback" not in log


def test_answers_logged_just_before_a_stop_are_kept(tiny_index: Path, tmp_path: Path, monkeypatch) -> None:
    """The question log is written in batches; a worker that is stopped writes what it holds."""
    database = tmp_path / "qa.sqlite3"
    monkeypatch.setenv("QA_DATABASE_URL", f"sqlite:///{database}")
    served = Served(tiny_index, tmp_path / "serve.log", "--workers", "1")
    try:
        ids = [served.ask({"question": f"fathers {n}"})[1]["answer_id"] for n in range(5)]
    finally:
        served.stop()  # straight after the answers, before the writer's half second has passed
    with closing(sqlite3.connect(database)) as conn:
        stored = {answer_id for (answer_id,) in conn.execute("SELECT answer_id FROM questions")}
    assert set(ids) <= stored
