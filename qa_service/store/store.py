"""The one object the app and the CLI use for the database: it opens, migrates, and survives outages.

The service must answer whether or not the database is there. Every use goes through
`Store.connect()`: a database that cannot be reached makes it raise `StoreUnavailable` (logged
once, not once per request), and for the next few seconds the store does not try again, so an
outage costs answering nothing. Once the database is back the schema is checked and use resumes.

Answers are logged in batches by a writer thread: one transaction per batch instead of one per
answer, so two workers seldom wait for SQLite's write lock (issue 16: the per-answer write was the
whole throughput gap at 20,000 passages). For an SQLite file the writer is an OS thread of its own
with its own connection (sqlite_writer.py), so under gevent a write never holds up the worker's
other requests. A row reaches the database within about LOG_FLUSH_SECONDS; reads in the same
process write what is pending first, and feedback on an answer another worker has not written yet
waits for it that long.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gevent import monkey
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError

from qa_service.store import engine as engines
from qa_service.store import feedback as feedback_rows
from qa_service.store import log as question_log
from qa_service.store import ratelimit
from qa_service.store.ratelimit import Rate
from qa_service.store.records import FeedbackRecord, QuestionGroup, Trend
from qa_service.store.sqlite_writer import SQLiteLogWriter

log = logging.getLogger("qa_service.store")
DEFAULT_RATE = Rate(600, 60)
RETRY_SECONDS = 5.0        # after a failure, the database is left alone this long
PRUNE_EVERY_SECONDS = 3600
LOG_FLUSH_SECONDS = 0.5    # an answer waits at most about this long before it is written
LOG_PENDING_MAX = 5000     # with the database slow or down, answers past this are dropped (counted)
_migrated: set[str] = set()  # URLs this process has brought up to date
_migrating = threading.Lock()
# A gevent worker patches threads, locks and sleep; the SQLite log writer needs the OS's own
# (these are the standard library's whether or not anything was patched).
_native_spawn, _native_lock = monkey.get_original("_thread", ["start_new_thread", "allocate_lock"])
_native_sleep = monkey.get_original("time", "sleep")


class StoreUnavailable(Exception):
    """The database cannot be reached (or is not set up); the request needing it cannot be served."""


class UnknownAnswer(LookupError):
    """Feedback names an answer id that no logged answer has."""


class RateLimited(Exception):
    """A client sent more requests than a rate allows; it may try again after `retry_after` seconds."""

    def __init__(self, retry_after: int, rate: Rate, what: str = "feedback requests") -> None:
        super().__init__(f"at most {rate.count} {what} per {rate.seconds} s; try again in {retry_after} s")
        self.retry_after = retry_after


# Wrong admin tokens one client may send a minute before it must wait (429 with Retry-After).
ADMIN_RATE = Rate(10, 60)


def utcnow() -> datetime:
    """Return the current UTC time as stored (naive, UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Store:
    """The database behind the question log and feedback, opened lazily and migrated at start."""

    url_setting: str
    instance_dir: Path
    log_questions: bool = True
    log_days: int = 90
    rate: Rate = DEFAULT_RATE
    admin_rate: Rate = ADMIN_RATE

    def __post_init__(self) -> None:
        self.url = engines.database_url(self.url_setting, self.instance_dir)
        self._engine: Engine | None = None
        self._down_until = 0.0
        self._dropped = 0
        self._pruned_at = 0.0
        self._pending: list[dict[str, object]] = []
        self._writer_pid = 0  # the process whose writer thread is running (threads do not survive fork)
        self._closed = False
        self._maintain_at = 0.0
        path = engines.sqlite_file(self.url)
        self._sqlite: SQLiteLogWriter | None = None
        if path is not None:
            self._sqlite = SQLiteLogWriter(self.url.get_dialect()(), path)
        # Native locks for a native writer thread; gevent's (when patched) for a greenlet writer,
        # which must be able to wait for the network without holding the worker's only OS thread.
        lock = _native_lock if self._sqlite is not None else threading.Lock
        self._pending_lock, self._writing = lock(), lock()

    @property
    def where(self) -> str:
        """Return the database URL with any password hidden, for log lines and messages."""
        return self.url.render_as_string(hide_password=True)

    def _open(self) -> Engine:
        if self._engine is None:
            self._engine = engines.create(self.url)
        key = self.url.render_as_string(hide_password=False)
        if key not in _migrated:
            with _migrating:
                if key not in _migrated:
                    engines.migrate(self._engine)
                    _migrated.add(key)
        return self._engine

    def _failed(self, exc: Exception) -> StoreUnavailable:
        first = time.monotonic() >= self._down_until
        self._down_until = time.monotonic() + RETRY_SECONDS
        if first:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
            log.warning("database %s unavailable (%s); retrying in %.0f s", self.where, reason, RETRY_SECONDS)
        return StoreUnavailable(f"the database is unavailable: {type(exc).__name__}")

    def _not_resting(self) -> None:
        # After a failure the database is left alone for RETRY_SECONDS, by every path to it.
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("the database is unavailable (retrying shortly)")

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """Yield a connection in a transaction (committed on success); StoreUnavailable when down."""
        self._not_resting()
        try:
            engine = self._open()
            with engine.begin() as conn:
                yield conn
        except (OperationalError, SAInterfaceError, OSError) as exc:
            raise self._failed(exc) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise self._failed(exc) from exc
            raise

    def close(self) -> None:
        """Write pending log rows, then close every connection (SQLite folds its WAL in)."""
        self.flush()
        self._closed, self._writer_pid = True, 0  # the writer stops; a later answer starts another
        if self._sqlite is not None:
            with self._writing:
                self._sqlite.close()
        if self._engine is not None:
            self._engine.dispose()

    def start(self) -> bool:
        """Create or migrate the database now and apply retention; False (logged) when it is down."""
        try:
            self.prune()
        except StoreUnavailable:
            return False
        return True

    def state(self) -> str:
        """Return "ok" when the database answers, else "unavailable"."""
        try:
            with self.connect() as conn:
                conn.execute(text("SELECT 1"))
        except StoreUnavailable:
            return "unavailable"
        return "ok"

    def prune(self) -> None:
        """Delete log rows and feedback older than QA_LOG_DAYS."""
        with self._current() as conn:
            question_log.prune(conn, utcnow() - timedelta(days=self.log_days))
        self._pruned_at = time.monotonic()

    def log_answer(self, question: str, found: bool, passage_ids: list[str], index_version: str,
                   took_ms: float) -> str:
        """Queue one answer for the log and return its new opaque id; the writer thread stores it."""
        answer_id = uuid.uuid4().hex
        row = question_log.row(answer_id, utcnow(), question if self.log_questions else None, found,
                               passage_ids, index_version, took_ms)
        with self._pending_lock:
            kept = len(self._pending) < LOG_PENDING_MAX
            if kept:
                self._pending.append(row)
            start = self._writer_pid != os.getpid()  # the first answer of this process (or since close)
            if start:
                self._writer_pid, self._closed = os.getpid(), False
        if not kept:
            self._count_dropped(1)
        if start:
            self._start_writer()
        now = time.monotonic()
        if now >= self._maintain_at and (self._dropped or now - self._pruned_at > PRUNE_EVERY_SECONDS):
            # Hourly retention, and bringing a database that was down up to date again, happen here
            # through SQLAlchemy, never on the native writer thread; at most every RETRY_SECONDS.
            self._maintain_at = now + RETRY_SECONDS
            with contextlib.suppress(StoreUnavailable):
                self.prune()
        return answer_id

    def _start_writer(self) -> None:
        if self._sqlite is not None:
            _native_spawn(self._write_pending, (_native_sleep,))
        else:
            threading.Thread(target=self._write_pending, args=(time.sleep,), name="qa-question-log",
                             daemon=True).start()

    def _write_pending(self, sleep: Callable[[float], object]) -> None:
        # Every LOG_FLUSH_SECONDS, write what has been queued, until the store is closed.
        while not self._closed:
            sleep(LOG_FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the writer must outlive any one failed batch
                log.exception("writing the question log failed")

    def flush(self) -> None:
        """Write the answers waiting for the log now; a database outage drops them with a warning."""
        with self._writing:
            with self._pending_lock:
                rows, self._pending = self._pending, []
            if not rows:
                return
            try:
                self._write_rows(rows)
            except StoreUnavailable:
                self._count_dropped(len(rows))
                return
        if self._dropped:
            log.warning("database %s is back; %d question log entries were dropped", self.where, self._dropped)
            self._dropped = 0

    def _write_rows(self, rows: list[dict[str, object]]) -> None:
        if self._sqlite is None:
            with self.connect() as conn:
                question_log.record(conn, rows)
            return
        self._not_resting()
        try:
            self._sqlite.write(rows)
        except sqlite3.Error as exc:  # an outage like any other: logged once, then tried again later
            raise self._failed(exc) from exc

    @contextlib.contextmanager
    def _current(self) -> Iterator[Connection]:
        """Yield a connection that sees every answer this process has logged (pending ones written first)."""
        self.flush()
        with self.connect() as conn:
            yield conn

    def _count_dropped(self, count: int) -> None:
        if not self._dropped:
            log.warning("question log entry dropped: database %s unavailable", self.where)
        self._dropped += count

    def admin_attempt(self, client: str, accepted: bool) -> None:
        """Count wrong admin tokens per client; raise RateLimited past the rate, even for the right one.

        With the database down the limit cannot be kept and is skipped (logged once): the token
        compare itself still takes the same time whatever is sent.
        """
        key = ratelimit.client_key("admin\x00" + client)
        try:
            with self.connect() as conn:
                now = time.time()
                wait = ratelimit.peek(conn, key, self.admin_rate, now) if accepted else \
                    ratelimit.hit(conn, key, self.admin_rate, now)
        except StoreUnavailable:
            return
        if wait is not None:
            raise RateLimited(wait, self.admin_rate, "wrong admin tokens")

    def add_feedback(self, client: str, answer_id: str, helpful: bool, comment: str | None) -> int:
        """Store feedback on a logged answer and return its id (rate limited per client)."""
        with self.connect() as conn:
            wait = ratelimit.hit(conn, ratelimit.client_key(client), self.rate, time.time())
        if wait is not None:
            raise RateLimited(wait, self.rate)
        if len(answer_id) != 32:  # not an id this service hands out
            raise UnknownAnswer(answer_id)
        self.flush()
        # An answer given by another worker a moment ago may still be in that worker's batch.
        deadline = time.monotonic() + LOG_FLUSH_SECONDS + 1.0
        while True:
            with self.connect() as conn:
                stored = feedback_rows.add(conn, answer_id, helpful, comment, utcnow())
            if stored is not None:
                return stored
            if time.monotonic() >= deadline:
                raise UnknownAnswer(answer_id)
            time.sleep(0.1)

    def questions(self, found: bool | None = None, limit: int = 100) -> list[QuestionGroup]:
        """Return logged questions grouped, most asked first (only unanswered ones with found=False)."""
        with self._current() as conn:
            return question_log.groups(conn, found, limit)

    def feedback(self, limit: int = 100, helpful: bool | None = None) -> list[FeedbackRecord]:
        """Return feedback, newest first."""
        with self._current() as conn:
            return feedback_rows.recent(conn, limit, helpful)

    def trends(self, weeks: int = 8, top: int = 10) -> tuple[Trend, list[Trend]]:
        """Return all questions per week over the last weeks, and the most asked questions' weeks."""
        with self._current() as conn:
            return question_log.trends(conn, utcnow(), weeks, top)

    def gold_lines(self, since: datetime | None = None) -> list[str]:
        """Return the feedback as a gold set in `qa-service eval`'s format (see feedback.gold_lines)."""
        with self._current() as conn:
            return list(feedback_rows.gold_lines(conn, since))
