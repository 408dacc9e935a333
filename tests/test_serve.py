"""The real `qa-service serve` under gunicorn, asked over HTTP on localhost."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CLI, free_port, post_json, wait_healthy


@pytest.fixture
def server(bundled_index: Path):
    port = free_port()
    proc = subprocess.Popen([str(CLI), "serve", "--port", str(port), "--workers", "2", "--index", str(bundled_index)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_serve_answers_over_http(server) -> None:
    base, proc = server
    body = post_json(base + "/api/ask", {"question": "What about fathers?"})
    assert body["findings"][0]["text"] == "the role of the fathers had been marginalised"
    with pytest.raises(urllib.error.HTTPError) as info:
        post_json(base + "/api/ask", {"question": ""})
    with info.value:
        assert info.value.code == 422
        assert info.value.headers["Content-Type"] == "application/problem+json"
    proc.terminate()
    log = proc.communicate(timeout=15)[0]
    assert "POST /api/ask 200" in log and "POST /api/ask 422" in log  # one line per request


def test_two_servers_share_one_index_and_agree(bundled_index: Path) -> None:
    """Scaling out: two independent servers on one read-only index folder give the same answers."""
    procs, bases = [], []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(subprocess.Popen([str(CLI), "serve", "--port", str(port), "--workers", "1",
                                           "--index", str(bundled_index)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, text=True))
            bases.append(f"http://127.0.0.1:{port}")
        for base, proc in zip(bases, procs):
            wait_healthy(base, proc)
        for question in ["What about fathers?", "pre-birth assessments", "What is the capital of France?"]:
            first, second = (post_json(base + "/api/ask", {"question": question}) for base in bases)
            first.pop("took_ms"), second.pop("took_ms")
            first.pop("answer_id"), second.pop("answer_id")  # each answer has its own
            assert first == second
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)
