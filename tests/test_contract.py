"""One contract: the running API checked against its own OpenAPI document, and every way in agreeing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_service import create_app
from qa_service.cli import main
from tests.conftest import CLI, ROOT, assert_problem, free_port, wait_healthy

LIMITS = {"QA_MAX_LIMIT": "50", "QA_MAX_QUESTION_CHARS": "300", "QA_MAX_HISTORY": "4"}


@pytest.fixture(scope="module")
def live_server(bundled_index: Path) -> Iterator[str]:
    """Start the real `qa-service serve` (gunicorn) on a free localhost port, admin on."""
    port = free_port()
    env = {**os.environ, "QA_ADMIN_TOKEN": "contract-token"}
    proc = subprocess.Popen([str(CLI), "serve", "--port", str(port), "--workers", "2", "--index", str(bundled_index),
                             "--content", str(ROOT / "content")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout:
            proc.stdout.close()


def test_every_endpoint_conforms_to_its_document(live_server: str) -> None:
    """No 5xx, every status documented, every body and content type as the document says."""
    schema = schemathesis.openapi.from_url(live_server + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/ask", "/api/reports", "/api/reports/{report_id}",
                                               "/api/health", "/api/admin/reindex", "/api/admin/jobs/{job_id}"}
    for operation in operations:
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            # Rebuilding has its own tests; with a wrong token every call here is a fast 401.
            if case.operation.path.startswith("/api/admin/"):
                case.headers = {**(case.headers or {}), "Authorization": "Bearer wrong"}
            excluded = []
            if isinstance(case.body, dict) and "reports" in case.body:
                # Report ids are the index's, not the schema's: an id no report has is a 422.
                excluded.append(schemathesis.checks.positive_data_acceptance)
            case.call_and_validate(excluded_checks=excluded)

        check()


# Text a hostile or simply international client may send.
AWKWARD = st.text(st.characters(codec=None, categories=["L", "M", "N", "P", "Z", "Cc", "Cf", "Cs"],
                                include_characters="\x00\u202e\u200f\u0301\u05d0\ufeff"), max_size=60)


@pytest.fixture(scope="module")
def client(bundled_index: Path):
    return create_app({"INDEX_DIR": str(bundled_index)}).test_client()


def _has_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(question=AWKWARD.filter(lambda q: q.strip()), history=st.lists(AWKWARD, max_size=3),
       extra_key=st.none() | AWKWARD, raw=st.booleans())
def test_awkward_text_is_answered_or_refused_never_500(client, question: str, history: list[str],
                                                       extra_key: str | None, raw: bool) -> None:
    body: dict[str, object] = {"question": question, "history": history}
    if extra_key is not None:
        body[extra_key] = 1
    # Escaped (\ud800) or raw UTF-8-style bytes (surrogatepass): both must be refused, never crash.
    data = json.dumps(body, ensure_ascii=not raw).encode("utf-8", "surrogatepass")
    response = client.post("/api/ask", data=data, content_type="application/json")
    if _has_surrogate(body):
        assert 400 <= response.status_code < 500
        assert_problem(response, response.status_code)
    elif extra_key is not None and extra_key not in ("question", "history"):
        assert_problem(response, 422)
    elif question.strip() and not question.isspace() and len(question) <= 1000:
        assert response.status_code in (200, 422), response.data  # 422 only for whitespace-only by \S
        if response.status_code == 200:
            assert response.get_json()["question"] == question


def test_lone_surrogate_question_is_a_problem_not_500(client) -> None:
    for data in (b'{"question": "\\ud800 fathers"}', '{"question": "\ud800 fathers"}'.encode("utf-8", "surrogatepass"),
                 b'{"question": "fathers", "reports": ["\\udfff"]}', b'{"\\ud800": 1, "question": "fathers"}'):
        response = client.post("/api/ask", data=data, content_type="application/json")
        body = assert_problem(response, response.status_code)
        assert 400 <= response.status_code < 500 and body["detail"]


def test_422_names_each_field_and_rule(client) -> None:
    body = assert_problem(client.post("/api/ask", json={"question": "x", "limit": "5", "history": "no"}), 422)
    rules = {(e["field"], e["rule"]) for e in body["errors"]}
    assert ("limit", "int_type") in rules and ("history", "list_type") in rules


@pytest.mark.parametrize("payload", [b'{"question": "a", "question": "b"}', b"[" * 5000 + b"]" * 5000])
def test_duplicate_keys_and_deep_nesting(client, payload: bytes) -> None:
    response = client.post("/api/ask", data=payload, content_type="application/json")
    assert_problem(response, 422 if payload.startswith(b"{") else 400)


def test_limits_from_settings_agree_in_document_api_and_cli(bundled_index: Path, monkeypatch) -> None:
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)
    client = create_app({"INDEX_DIR": str(bundled_index)}).test_client()
    ask = client.get("/api/openapi.json").get_json()["components"]["schemas"]["AskRequest"]["properties"]
    assert ask["limit"]["maximum"] == 50 and ask["question"]["maxLength"] == 300 and ask["history"]["maxItems"] == 4
    assert client.post("/api/ask", json={"question": "fathers", "limit": 50}).status_code == 200
    assert_problem(client.post("/api/ask", json={"question": "fathers", "limit": 51}), 422)
    assert_problem(client.post("/api/ask", json={"question": "x" * 301}), 422)
    assert_problem(client.post("/api/ask", json={"question": "fathers", "history": ["a"] * 5}), 422)
    runner = CliRunner()
    assert runner.invoke(main, ["ask", "fathers", "--limit", "50", "--index", str(bundled_index)]).exit_code == 0
    assert runner.invoke(main, ["ask", "fathers", "--limit", "51", "--index", str(bundled_index)]).exit_code == 2
    too_long = runner.invoke(main, ["ask", "x" * 301, "--index", str(bundled_index)])
    assert too_long.exit_code == 1 and "300" in too_long.output


def test_a_thesaurus_setting_answers_alike_through_api_ask_and_eval(bundled_index: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    # "Walrus" appears nowhere in the report; the extra group maps it to "fathers", which does.
    extra = tmp_path / "extra.txt"
    extra.write_text("walrus = fathers\n", encoding="utf-8")
    monkeypatch.setenv("QA_THESAURUS", str(extra))
    question = "What about the walrus?"
    api = create_app({"INDEX_DIR": str(bundled_index)}).test_client().post("/api/ask", json={"question": question})
    cli = json.loads(CliRunner().invoke(main, ["ask", question, "--json", "--index", str(bundled_index)]).output)
    assert api.get_json()["found"] and cli["found"]
    assert api.get_json()["findings"][0]["text"] == cli["findings"][0]["text"]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"question": question, "answer": cli["findings"][0]["text"]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(gold), "--json", "--index", str(bundled_index)])
    assert json.loads(result.output)["finding@1"] == 1.0


WORKER_PROBE = """
import sys
from qa_service import create_app
client = create_app({"INDEX_DIR": sys.argv[1]}).test_client()
assert client.post("/api/ask", json={"question": "fathers"}).status_code == 200
client.get("/reports/ages-of-concern"); client.get("/?question=fathers"); client.get("/api/reports")
writers = sorted(m for m in sys.modules if m in ("qa_service.search.builder", "qa_service.search.versions"))
print(",".join(writers) or "none")
"""


def test_a_serving_worker_loads_no_index_writing_code(bundled_index: Path) -> None:
    out = subprocess.run([sys.executable, "-c", WORKER_PROBE, str(bundled_index)], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == "none"


def test_admin_errors_are_mapped_in_one_place_without_paths(tmp_path: Path) -> None:
    empty = tmp_path / "empty-content"
    empty.mkdir()
    app = create_app({"INDEX_DIR": str(tmp_path / "ix"), "CONTENT_DIR": str(empty), "ADMIN_TOKEN": "t"})
    client = app.test_client()
    response = client.post("/api/admin/reindex", headers={"Authorization": "Bearer t"})
    assert response.status_code == 202
    deadline = time.monotonic() + 60
    while (job := client.get(response.headers["Location"], headers={"Authorization": "Bearer t"})).get_json()[
            "state"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    body = job.get_json()["error"]
    assert body["status"] == 422, body
    assert str(tmp_path) not in job.get_data(as_text=True) and "no reports" in body["detail"].lower()
    result = CliRunner().invoke(main, ["index", "build", "--content", str(empty), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1 and str(empty) in result.output and "no reports" in result.output


def test_live_server_answers_surrogates_with_a_problem(live_server: str) -> None:
    request = urllib.request.Request(live_server + "/api/ask", data=b'{"question": "\\ud800 fathers"}',
                                     headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    with caught.value:  # closes the connection
        assert 400 <= caught.value.code < 500
        assert caught.value.headers["Content-Type"].startswith("application/problem+json")
