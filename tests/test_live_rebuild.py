"""Rebuilds under load: a real multi-worker server keeps answering while the index changes."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from qa_service.search.builder import build_index
from tests.conftest import CLI, free_port, post_json, wait_healthy, write_report

pytestmark = pytest.mark.slow
QUESTIONS = ["What about fathers?", "pre-birth assessments", "young people treated as adults",
             "How many reviews were evaluated?", "What is the capital of France?"]
MAX_REQUESTS = 3000  # a bound on the load, whatever happens
MAX_SECONDS = 90


class Load:
    """Client threads asking questions on localhost until stopped, counting every outcome."""

    def __init__(self, base: str, threads: int = 4) -> None:
        self.base, self.stop = base, threading.Event()
        self.outcomes: Counter[str] = Counter()
        self.versions: set[str] = set()
        self.lock = threading.Lock()
        self.sent = 0
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(threads)]

    def run(self, n: int) -> None:
        started = time.monotonic()
        i = n
        while not self.stop.is_set() and time.monotonic() - started < MAX_SECONDS:
            with self.lock:
                if self.sent >= MAX_REQUESTS:
                    return
                self.sent += 1
            try:
                body = post_json(self.base + "/api/ask", {"question": QUESTIONS[i % len(QUESTIONS)]})
                outcome = "ok" if "findings" in body else "malformed"
                with self.lock:
                    self.versions.add(body.get("index_version", ""))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                outcome = f"error: {exc}"
            with self.lock:
                self.outcomes[outcome] += 1
            i += 1

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def cli_build(content: Path, index: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "index", "build", "--content", str(content), "--index", str(index)],
                          capture_output=True, text=True, timeout=120)


def answerable(base: str, question: str, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if post_json(base + "/api/ask", {"question": question})["found"]:
            return True
        time.sleep(0.05)
    return False


def test_rebuilds_under_load_lose_no_request(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    first = build_index(content_copy, index_dir).version
    port = free_port()
    server = subprocess.Popen([str(CLI), "serve", "--port", str(port), "--workers", "3", "--index", str(index_dir)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    built = {first}
    try:
        wait_healthy(base, server)
        with Load(base) as load:
            time.sleep(0.5)
            # 1. a new report becomes answerable without a restart
            write_report(content_copy, "ospreys", "Ospreys nest on tall dead trees near water.")
            result = cli_build(content_copy, index_dir)
            assert result.returncode == 0, result.stderr
            built.add(result.stdout.split()[2].rstrip(":"))
            assert answerable(base, "Where do ospreys nest?")
            # 2. a changed report: the new words answer, the old ones no longer do
            write_report(content_copy, "ospreys", "Ospreys migrate to West Africa for the winter.")
            result = cli_build(content_copy, index_dir)
            assert result.returncode == 0, result.stderr
            built.add(result.stdout.split()[2].rstrip(":"))
            assert answerable(base, "Where do ospreys migrate in winter?")
            assert not post_json(base + "/api/ask", {"question": "ospreys nest dead trees"})["found"]
            live = json.loads(urllib.request.urlopen(base + "/api/health", timeout=5).read())["index_version"]
            # 3. a bad file: the build fails with file and line, and nothing changes
            (content_copy / "broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
            result = cli_build(content_copy, index_dir)
            assert result.returncode == 1 and "broken.md:2" in result.stderr
            time.sleep(0.5)
            assert json.loads(urllib.request.urlopen(base + "/api/health", timeout=5).read())["index_version"] == live
            assert answerable(base, "Where do ospreys migrate in winter?")
            time.sleep(0.5)
        assert load.outcomes["ok"] > 50, load.outcomes
        assert set(load.outcomes) == {"ok"}, load.outcomes
        assert load.versions <= built and len(load.versions) >= 2
    finally:
        server.terminate()
        server.wait(timeout=15)
