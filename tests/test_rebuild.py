"""Incremental builds, status, rollback, the admin endpoint, and builds that fail or are killed."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa_service import create_app
from qa_service.answering.answer import ask
from qa_service.cli import main
from qa_service.ingest.content import ContentError
from qa_service.search import builder as indexing
from qa_service.search import versions
from qa_service.search.builder import build_index
from qa_service.search.retrieval import IndexHolder
from qa_service.search.status import index_status
from tests.conftest import assert_problem, schema_validator, write_report

QUESTIONS = ["What about fathers?", "pre-birth assessments", "young people treated as adults",
             "When was it published?", "apprenticeships skills"]


def answers(index_dir: Path) -> list[list[tuple[str, str]]]:
    index = IndexHolder(index_dir).get()
    return [[(f.citation.passage_id, f.text) for f in ask(index, q).findings] for q in QUESTIONS]


def test_unchanged_content_is_reused_not_analysed(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    first = build_index(content_copy, index_dir)
    before = answers(index_dir)
    second = build_index(content_copy, index_dir)
    assert (first.analysed, first.reused) == (2, 0)
    assert (second.analysed, second.reused, second.passages) == (0, 2, first.passages)
    assert answers(index_dir) == before


def test_changed_added_and_removed_reports(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(content_copy, index_dir)
    related = content_copy / "ages-of-concern-related.md"
    related.write_text(related.read_text(encoding="utf-8") + "\nA xylophone workshop was planned.\n", encoding="utf-8")
    write_report(content_copy, "new-one", "Quokkas live on Rottnest Island.")
    summary = build_index(content_copy, index_dir)
    assert (summary.analysed, summary.reused, summary.removed) == (2, 1, 0)
    index = IndexHolder(index_dir).get()
    assert ask(index, "xylophone workshop").found and ask(index, "quokkas").found
    (content_copy / "new-one.md").unlink()
    summary = build_index(content_copy, index_dir)
    assert (summary.analysed, summary.reused, summary.removed) == (0, 2, 1)
    assert not ask(IndexHolder(index_dir).get(), "quokkas").found


def test_incremental_build_answers_like_a_full_build(tmp_path: Path, content_copy: Path) -> None:
    build_index(content_copy, tmp_path / "inc")
    write_report(content_copy, "extra", "Fathers were rarely invited to meetings about the baby.")
    build_index(content_copy, tmp_path / "inc")
    build_index(content_copy, tmp_path / "full", full=True)
    assert [[pid for pid, _ in a] for a in answers(tmp_path / "inc")] == \
           [[pid for pid, _ in a] for a in answers(tmp_path / "full")]


def test_passage_ids_survive_edits_elsewhere(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(content_copy, index_dir)
    old = {p.id for p in IndexHolder(index_dir).get().report("ages-of-concern").passages}
    main_report = content_copy / "ages-of-concern.md"
    main_report.write_text(main_report.read_text(encoding="utf-8").replace(
        "## Summary\n", "## Summary\n\nA note added before the summary.\n"), encoding="utf-8")
    build_index(content_copy, index_dir)
    new = {p.id for p in IndexHolder(index_dir).get().report("ages-of-concern").passages}
    assert old < new and len(new - old) == 1


def test_status_lists_changes_since_the_build(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(content_copy, index_dir)
    assert index_status(content_copy, index_dir).lines()[-1] == "Content: unchanged since this build"
    write_report(content_copy, "added", "New text.")
    (content_copy / "ages-of-concern-related.md").unlink()
    (content_copy / "ages-of-concern.md").write_text(
        (content_copy / "ages-of-concern.md").read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    status = index_status(content_copy, index_dir)
    assert (status.added, status.changed, status.removed) == (
        ["added.md"], ["ages-of-concern.md"], ["ages-of-concern-related.md"])


def test_cli_status_and_rollback(tmp_path: Path, content_copy: Path) -> None:
    runner = CliRunner()
    args = ["--content", str(content_copy), "--index", str(tmp_path / "ix")]
    nothing = runner.invoke(main, ["index", "rollback", "--index", str(tmp_path / "ix")])
    assert nothing.exit_code == 1 and "qa-service index build" in nothing.output
    runner.invoke(main, ["index", "build", *args])
    none = runner.invoke(main, ["index", "rollback", "--index", str(tmp_path / "ix")])
    assert none.exit_code == 1 and "no previous version" in none.output
    write_report(content_copy, "extra", "Walruses appear here.")
    runner.invoke(main, ["index", "build", *args])
    status = runner.invoke(main, ["index", "status", *args])
    assert "Reports: 3" in status.output and "unchanged since this build" in status.output
    back = runner.invoke(main, ["index", "rollback", "--index", str(tmp_path / "ix")])
    assert back.exit_code == 0 and back.output.startswith("Rolled back from v")
    assert "Reports: 2" in runner.invoke(main, ["index", "status", *args]).output


def test_disk_full_is_a_clear_error_and_changes_nothing(tmp_path: Path, content_copy: Path, monkeypatch) -> None:
    index_dir = tmp_path / "index"
    live = build_index(content_copy, index_dir).version
    write_report(content_copy, "extra", "Anything.")

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(indexing, "_write_manifest", full_disk)
    with pytest.raises(versions.IndexProblem, match="No space left on device"):
        build_index(content_copy, index_dir)
    assert versions.current_version(index_dir) == live
    assert not list(versions.versions_dir(index_dir).glob(".tmp-*"))


# --- the admin endpoint -------------------------------------------------------------------

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def admin_app(tmp_path: Path, content_copy: Path):
    index_dir = tmp_path / "index"
    build_index(content_copy, index_dir)
    return create_app({"INDEX_DIR": str(index_dir), "CONTENT_DIR": str(content_copy), "ADMIN_TOKEN": TOKEN})


def test_admin_is_hidden_without_a_token(bundled_index: Path) -> None:
    client = create_app({"INDEX_DIR": str(bundled_index), "ADMIN_TOKEN": ""}).test_client()
    assert_problem(client.post("/api/admin/reindex", headers={"Authorization": "Bearer anything"}), 404)


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ", TOKEN])
def test_admin_refuses_missing_or_wrong_token(admin_app, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = admin_app.test_client().post("/api/admin/reindex", headers=headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def run_job(client, query: str = "") -> dict:
    """POST a reindex job, check the 202, and poll the job until it ends; return its last state."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    started = time.monotonic()
    response = client.post("/api/admin/reindex" + query, headers=auth)
    assert response.status_code == 202, response.data
    accepted = response.get_json()
    schema_validator("JobAccepted").validate(accepted)
    assert accepted["state"] == "queued" and response.headers["Location"] == accepted["url"]
    assert accepted["url"] == f"/api/admin/jobs/{accepted['job']}"
    assert time.monotonic() - started < 5  # answered at once, not after the build
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(accepted["url"], headers=auth)
        assert job.status_code == 200
        body = job.get_json()
        schema_validator("Job").validate(body)
        if body["state"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_admin_reindex_job_builds_and_the_app_follows(admin_app, content_copy: Path) -> None:
    client = admin_app.test_client()
    before = client.post("/api/ask", json={"question": "narwhal tusks"}).get_json()
    write_report(content_copy, "narwhals", "Narwhal tusks are long teeth.")
    job = run_job(client)
    assert job["state"] == "done" and job["error"] is None, job
    summary = job["summary"]
    schema_validator("BuildSummary").validate(summary)
    assert (summary["analysed"], summary["reused"]) == (1, 2)
    assert job["progress"] == {"phase": "done", "reports_done": 1, "reports_total": 1}
    assert job["started_at"] and job["finished_at"] and job["full"] is False
    after = client.post("/api/ask", json={"question": "narwhal tusks"}).get_json()
    assert not before["found"] and after["found"]
    assert after["index_version"] == summary["version"] != before["index_version"]
    full = run_job(client, "?full=true")
    assert full["full"] is True and full["summary"]["analysed"] == 3


def test_admin_job_reports_bad_file_and_keeps_index(admin_app, content_copy: Path) -> None:
    client = admin_app.test_client()
    version = client.get("/api/health").get_json()["index_version"]
    (content_copy / "bad.md").write_text("---\ntitle: t\n---\ntext\n", encoding="utf-8")
    job = run_job(client)
    assert job["state"] == "failed" and job["summary"] is None
    assert job["error"]["status"] == 422 and "bad.md:2" in job["error"]["detail"]
    assert str(content_copy) not in job["error"]["detail"]
    assert client.get("/api/health").get_json()["index_version"] == version
    assert not list(versions.versions_dir(Path(admin_app.config["INDEX_DIR"])).glob(".tmp-*"))


def test_admin_job_while_another_build_holds_the_index_fails_409(admin_app) -> None:
    with versions.build_lock(Path(admin_app.config["INDEX_DIR"])):
        job = run_job(admin_app.test_client())
    assert job["state"] == "failed" and job["error"]["status"] == 409


def test_admin_second_job_while_one_runs_is_409_naming_it(admin_app) -> None:
    client = admin_app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first = client.post("/api/admin/reindex", headers=auth).get_json()
    second = client.post("/api/admin/reindex", headers=auth)
    body = assert_problem(second, 409)
    assert first["url"] in body["detail"] and second.headers["Location"] == first["url"]
    deadline = time.monotonic() + 120
    while client.get(first["url"], headers=auth).get_json()["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert client.post("/api/admin/reindex", headers=auth).status_code == 202  # free again


def test_admin_job_unknown_and_unauthorised(admin_app) -> None:
    client = admin_app.test_client()
    assert_problem(client.get("/api/admin/jobs/j20200101T000000-00000000",
                              headers={"Authorization": f"Bearer {TOKEN}"}), 404)
    assert_problem(client.get("/api/admin/jobs/../../etc", headers={"Authorization": f"Bearer {TOKEN}"}), 404)
    assert_problem(client.get("/api/admin/jobs/j20200101T000000-00000000"), 401)


def test_admin_job_with_unwritable_index_folder_is_503(tmp_path: Path, content_copy: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    app = create_app({"INDEX_DIR": str(blocker / "index"), "CONTENT_DIR": str(content_copy), "ADMIN_TOKEN": TOKEN})
    assert_problem(app.test_client().post("/api/admin/reindex", headers={"Authorization": f"Bearer {TOKEN}"}), 503)


def test_job_killed_midway_reads_failed_and_is_cleaned_up(admin_app, content_copy: Path) -> None:
    """A restart mid-job: the process is gone, the job reads failed, the next build removes the half."""
    client = admin_app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    index_dir = Path(admin_app.config["INDEX_DIR"])
    live = versions.current_version(index_dir)
    big_content(content_copy, reports=400)
    url = client.post("/api/admin/reindex", headers=auth).get_json()["url"]
    deadline = time.monotonic() + 60
    while True:
        job = client.get(url, headers=auth).get_json()
        if job["state"] == "running" and job["progress"]["phase"] == "analysing" and \
                list(versions.versions_dir(index_dir).glob(".tmp-*")):
            break
        assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.05)
    pid = json.loads((index_dir / "jobs" / f"{job['job']}.json").read_text())["pid"]
    os.killpg(pid, signal.SIGKILL)  # the whole session: the build and its writer processes
    deadline = time.monotonic() + 30
    while (job := client.get(url, headers=auth).get_json())["state"] != "failed":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["error"]["status"] == 500 and "killed" in job["error"]["detail"]
    assert versions.current_version(index_dir) == live
    assert client.get("/api/health").get_json()["index_version"] == live
    for path in (content_copy).glob("r0*.md"):
        path.unlink()
    after = run_job(client)
    assert after["state"] == "done"
    assert not list(versions.versions_dir(index_dir).glob(".tmp-*"))


# --- a build killed with SIGKILL ----------------------------------------------------------

def big_content(folder: Path, reports: int = 250, paragraphs: int = 12) -> None:
    for r in range(reports):
        body = "\n\n".join(f"Report {r} paragraph {p} mentions topic{r}x{p} and shared words here." for p in range(paragraphs))
        write_report(folder, f"r{r:04d}", body, title=f"Generated report {r}")


def test_build_killed_midway_is_harmless(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    live = build_index(content_copy, index_dir).version
    big_content(content_copy)
    proc = subprocess.Popen([sys.executable, "-m", "qa_service", "index", "build", "--content", str(content_copy),
                             "--index", str(index_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(versions.versions_dir(index_dir).glob(".tmp-*/*")):
        assert proc.poll() is None, "the build finished before it could be killed; make the corpus bigger"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert versions.current_version(index_dir) == live
    assert ask(IndexHolder(index_dir).get(), "role of fathers").found
    summary = build_index(content_copy, index_dir)  # the lock died with the process
    assert summary.reports == 252 and not list(versions.versions_dir(index_dir).glob(".tmp-*"))
    assert ask(IndexHolder(index_dir).get(), "topic7x3").found


def test_bad_file_midway_through_a_two_process_build(tmp_path: Path, content_copy: Path, monkeypatch) -> None:
    index_dir = tmp_path / "index"
    live = build_index(content_copy, index_dir).version
    monkeypatch.setattr(indexing, "MULTIPROCESS_FROM_BYTES", 0)  # take Whoosh's two-process writer
    big_content(content_copy, reports=30, paragraphs=5)
    (content_copy / "r0015x.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")  # sorts mid-way
    with pytest.raises(ContentError, match=r"r0015x\.md:2"):
        build_index(content_copy, index_dir, full=True)
    assert versions.current_version(index_dir) == live
    assert not list(versions.versions_dir(index_dir).glob(".tmp-*"))
    (content_copy / "r0015x.md").unlink()
    summary = build_index(content_copy, index_dir, full=True)
    assert summary.reports == 32 and ask(IndexHolder(index_dir).get(), "topic17x3").found


def test_a_build_in_another_process_holds_the_lock(tmp_path: Path, content_copy: Path) -> None:
    index_dir = tmp_path / "index"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom qa_service.search.versions import build_lock\n"
         "with build_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(30)\n", str(index_dir)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(versions.BuildLockedError):
            build_index(content_copy, index_dir)
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()
    assert build_index(content_copy, index_dir).reports == 2  # the lock died with its holder


def test_killed_two_process_build_leaves_no_stray_writers(tmp_path: Path) -> None:
    content = tmp_path / "content"
    for r in range(300):  # about 700 KB of Markdown: enough for Whoosh's two-process writer
        write_report(content, f"r{r:04d}", "\n\n".join(
            f"Report {r} paragraph {p} mentions topic{r}x{p} and shared words, with more words to make it longer."
            for p in range(20)))
    index_dir = tmp_path / "index"
    proc = subprocess.Popen([sys.executable, "-m", "qa_service", "index", "build", "--content", str(content),
                             "--index", str(index_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[str] = []
    deadline = time.monotonic() + 30
    while not children and proc.poll() is None and time.monotonic() < deadline:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True).stdout
        children = out.split()
        time.sleep(0.01)
    assert children, "the build never started its writer processes"
    proc.kill()
    proc.wait(timeout=10)

    def alive(pid: str) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in children)
    assert build_index(content, index_dir).reports == 300
