"""Index builds as jobs: started from a serving worker, run by a detached `qa-service index build`.

A job is a small JSON file, `<index>/jobs/<id>.json`, that every worker can read and that outlives
the request (and the worker) that started it. The worker writes it as `queued` and starts
`python -m qa_service index build --job <id>` in a session of its own; that process marks the job
`running` with its pid, records progress as it goes, and ends it `done` with the build summary or
`failed` with the error. A job whose process is gone while the file still says queued or running
(the service was restarted, the machine rebooted, the process was killed) reads as `failed`; its
half-built staging folder is removed by the next build, as for any interrupted build.

This module only reads and writes job files and starts processes: a serving worker imports it,
and it never imports the index builder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from qa_service.search.format import IndexProblem

JOBS_DIR = "jobs"
JOBS_KEPT = 20                   # finished job files kept; older ones are deleted when a job starts
QUEUED_GRACE_S = 60              # a job still queued with no process after this long has failed
PROGRESS_EVERY_S = 0.5           # the runner rewrites the job file at most this often
JOB_ID = re.compile(r"^j\d{8}T\d{6}-[0-9a-f]{8}$")
FINAL = ("done", "failed")
LOST = ("The build process ended without finishing (the service restarted or the process was killed); "
        "the live index is unchanged and the next build removes the half-built version.")


class JobRunningError(IndexProblem):
    """A reindex job is already queued or running; it names that job."""

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(f"job {job['job']} is {job['state']}: {job_url(job['job'])}")
        self.job = job


def job_url(job_id: str) -> str:
    """Return the API path of a job."""
    return f"/api/admin/jobs/{job_id}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def jobs_dir(index_dir: Path) -> Path:
    """Return the folder holding the job files."""
    return Path(index_dir) / JOBS_DIR


def _path(index_dir: Path, job_id: str) -> Path:
    return jobs_dir(index_dir) / f"{job_id}.json"


def _write(index_dir: Path, job: dict[str, Any]) -> None:
    """Write a job file atomically, so a reader sees the old state or the new, never half."""
    path = _path(index_dir, job["job"])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _start_time(pid: int) -> str | None:
    """Return a process's start time in clock ticks since boot (tells a reused pid apart), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has finished
        return None
    return fields[19]


def _alive(job: dict[str, Any]) -> bool:
    pid = job.get("pid")
    if not pid:
        return False
    started = _start_time(int(pid))
    if started is None:
        return False
    return job.get("pid_start") in (None, started)


def _settle(job: dict[str, Any]) -> dict[str, Any]:
    """Return the job as it really stands: a queued or running job without its process has failed."""
    if job["state"] in FINAL:
        return job
    if _alive(job):
        return job
    if job["state"] == "queued" and not job.get("pid"):
        created = dt.datetime.fromisoformat(job["created_at"])
        if (dt.datetime.now(dt.UTC) - created).total_seconds() < QUEUED_GRACE_S:
            return job
    return {**job, "state": "failed", "finished_at": job.get("finished_at") or _now(),
            "error": {"status": 500, "title": "Build interrupted", "detail": LOST}}


def read_job(index_dir: Path, job_id: str) -> dict[str, Any] | None:
    """Return a job's current state, or None when there is no such job."""
    if not JOB_ID.match(job_id):
        return None
    try:
        job = json.loads(_path(index_dir, job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _settle(job)


def _all_jobs(index_dir: Path) -> list[str]:
    folder = jobs_dir(index_dir)
    return sorted(p.stem for p in folder.glob("j*.json") if JOB_ID.match(p.stem)) if folder.is_dir() else []


def active_job(index_dir: Path) -> dict[str, Any] | None:
    """Return the job that is queued or running, if any."""
    for job_id in reversed(_all_jobs(index_dir)):
        job = read_job(index_dir, job_id)
        if job is not None and job["state"] not in FINAL:
            return job
    return None


@contextlib.contextmanager
def _jobs_lock(index_dir: Path) -> Iterator[None]:
    """Serialise starting jobs across the workers of one machine (a blocking POSIX lock, held briefly)."""
    with open(jobs_dir(index_dir) / ".lock", "a+") as fh:
        fcntl.lockf(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(fh, fcntl.LOCK_UN)


def _prune(index_dir: Path) -> None:
    finished = [j for j in _all_jobs(index_dir) if (read_job(index_dir, j) or {}).get("state") in FINAL]
    for job_id in finished[: max(0, len(finished) - JOBS_KEPT)]:
        for path in (_path(index_dir, job_id), jobs_dir(index_dir) / f"{job_id}.log"):
            path.unlink(missing_ok=True)


def start_job(index_dir: Path, content_dir: Path, full: bool = False) -> dict[str, Any]:
    """Queue a build job and start its detached process; raise JobRunningError if one is active."""
    index_dir = Path(index_dir)
    try:
        jobs_dir(index_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexProblem(f"cannot write to index directory {index_dir}: {exc.strerror}") from None
    with _jobs_lock(index_dir):
        running = active_job(index_dir)
        if running is not None:
            raise JobRunningError(running)
        _prune(index_dir)
        job_id = time.strftime("j%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)
        job: dict[str, Any] = {
            "job": job_id, "url": job_url(job_id), "state": "queued", "full": full, "created_at": _now(),
            "started_at": None, "finished_at": None, "pid": None, "pid_start": None,
            "progress": {"phase": "queued", "reports_done": 0, "reports_total": None}, "summary": None,
            "error": None}
        _write(index_dir, job)
        command = [sys.executable, "-m", "qa_service", "index", "build", "--content", str(content_dir),
                   "--index", str(index_dir), "--job", job_id] + (["--full"] if full else [])
        with open(jobs_dir(index_dir) / f"{job_id}.log", "ab") as log:
            # A session of its own: the build outlives this request and this worker, and no
            # worker timeout or signal to the worker reaches it.
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True, close_fds=True)
        # Reap the process when it ends (no zombie left behind in a long-lived worker).
        # The process records its own pid when it marks the job running; until then the job is
        # queued, and a job queued for QUEUED_GRACE_S without a process reads as failed.
        threading.Thread(target=proc.wait, name=f"reap-{job_id}", daemon=True).start()
        return job


class JobRunner:
    """The build process's side: mark the job running, record progress, end it done or failed."""

    def __init__(self, index_dir: Path, job_id: str) -> None:
        self.index_dir = Path(index_dir)
        job = read_job(self.index_dir, job_id)
        if job is None:
            raise IndexProblem(f"no job {job_id} in {jobs_dir(self.index_dir)}")
        self.job = job
        self._written = 0.0

    def _update(self, force: bool = False, **changes: Any) -> None:
        self.job = {**self.job, **changes}
        now = time.monotonic()
        if force or now - self._written >= PROGRESS_EVERY_S:
            _write(self.index_dir, self.job)
            self._written = now

    def progress(self, items: Iterable) -> Iterable:
        """Wrap the files being analysed: count them into the job file as they go."""
        listed = list(items)
        self._update(True, progress={"phase": "analysing", "reports_done": 0, "reports_total": len(listed)})
        for done, item in enumerate(listed):
            yield item
            self._update(progress={"phase": "analysing", "reports_done": done + 1, "reports_total": len(listed)})
        self._update(True, progress={"phase": "writing", "reports_done": len(listed), "reports_total": len(listed)})

    def run(self, build: Callable[[Callable[[Iterable], Iterable]], dict[str, Any]],
            describe: Callable[[BaseException], dict[str, Any]]) -> bool:
        """Run the build; return True when it succeeded. `describe` turns an error into {status, title, detail}."""
        pid = os.getpid()
        self._update(True, state="running", pid=pid, pid_start=_start_time(pid), started_at=_now(),
                     progress={"phase": "planning", "reports_done": 0, "reports_total": None})
        try:
            summary = build(self.progress)
        except Exception as exc:  # noqa: BLE001 - every failure ends the job with its reason
            self._update(True, state="failed", finished_at=_now(), error=describe(exc))
            return False
        progress = {**self.job["progress"], "phase": "done"}
        self._update(True, state="done", finished_at=_now(), summary=summary, progress=progress)
        return True
