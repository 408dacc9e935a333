"""Issue 14, the rest: admin brute force, admin off, hostile front matter and report HTML, Host
headers, log forging — against a real `qa-service serve` on localhost where it matters."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa_service import create_app
from qa_service.cli import main
from qa_service.search.builder import build_index
from tests.conftest import CLI, free_port, wait_healthy, write_report

TOKEN = "right-token"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A two-worker server with admin on, its own database and a log file to read."""
    root = tmp_path_factory.mktemp("hostile-admin")
    content, index = root / "content", root / "index"
    write_report(content, "hostile", '<a id="main" class="skip">x</a> Walruses are discussed here.\n\n'
                 'A second paragraph about seals.', title="Hostile report")
    build_index(content, index)
    log_path = root / "serve.log"
    port = free_port()
    env = {**os.environ, "QA_ADMIN_TOKEN": TOKEN, "QA_DATABASE_URL": f"sqlite:///{root / 'qa.sqlite3'}",
           "QA_ADMIN_RATE": "10/minute"}
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(CLI), "serve", "--port", str(port), "--workers", "2", "--index", str(index),
                                 "--content", str(content)], stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc, seconds=60)
            yield port, log_path
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_wrong_admin_tokens_are_limited_across_workers_and_questions_go_on(served) -> None:
    port, _ = served
    statuses = []
    for _ in range(30):  # bounded: a brute-forcer's first half-minute, on localhost
        status, headers, _body = request(port, "GET", "/api/admin/questions", headers={"Authorization": "Bearer x"})
        statuses.append((status, headers.get("Retry-After")))
    assert statuses[0][0] == 401 and (429, statuses[-1][1]) == statuses[-1] and int(statuses[-1][1]) >= 1
    assert sum(s == 401 for s, _ in statuses) <= 10  # the limit holds although two workers answer
    # Even the right token waits until the window ends; ordinary questions are not limited.
    assert request(port, "GET", "/api/admin/questions", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 429
    asked = request(port, "POST", "/api/ask", json.dumps({"question": "walruses"}).encode(),
                    {"Content-Type": "application/json"})
    assert asked[0] == 200


def test_report_html_cannot_take_the_page_s_ids_or_classes(served) -> None:
    port, _ = served
    status, _headers, body = request(port, "GET", "/reports/hostile")
    page = body.decode()
    assert status == 200 and 'id="main"' in page  # the page's own main element …
    assert page.count('id="main"') == 1 and 'class="skip">x' not in page  # … and not the report's copy


def test_host_header_is_never_echoed_into_a_location(served) -> None:
    port, _ = served
    for path in ("/api/reports/", "//api//reports", "/reports/"):
        status, headers, _ = request(port, "GET", path, headers={"Host": "evil.example"})
        assert "evil.example" not in headers.get("Location", ""), (path, status, headers)


def test_a_newline_in_the_path_cannot_forge_a_log_line(served) -> None:
    port, log_path = served
    request(port, "GET", "/nope%0a2026-01-01%20GET%20/forged%20200")
    time.sleep(0.5)
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    assert not any(line.startswith("2026-01-01 GET /forged") for line in lines)
    assert any("/nope\\n2026-01-01" in line for line in lines)


def test_trusted_hosts_refuse_other_host_headers(tmp_path: Path, bundled_index: Path) -> None:
    client = create_app({"INDEX_DIR": str(bundled_index), "TRUSTED_HOSTS": "qa.example.org"}).test_client()
    assert client.get("/api/health", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/health", headers={"Host": "qa.example.org"}).status_code == 200


@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "patch"])
def test_admin_off_is_404_for_every_method(bundled_index: Path, method: str) -> None:
    client = create_app({"INDEX_DIR": str(bundled_index)}).test_client()
    for path in ("/api/admin/reindex", "/api/admin/questions", "/api/admin/nothing-here"):
        response = getattr(client, method)(path)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "ftp://example.org/x", "//example.org"])
def test_front_matter_urls_must_be_http(tmp_path: Path, url: str) -> None:
    write_report(tmp_path / "content", "bad", "Text.", extra=f'source_url: "{url}"\n')
    result = CliRunner().invoke(main, ["index", "build", "--content", str(tmp_path / "content"),
                                       "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1 and "bad.md:5: 'source_url' must be an http:// or https:// address" in result.output
