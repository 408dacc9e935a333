"""The index directory: versioned builds, an atomic CURRENT pointer, a build lock, rollback."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

POINTER = "CURRENT"
PREVIOUS = "PREVIOUS"
VERSIONS = "versions"
LOCK = ".build.lock"
MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"
VERSION_NAME = re.compile(r"^v\d{8}T\d{6}-\d{6}$")
# Versions kept besides the live one: the previous (for rollback) and one more, so a worker
# still answering from an older version during two quick builds never loses its files.
KEEP_OLD = 2


class IndexProblem(RuntimeError):
    """Base for index problems a user can fix; the message says how."""


class NoIndexError(IndexProblem):
    """There is no built index where one was expected."""


class BuildLockedError(IndexProblem):
    """Another build holds the lock on this index directory."""


def new_version_name() -> str:
    """Return a fresh version name that sorts by build time (UTC, to the microsecond)."""
    now = time.time()
    return time.strftime("v%Y%m%dT%H%M%S", time.gmtime(now)) + f"-{int(now % 1 * 1_000_000):06d}"


def versions_dir(index_dir: Path) -> Path:
    """Return the folder that holds one subfolder per built version."""
    return index_dir / VERSIONS


def read_pointer(index_dir: Path, name: str = POINTER) -> str | None:
    """Return the version a pointer file names, or None if there is none."""
    try:
        value = (index_dir / name).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value if VERSION_NAME.match(value) else None


def current_version(index_dir: Path) -> str | None:
    """Return the live version's name, or None when nothing has been built."""
    version = read_pointer(index_dir)
    if version and (versions_dir(index_dir) / version / MANIFEST).is_file():
        return version
    return None


def require_current(index_dir: Path) -> str:
    """Return the live version or raise NoIndexError explaining how to build one."""
    version = current_version(index_dir)
    if version is None:
        raise NoIndexError(f"no index in {index_dir}: build one with `qa-service index build`")
    return version


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


def read_manifest(index_dir: Path, version: str) -> dict:
    """Return the manifest written with a version."""
    path = versions_dir(index_dir) / version / MANIFEST
    return json.loads(path.read_text(encoding="utf-8"))


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
