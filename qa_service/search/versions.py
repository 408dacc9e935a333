"""Changing the index directory: publishing a version, the CURRENT pointer, the build lock, rollback."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from qa_service.search.format import (
    MANIFEST,
    POINTER,
    PREVIOUS,
    TMP_PREFIX,
    VERSION_NAME,
    BuildLockedError,
    IndexProblem,
    current_version,
    read_pointer,
    require_current,
    versions_dir,
)

# Versions kept besides the live one: the previous (for rollback) and one more, so a worker
# still answering from an older version during two quick builds never loses its files.
KEEP_OLD = 2
LOCK = ".build.lock"


def new_version_name() -> str:
    """Return a fresh version name that sorts by build time (UTC, to the microsecond)."""
    now = time.time()
    return time.strftime("v%Y%m%dT%H%M%S", time.gmtime(now)) + f"-{int(now % 1 * 1_000_000):06d}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_pointer(index_dir: Path, version: str, name: str = POINTER) -> None:
    """Point `name` at a version with an atomic rename, so readers see old or new, never half."""
    tmp = index_dir / f"{name}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / name)
    _fsync_dir(index_dir)


def ensure_writable(index_dir: Path) -> None:
    """Create the index directory, or raise a clear error if it cannot be written."""
    try:
        versions_dir(index_dir).mkdir(parents=True, exist_ok=True)
        probe = index_dir / f".probe-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise IndexProblem(f"cannot write to index directory {index_dir}: {exc.strerror}") from None


# POSIX record locks do not exclude threads of one process from each other; this does.
_IN_PROCESS = threading.Lock()


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index directory's build lock, failing at once if another build has it."""
    ensure_writable(index_dir)
    busy = BuildLockedError(f"another build is running on {index_dir}; try again when it ends")
    if not _IN_PROCESS.acquire(blocking=False):
        raise busy
    fh = open(index_dir / LOCK, "a+")
    try:
        try:
            # A POSIX record lock, not flock(): child processes (Whoosh's parallel writer forks
            # two) do not inherit it, so a crashed build never leaves it held by a stray child.
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise busy from None
            raise
        yield
    finally:
        fh.close()  # closing releases the lock, also when the process is killed
        _IN_PROCESS.release()


def staging_dir(index_dir: Path, version: str) -> Path:
    """Return a fresh hidden folder to build a version in; only a finished build is renamed."""
    path = versions_dir(index_dir) / f"{TMP_PREFIX}{version}"
    path.mkdir(parents=True)
    return path


def publish(index_dir: Path, staged: Path, version: str) -> None:
    """Move a finished build into place and make it the live version."""
    for path in staged.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    final = versions_dir(index_dir) / version
    os.rename(staged, final)
    _fsync_dir(versions_dir(index_dir))
    old = current_version(index_dir)
    if old and old != version:
        write_pointer(index_dir, old, PREVIOUS)
    write_pointer(index_dir, version)


def all_versions(index_dir: Path) -> list[str]:
    """Return the finished versions on disk, oldest first."""
    root = versions_dir(index_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and VERSION_NAME.match(p.name))


def prune(index_dir: Path) -> None:
    """Remove abandoned staging folders and versions older than the kept ones."""
    root = versions_dir(index_dir)
    for path in root.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(path, ignore_errors=True)
    keep = {read_pointer(index_dir), read_pointer(index_dir, PREVIOUS)}
    old = [v for v in all_versions(index_dir) if v not in keep]
    for name in old[: max(0, len(old) - (KEEP_OLD - 1))]:
        shutil.rmtree(root / name, ignore_errors=True)


def rollback(index_dir: Path) -> tuple[str, str]:
    """Make the previous version live again; return (from, to)."""
    with build_lock(index_dir):
        live = require_current(index_dir)
        previous = read_pointer(index_dir, PREVIOUS)
        if not previous or not (versions_dir(index_dir) / previous / MANIFEST).is_file():
            raise IndexProblem(f"no previous version to roll back to in {index_dir}")
        write_pointer(index_dir, live, PREVIOUS)
        write_pointer(index_dir, previous)
        return live, previous
