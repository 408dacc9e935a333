"""Question log, feedback, admin views and the /admin page, on a real SQLite file (no mocks)."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, text, update

from qa_service import create_app
from qa_service.cli import main
from qa_service.store.schema import feedback, questions
from qa_service.store.store import utcnow
from tests.conftest import assert_problem, schema_validator

TOKEN = "admin-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(tmp_path: Path, index: Path, **settings: object):
    config = {"INDEX_DIR": str(index), "DATABASE_URL": f"sqlite:///{tmp_path}/qa.sqlite3",
              "ADMIN_TOKEN": TOKEN, "INSTANCE_PATH": str(tmp_path / "instance"), **settings}
    return create_app(config)


@pytest.fixture
def app(tmp_path: Path, bundled_index: Path):
    return make_app(tmp_path, bundled_index)


@pytest.fixture
def client(app):
    return app.test_client()


def ask(client, question: str) -> dict:
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200
    body = response.get_json()
    schema_validator("Answer").validate(body)
    return body


def test_every_answer_is_logged_with_an_opaque_id(app, client) -> None:
    first, second = ask(client, "What about fathers?"), ask(client, "What is the capital of France?")
    assert re.fullmatch(r"[0-9a-f]{32}", first["answer_id"]) and first["answer_id"] != second["answer_id"]
    app.extensions["qa"].store.flush()  # answers are written in batches
    with app.extensions["qa"].store.connect() as conn:
        rows = {r.answer_id: r for r in conn.execute(select(questions))}
    row = rows[first["answer_id"]]
    assert row.question == "What about fathers?" and row.found and row.index_version == first["index_version"]
    assert row.passage_ids == [f["citation"]["passage_id"] for f in first["findings"]]
    assert row.took_ms == first["took_ms"]
    assert rows[second["answer_id"]].found is False and rows[second["answer_id"]].passage_ids == []


def logged_ids(database: Path) -> set[str]:
    """Return the answer ids in the log, read with a connection of its own (as another process would)."""
    with closing(sqlite3.connect(database)) as conn:
        return {answer_id for (answer_id,) in conn.execute("SELECT answer_id FROM questions")}


def test_the_writer_stores_answers_without_being_asked(client, tmp_path: Path) -> None:
    answer_id = ask(client, "What about fathers?")["answer_id"]
    deadline = time.monotonic() + 10
    while answer_id not in logged_ids(tmp_path / "qa.sqlite3") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert answer_id in logged_ids(tmp_path / "qa.sqlite3")


def test_closing_the_store_writes_what_is_pending(tmp_path: Path, bundled_index: Path, monkeypatch) -> None:
    monkeypatch.setattr("qa_service.store.store.LOG_FLUSH_SECONDS", 600)  # the writer would wait
    app = make_app(tmp_path, bundled_index)
    answer_ids = {ask(app.test_client(), q)["answer_id"] for q in ["What about fathers?", "Who won the cup?"]}
    assert not answer_ids & logged_ids(tmp_path / "qa.sqlite3")
    app.extensions["qa"].store.close()  # what a worker does as it exits
    assert answer_ids <= logged_ids(tmp_path / "qa.sqlite3")


def test_feedback_finds_an_answer_another_worker_has_not_written_yet(tmp_path: Path, bundled_index: Path) -> None:
    one, other = make_app(tmp_path, bundled_index), make_app(tmp_path, bundled_index)
    answer_id = ask(one.test_client(), "What about fathers?")["answer_id"]
    response = other.test_client().post("/api/feedback", json={"answer_id": answer_id, "helpful": True})
    assert response.status_code == 201 and response.get_json()["answer_id"] == answer_id


def test_feedback_is_stored_and_returns_201_with_its_id(app, client) -> None:
    answer = ask(client, "What about fathers?")
    response = client.post("/api/feedback", json={"answer_id": answer["answer_id"], "helpful": False,
                                                   "comment": "x" * 2000})
    assert response.status_code == 201
    body = response.get_json()
    schema_validator("FeedbackCreated").validate(body)
    assert body["answer_id"] == answer["answer_id"] and isinstance(body["id"], int)
    assert client.post("/api/feedback", json={"answer_id": answer["answer_id"], "helpful": True}).status_code == 201


@pytest.mark.parametrize("body, field, rule", [
    ({"answer_id": "a" * 32, "helpful": "yes"}, "helpful", "bool_type"),
    ({"answer_id": "a" * 32, "helpful": 1}, "helpful", "bool_type"),
    ({"answer_id": 5, "helpful": True}, "answer_id", "string_type"),
    ({"helpful": True}, "answer_id", "missing"),
    ({"answer_id": "a" * 32}, "helpful", "missing"),
    ({"answer_id": "a" * 32, "helpful": True, "comment": "x" * 2001}, "comment", "string_too_long"),
    ({"answer_id": "a" * 32, "helpful": True, "comment": 3}, "comment", "string_type"),
    ({"answer_id": "a" * 32, "helpful": True, "rating": 5}, "rating", "extra_forbidden"),
])
def test_bad_feedback_is_a_strict_422(client, body: dict, field: str, rule: str) -> None:
    problem = assert_problem(client.post("/api/feedback", json=body), 422)
    assert (field, rule) in {(e["field"], e["rule"]) for e in problem["errors"]}


@pytest.mark.parametrize("answer_id", ["", "nope", "0" * 32, "x" * 500, "\x00" * 32])
def test_unknown_answer_id_is_404(client, answer_id: str) -> None:
    assert_problem(client.post("/api/feedback", json={"answer_id": answer_id, "helpful": True}), 404)


def test_feedback_needs_json(client) -> None:
    assert_problem(client.post("/api/feedback", data="answer_id=x&helpful=true",
                               content_type="application/x-www-form-urlencoded"), 415)


def test_feedback_rate_limit_answers_429_with_retry_after(tmp_path: Path, bundled_index: Path) -> None:
    client = make_app(tmp_path, bundled_index, FEEDBACK_RATE="3/hour").test_client()
    answer_id = ask(client, "What about fathers?")["answer_id"]
    for _ in range(3):
        assert client.post("/api/feedback", json={"answer_id": answer_id, "helpful": True}).status_code == 201
    response = client.post("/api/feedback", json={"answer_id": answer_id, "helpful": True})
    assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    other = client.post("/api/feedback", json={"answer_id": answer_id, "helpful": True},
                        environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 201  # per client
    for _ in range(5):  # asking is never limited
        ask(client, "What about fathers?")


def test_admin_questions_group_identical_questions(client) -> None:
    for question in ["What is the capital of France?", "what is  the CAPITAL of france?", "What about fathers?",
                     "Who won the cup?", "What is the capital of   France?"]:
        ask(client, question)
    assert_problem(client.get("/api/admin/questions"), 401)
    body = client.get("/api/admin/questions?found=false&limit=10", headers=AUTH).get_json()
    schema_validator("QuestionList").validate(body)
    assert [(q["question"], q["count"], q["found"]) for q in body["questions"]] == [
        ("What is the capital of   France?", 3, False), ("Who won the cup?", 1, False)]
    everything = client.get("/api/admin/questions", headers=AUTH).get_json()["questions"]
    assert {q["question"] for q in everything} >= {"What about fathers?"}
    assert len(client.get("/api/admin/questions?limit=1", headers=AUTH).get_json()["questions"]) == 1
    for bad in ["limit=0", "limit=1001", "limit=x", "found=maybe", "sort=count"]:
        assert_problem(client.get(f"/api/admin/questions?{bad}", headers=AUTH), 422)


def test_admin_feedback_lists_newest_first(client) -> None:
    fathers, france = ask(client, "What about fathers?"), ask(client, "What is the capital of France?")
    client.post("/api/feedback", json={"answer_id": fathers["answer_id"], "helpful": True})
    client.post("/api/feedback", json={"answer_id": france["answer_id"], "helpful": False, "comment": "Wrong"})
    body = client.get("/api/admin/feedback?limit=5", headers=AUTH).get_json()
    schema_validator("FeedbackList").validate(body)
    newest, older = body["feedback"]
    assert (newest["answer_id"], newest["helpful"], newest["comment"], newest["passage_ids"]) == (
        france["answer_id"], False, "Wrong", [])
    assert older["question"] == "What about fathers?" and older["passage_ids"][0] == fathers["findings"][0]["citation"]["passage_id"]
    assert_problem(client.get("/api/admin/feedback?limit=1001", headers=AUTH), 422)


def test_admin_endpoints_are_404_without_a_token(tmp_path: Path, bundled_index: Path) -> None:
    client = make_app(tmp_path, bundled_index, ADMIN_TOKEN="").test_client()
    for path in ["/api/admin/questions", "/api/admin/feedback"]:
        assert_problem(client.get(path, headers=AUTH), 404)
    assert client.get("/admin").status_code == 404


def test_no_question_text_is_stored_when_logging_is_off(tmp_path: Path, bundled_index: Path) -> None:
    app = make_app(tmp_path, bundled_index, LOG_QUESTIONS=False)
    client = app.test_client()
    answer = ask(client, "Zanzibar quokka fathers?")
    assert client.post("/api/feedback", json={"answer_id": answer["answer_id"], "helpful": True}).status_code == 201
    grouped = client.get("/api/admin/questions", headers=AUTH).get_json()["questions"]
    assert grouped[0]["question"] is None and grouped[0]["count"] == 1
    app.extensions["qa"].store.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("qa.sqlite3*"))
    assert b"fathers" not in stored.lower() and b"quokka" not in stored.lower()


def test_retention_deletes_old_rows(app, client) -> None:
    store = app.extensions["qa"].store
    old, new = ask(client, "What about fathers?"), ask(client, "Who won the cup?")
    client.post("/api/feedback", json={"answer_id": old["answer_id"], "helpful": True})
    with store.connect() as conn:
        conn.execute(update(questions).where(questions.c.answer_id == old["answer_id"])
                     .values(asked_at=utcnow() - timedelta(days=91)))
    store.prune()
    with store.connect() as conn:
        assert [r.answer_id for r in conn.execute(select(questions))] == [new["answer_id"]]
        assert conn.execute(select(feedback)).all() == []


def test_export_gives_a_gold_set_eval_runs(app, client, tmp_path: Path, bundled_index: Path, monkeypatch) -> None:
    fathers, france = ask(client, "What about fathers?"), ask(client, "What is the capital of France?")
    pre_birth = ask(client, "What went wrong with pre-birth assessments?")
    for answer, helpful in [(fathers, True), (france, True), (pre_birth, False)]:
        client.post("/api/feedback", json={"answer_id": answer["answer_id"], "helpful": helpful,
                                           "comment": None if helpful else "Not this\nparagraph"})
    monkeypatch.setenv("QA_DATABASE_URL", f"sqlite:///{tmp_path}/qa.sqlite3")
    out = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 gold questions and 1 lines for review" in result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    gold = [json.loads(line) for line in lines if not line.startswith("#")]
    assert gold == [{"question": "What about fathers?", "passage_id": fathers["findings"][0]["citation"]["passage_id"]},
                    {"question": "What is the capital of France?", "answerable": False}]
    review = [line for line in lines[1:] if line.startswith("#")]
    assert len(review) == 1 and "pre-birth" in review[0] and "Not this\\nparagraph" in review[0]
    scored = CliRunner().invoke(main, ["eval", str(out), "--index", str(bundled_index), "--json"])
    assert scored.exit_code == 0, scored.output
    metrics = json.loads(scored.output)
    assert metrics["questions"] == 2 and metrics["recall@1"] == 1.0 and metrics["unanswerable_answered"] == 0.0
    later = CliRunner().invoke(main, ["feedback", "export", "-", "--since", "2999-01-01"])
    assert later.exit_code == 0 and "0 gold questions" in later.output


def test_database_down_answering_goes_on(tmp_path: Path, bundled_index: Path, caplog) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    client = make_app(tmp_path, bundled_index, DATABASE_URL=f"sqlite:///{blocker}/qa.sqlite3").test_client()
    answer = ask(client, "What about fathers?")
    assert answer["found"] and answer["answer_id"]
    health = client.get("/api/health")
    assert health.status_code == 200 and health.get_json()["database"] == "unavailable"
    assert_problem(client.post("/api/feedback", json={"answer_id": answer["answer_id"], "helpful": True}), 503)
    assert_problem(client.get("/api/admin/questions", headers=AUTH), 503)
    assert "unavailable" in caplog.text


def test_migrations_are_applied_once_and_recorded(app) -> None:
    store = app.extensions["qa"].store
    with store.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0001"
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 5000
        conn.execute(insert(questions).values(answer_id="b" * 32, asked_at=utcnow(), found=False, passage_ids=[],
                                              index_version="v", took_ms=1.0))


def sign_in(client, token: str = TOKEN):
    page = client.get("/admin")
    assert page.status_code == 200 and 'name="token"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    return client.post("/admin/sign-in", data={"csrf": csrf, "token": token}), csrf


def test_admin_page_sign_in_with_csrf_and_signed_cookie(client) -> None:
    ask(client, "What is the capital of France?")
    answer = ask(client, "What about fathers?")
    client.post("/api/feedback", json={"answer_id": answer["answer_id"], "helpful": False, "comment": "Too vague"})
    wrong, _ = sign_in(client, "wrong")
    assert wrong.status_code == 401 and "not the admin token" in wrong.text
    assert client.post("/admin/sign-in", data={"token": TOKEN}).status_code == 400  # no CSRF token
    response, _ = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/admin"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    page = client.get("/admin")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.text
    assert "What is the capital of France?" in html and "Too vague" in html and "Most asked" in html
    assert "<script" not in html and "style=" not in html and "<style" not in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)[1]
    assert client.post("/admin/sign-out", data={"csrf": "forged"}).status_code == 400
    assert client.post("/admin/sign-out", data={"csrf": csrf}).status_code == 303
    assert 'name="token"' in client.get("/admin").text


def test_a_forged_or_foreign_cookie_does_not_sign_in(tmp_path: Path, bundled_index: Path) -> None:
    client = make_app(tmp_path, bundled_index).test_client()
    sign_in(client)
    other = make_app(tmp_path / "b", bundled_index, SECRET_KEY="another-key").test_client()
    cookie = client.get_cookie("qa_admin")
    other.set_cookie("qa_admin", cookie.value)
    assert 'name="token"' in other.get("/admin").text


def test_secret_key_is_made_once_in_the_instance_folder(tmp_path: Path, bundled_index: Path) -> None:
    first = make_app(tmp_path, bundled_index, SECRET_KEY="")
    second = make_app(tmp_path, bundled_index, SECRET_KEY="")
    key_file = tmp_path / "instance" / "secret_key"
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(str(first.secret_key)) == 64 and key_file.stat().st_mode & 0o777 == 0o600
    client = first.test_client()
    sign_in(client)
    other = second.test_client()
    other.set_cookie("qa_admin", client.get_cookie("qa_admin").value)
    assert "Unanswered questions" in other.get("/admin").text  # another worker accepts the cookie


def test_openapi_documents_feedback_and_answer_id(client) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert "answer_id" in doc["components"]["schemas"]["Answer"]["properties"]
    assert doc["components"]["schemas"]["FeedbackRequest"]["required"] == ["answer_id", "helpful"]
    assert set(doc["paths"]["/api/feedback"]["post"]["responses"]) >= {"201", "404", "422", "429", "503"}
    assert {"/api/admin/questions", "/api/admin/feedback"} <= set(doc["paths"])


def test_the_head_revision_the_store_checks_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from qa_service.store import engine

    config = Config()
    config.set_main_option("script_location", str(engine.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [engine.HEAD_REVISION]


def test_a_database_already_at_head_is_not_migrated_again(tmp_path: Path, bundled_index: Path, monkeypatch) -> None:
    from qa_service.store import store

    make_app(tmp_path, bundled_index)  # creates and migrates the database
    store._migrated.clear()  # as a new worker process would start
    monkeypatch.setattr("alembic.command.upgrade", lambda *_a: pytest.fail("migrated a database already at head"))
    client = make_app(tmp_path, bundled_index).test_client()
    assert ask(client, "What about fathers?")["answer_id"]


def test_a_failing_log_write_is_dropped_with_a_warning_and_answering_goes_on(tmp_path: Path, bundled_index: Path,
                                                                            caplog, monkeypatch) -> None:
    monkeypatch.setattr("qa_service.store.store.RETRY_SECONDS", 0.0)  # no pause before trying again
    app = make_app(tmp_path, bundled_index)
    client, store = app.test_client(), app.extensions["qa"].store
    with closing(sqlite3.connect(tmp_path / "qa.sqlite3")) as conn:
        conn.execute("ALTER TABLE questions RENAME TO questions_away")  # the write now fails
    answer = ask(client, "What about fathers?")
    store.flush()
    assert answer["found"] and "question log entry dropped" in caplog.text
    with closing(sqlite3.connect(tmp_path / "qa.sqlite3")) as conn:
        conn.execute("ALTER TABLE questions_away RENAME TO questions")
    later = ask(client, "Who won the cup?")
    store.flush()
    assert later["answer_id"] in logged_ids(tmp_path / "qa.sqlite3")
    assert answer["answer_id"] not in logged_ids(tmp_path / "qa.sqlite3")
    assert "is back; 1 question log entries were dropped" in caplog.text
