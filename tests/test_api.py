"""The JSON API through Flask's test client: answers, every documented error, the schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate as validate_spec

from qa_service import create_app
from qa_service.answering import answer as answer_module
from qa_service.cli import main as cli_main
from tests.conftest import assert_problem, schema_validator


@pytest.fixture
def app(bundled_index: Path):
    return create_app({"INDEX_DIR": str(bundled_index), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def test_ask_returns_cited_findings(client) -> None:
    response = client.post("/api/ask", json={"question": "What about the role of fathers?"})
    assert response.status_code == 200
    body = response.get_json()
    schema_validator("Answer").validate(body)
    assert body["found"] is True and body["index_version"].startswith("v")
    first = body["findings"][0]
    assert first["text"] == "the role of the fathers had been marginalised"
    assert first["citation"]["url"].startswith("/reports/ages-of-concern#p-")
    assert isinstance(body["took_ms"], float)


def test_api_and_cli_give_the_same_answer(client, bundled_index: Path) -> None:
    question = "What went wrong with pre-birth assessments?"
    api = client.post("/api/ask", json={"question": question, "limit": 3}).get_json()
    cli = json.loads(CliRunner().invoke(cli_main, ["ask", question, "--limit", "3", "--json",
                                                   "--index", str(bundled_index)]).output)
    api.pop("took_ms"), cli.pop("took_ms")
    assert api.pop("answer_id") and cli.pop("answer_id") is None  # only API answers are logged
    assert api == cli


@pytest.mark.parametrize("follow_up", ["What else?", "Tell me more."])
def test_history_answers_a_follow_up(client, follow_up: str) -> None:
    alone = client.post("/api/ask", json={"question": follow_up}).get_json()
    body = client.post("/api/ask", json={
        "question": follow_up, "history": ["What common errors were seen with babies?"]}).get_json()
    assert not alone["found"]
    assert body["found"]
    assert "babies" in body["findings"][0]["passage"]


def test_reports_filter_limits_the_search(client) -> None:
    body = client.post("/api/ask", json={"question": "young people", "reports": ["ages-of-concern-related"]}).get_json()
    assert {f["citation"]["report_id"] for f in body["findings"]} == {"ages-of-concern-related"}


def test_unanswerable_question_is_found_false(client) -> None:
    body = client.post("/api/ask", json={"question": "What is the capital of France?"}).get_json()
    assert body["found"] is False and body["findings"] == []


def test_reports_list_and_detail(client) -> None:
    listing = client.get("/api/reports").get_json()
    schema_validator("ReportList").validate(listing)
    ids = {r["id"] for r in listing["reports"]}
    assert ids == {"ages-of-concern", "ages-of-concern-related"}
    detail = client.get("/api/reports/ages-of-concern").get_json()
    schema_validator("Report").validate(detail)
    assert detail["published"] == "2011-10-26" and detail["passage_count"] == len(detail["passages"])
    assert all(p["url"] == f"/reports/ages-of-concern#{p['anchor']}" for p in detail["passages"])


def test_health(client) -> None:
    body = client.get("/api/health").get_json()
    schema_validator("Health").validate(body)
    assert body["passages"] > 10


def test_openapi_document_is_valid_and_lists_every_route(app, client) -> None:
    doc = client.get("/api/openapi.json").get_json()
    validate_spec(doc)
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(r.rule)) for r in app.url_map.iter_rules()
              if str(r.rule).startswith("/api/")}
    assert routes == set(doc["paths"])


BAD_ASKS = [
    ({"data": "{not json", "content_type": "application/json"}, 400),
    ({"data": b"\xff\xfe", "content_type": "application/json"}, 400),
    ({"data": '{"question": "x"}', "content_type": "text/plain"}, 415),
    ({"data": '{"question": "x"}'}, 415),
    ({"json": {}}, 422),
    ({"json": []}, 422),
    ({"json": "just a string"}, 422),
    ({"json": {"question": ""}}, 422),
    ({"json": {"question": "   "}}, 422),
    ({"json": {"question": "\x1c"}}, 422),  # whitespace to Python, not to the schema's pattern
    ({"json": {"question": "\x1e\x1f "}}, 422),
    ({"json": {"question": "\x85\u3000"}}, 422),  # NEL: whitespace to Python and Rust, not ECMAScript
    ({"json": {"question": 42}}, 422),
    ({"json": {"question": None}}, 422),
    ({"json": {"question": "x" * 1001}}, 422),
    ({"json": {"question": "fathers", "limit": 0}}, 422),
    ({"json": {"question": "fathers", "limit": 21}}, 422),
    ({"json": {"question": "fathers", "limit": "5"}}, 422),
    ({"json": {"question": "fathers", "limit": True}}, 422),
    ({"json": {"question": "fathers", "limit": 2.5}}, 422),
    ({"json": {"question": "fathers", "history": "earlier"}}, 422),
    ({"json": {"question": "fathers", "history": [1, 2]}}, 422),
    ({"json": {"question": "fathers", "history": ["q"] * 11}}, 422),
    ({"json": {"question": "fathers", "history": ["x" * 1001]}}, 422),
    ({"json": {"question": "fathers", "reports": "ages-of-concern"}}, 422),
    ({"json": {"question": "fathers", "reports": ["no-such-report"]}}, 422),
    ({"json": {"question": "fathers", "reports": []}}, 422),
    ({"json": {"question": "fathers", "colour": "blue"}}, 422),
    ({"data": json.dumps({"question": "x" * 70_000}), "content_type": "application/json"}, 413),
]


@pytest.mark.parametrize(("kwargs", "status"), BAD_ASKS)
def test_bad_ask_requests_get_precise_problems(client, kwargs: dict, status: int) -> None:
    assert_problem(client.post("/api/ask", **kwargs), status)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/api/ask", 405), ("put", "/api/ask", 405), ("delete", "/api/reports", 405),
    ("post", "/api/health", 405), ("get", "/api/nope", 404), ("get", "/api/reports/nope", 404),
    ("get", "/api/reports/..%2f..%2fetc", 404),
])
def test_wrong_method_and_unknown_paths(client, method: str, path: str, status: int) -> None:
    body = assert_problem(getattr(client, method)(path), status)
    if status == 405:
        assert "allowed" in body["detail"]


def test_no_index_is_503_with_reason(tmp_path: Path) -> None:
    client = create_app({"INDEX_DIR": str(tmp_path / "empty")}).test_client()
    body = assert_problem(client.get("/api/health"), 503)
    assert "qa-service index build" in body["detail"]
    assert_problem(client.post("/api/ask", json={"question": "fathers"}), 503)


def test_unexpected_error_is_a_problem_that_leaks_nothing(client, monkeypatch, caplog) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail /srv/path")

    monkeypatch.setattr("qa_service.services.ask", broken)
    response = client.post("/api/ask", json={"question": "fathers"}, headers={"X-Request-ID": "trace-123"})
    body = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert body["request_id"] == "trace-123" and "trace-123" in body["detail"]
    assert "trace-123" in caplog.text and "secret internal detail" in caplog.text


def test_security_headers_on_every_response(client) -> None:
    for response in (client.get("/api/health"), client.post("/api/ask", json={})):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_default_limit_is_five(client, monkeypatch) -> None:
    seen = {}

    def spy(index, question, limit, history, reports, groups, ranking, shown):
        seen["limit"] = limit
        return answer_module.ask(index, question, limit=limit, history=history, reports=reports, groups=groups,
                                 ranking=ranking, shown=shown)

    monkeypatch.setattr("qa_service.services.ask", spy)
    client.post("/api/ask", json={"question": "young people"})
    assert seen["limit"] == 5


def test_tell_me_more_moves_on_to_findings_not_yet_shown(client) -> None:
    first = client.post("/api/ask", json={"question": "What common errors were seen with babies?"}).get_json()
    shown = [f["citation"]["passage_id"] for f in first["findings"]]
    history = [{"question": first["question"], "shown": shown}]
    more = client.post("/api/ask", json={"question": "Tell me more.", "history": history}).get_json()
    again = {f["citation"]["passage_id"] for f in more["findings"]}
    assert not again & set(shown)
    if not more["found"]:
        assert more["answer"].startswith("Nothing more on this")
    # Plain-string history keeps working as before.
    plain = client.post("/api/ask", json={"question": "Tell me more.", "history": [first["question"]]}).get_json()
    assert plain["found"] and plain["findings"][0]["citation"]["passage_id"] in shown
