"""The question log and feedback through real `qa-service serve` servers, on SQLite and PostgreSQL.

PostgreSQL runs as a throwaway cluster (tests/pg_cluster.py) on a free localhost port.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

import psycopg
import pytest

from qa_service import create_app
from tests.conftest import CLI, free_port, post_json, wait_healthy
from tests.pg_cluster import Cluster, binaries

pytestmark = pytest.mark.slow
POSTS, THREADS = 200, 8
SECRET = "Zanzibar quokka"  # a question no database may keep when QA_LOG_QUESTIONS=false


class Server:
    def __init__(self, index: Path, workers: int, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(CLI), "serve", "--port", str(self.port), "--workers", str(workers), "--index", str(index)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **env})

    def __enter__(self) -> Self:
        wait_healthy(self.base, self.proc, seconds=30)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> str:
        """Stop the server (once) and return its log."""
        if not hasattr(self, "log"):
            if self.proc.poll() is None:
                self.proc.terminate()
            self.log = self.proc.communicate(timeout=20)[0] or ""
        return self.log

    def ask(self, question: str) -> dict:
        return post_json(self.base + "/api/ask", {"question": question})

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.base + path, timeout=10) as response:
            return json.loads(response.read())


def post_status(base: str, body: dict) -> int:
    request = urllib.request.Request(base + "/api/feedback", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def post_many(bases: list[str], answer_ids: list[str]) -> tuple[list[int], float]:
    """Post POSTS feedback records from THREADS threads, spread over the servers; return statuses, seconds."""
    def one(n: int) -> int:
        return post_status(bases[n % len(bases)], {"answer_id": answer_ids[n % len(answer_ids)],
                                                    "helpful": n % 3 != 0, "comment": f"note {n}"})
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(one, range(POSTS)))
    return statuses, time.perf_counter() - started


def test_sqlite_two_workers_take_200_concurrent_posts(tmp_path: Path, bundled_index: Path) -> None:
    database = tmp_path / "qa.sqlite3"
    with Server(bundled_index, 2, QA_DATABASE_URL=f"sqlite:///{database}") as server:
        ids = [server.ask(q)["answer_id"] for q in ("What about fathers?", "What is the capital of France?")]
        statuses, seconds = post_many([server.base], ids)
        assert statuses == [201] * POSTS, sorted(set(statuses))
        assert server.get("/api/health")["database"] == "ok"
    import sqlite3

    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM feedback").fetchone() == (POSTS,)
        assert conn.execute("SELECT count(DISTINCT comment) FROM feedback").fetchone() == (POSTS,)
    print(f"\nSQLite, one server, 2 workers: {POSTS} posts from {THREADS} threads in {seconds:.2f} s")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Cluster]:
    if binaries() is None:
        message = "PostgreSQL is not installed (scripts/ensure-postgres.sh installs it as root)"
        if os.environ.get("QA_REQUIRE_POSTGRES") == "1":  # CI: the real database must really run
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(free_port()).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def text_values(url: str) -> list[str]:
    """Return every value of every text-like column of every table in the database."""
    values: list[str] = []
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')").fetchall()
        for table, column in columns:
            values += [str(v) for (v,) in conn.execute(f'SELECT "{column}"::text FROM "{table}"') if v is not None]
    return values


def test_postgres_two_servers_share_log_feedback_and_rate_limit(postgres: Cluster, bundled_index: Path) -> None:
    """Two servers, one database: all 200 posts land, the rate limit holds across both; a third
    server with QA_LOG_QUESTIONS=false leaves no question text in any column; then the database
    goes away and every server keeps answering."""
    url, private_url = postgres.create_database("qa_shared"), postgres.create_database("qa_private")
    env = {"QA_DATABASE_URL": url, "QA_FEEDBACK_RATE": f"{POSTS}/day", "QA_ADMIN_TOKEN": "pg-token"}
    servers = [Server(bundled_index, 1, **env), Server(bundled_index, 1, **env)]
    try:
        first, second = (server.__enter__() for server in servers)  # both start at once
        ids = [first.ask("What about fathers?")["answer_id"], second.ask("What is the capital of France?")["answer_id"]]
        statuses, seconds = post_many([first.base, second.base], ids)  # each answer rated through both servers
        assert statuses == [201] * POSTS, sorted(set(statuses))
        # The rate limit counts across both servers: the next post from this client is refused.
        assert post_status(second.base, {"answer_id": ids[0], "helpful": True}) == 429
        request = urllib.request.Request(first.base + "/api/admin/questions",
                                         headers={"Authorization": "Bearer pg-token"})
        with urllib.request.urlopen(request, timeout=10) as response:
            grouped = json.loads(response.read())["questions"]
        assert {q["question"] for q in grouped} == {"What about fathers?", "What is the capital of France?"}
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM feedback").fetchone() == (POSTS,)
            assert conn.execute("SELECT count(DISTINCT comment) FROM feedback").fetchone() == (POSTS,)

        private = create_app({"INDEX_DIR": str(bundled_index), "DATABASE_URL": private_url,
                              "LOG_QUESTIONS": False}).test_client()
        secret = private.post("/api/ask", json={"question": f"{SECRET} fathers?"}).get_json()
        assert private.post("/api/feedback", json={"answer_id": secret["answer_id"], "helpful": False}).status_code == 201
        values = text_values(private_url)
        assert secret["answer_id"] in values  # the log row is there, without the question
        assert not [v for v in values if "quokka" in v.lower() or "fathers" in v.lower()]

        postgres.stop()  # the database goes away: every server keeps answering, and says so
        started = time.perf_counter()
        for server in (first, second):
            assert server.ask("What about fathers?")["found"]
            assert server.get("/api/health")["database"] == "unavailable"
        assert private.post("/api/ask", json={"question": "What about fathers?"}).get_json()["found"]
        assert time.perf_counter() - started < 10
    finally:
        for server in servers:
            server.proc.terminate()
        logs = [server.stop() for server in servers]
    assert all("unavailable" in log for log in logs)  # the outage is in each server's log
    print(f"\nPostgreSQL, two servers: {POSTS} posts from {THREADS} threads in {seconds:.2f} s")
