"""Shared fixtures: the bundled content indexed once, and tiny corpora written per test."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from qa_service import config
from qa_service.config import Limits
from qa_service.search.builder import build_index
from qa_service.search.retrieval import IndexHolder
from qa_service.web.openapi import openapi_document

ROOT = Path(__file__).resolve().parent.parent
# Apps and servers started by the tests log to a throwaway database, never the repository's
# instance folder (a test that needs its own database sets QA_DATABASE_URL or DATABASE_URL).
_DATABASE_DIR = tempfile.mkdtemp(prefix="qa-test-db-")
atexit.register(shutil.rmtree, _DATABASE_DIR, True)
os.environ.setdefault("QA_DATABASE_URL", f"sqlite:///{_DATABASE_DIR}/qa.sqlite3")
os.environ.setdefault("QA_SECRET_KEY", "test-session-key")
# Every in-process test client is 127.0.0.1: tests of 401s must not trip the brute-force limit,
# which tests/test_hostile_admin_content.py checks on a server of its own at the real default.
os.environ.setdefault("QA_ADMIN_RATE", "100000/minute")
BUNDLED = ROOT / "content"


def write_report(folder: Path, name: str, body: str, title: str = "A test report",
                 extra: str = "") -> Path:
    """Write a small report with valid front matter and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(
        f"---\ntitle: {title}\npublisher: Test Publisher\npublished: 2020-01-02\n{extra}---\n\n{body}\n",
        encoding="utf-8",
    )
    return path


CLI = Path(sys.executable).parent / "qa-service"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def schema_validator(name: str) -> Draft202012Validator:
    """Return a validator for one component schema of the app's own OpenAPI document."""
    doc = openapi_document(Limits.from_settings(config.from_env()))
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    schema_validator("Problem").validate(body)
    assert body["status"] == status and body["detail"]
    return body


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an index directory built once from the bundled content."""
    index_dir = tmp_path_factory.mktemp("bundled") / "index"
    build_index(BUNDLED, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def bundled(bundled_index: Path):
    """Return the bundled index, opened."""
    return IndexHolder(bundled_index).get()


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """Return a writable copy of the bundled content folder."""
    target = tmp_path / "content"
    shutil.copytree(BUNDLED, target)
    return target
