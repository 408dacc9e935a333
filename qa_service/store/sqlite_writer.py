"""Question log rows written to an SQLite file through the standard library, from any OS thread.

Under gevent a worker serves every connection on one OS thread, so a database write made there
stops them all while SQLite waits for the other worker's lock or folds its write-ahead log into the
file (issue 16: the c1 tail). This writer runs in a thread of its own. It uses Python's `sqlite3`
directly because SQLAlchemy's locks are gevent's once the worker is patched, and using them from a
second OS thread hung a worker before. The statement and the value conversions still come from
SQLAlchemy (compiled once, on the thread that creates the writer), so rows are stored exactly as
the rest of the store reads them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Dialect

from qa_service.store.engine import BUSY_TIMEOUT_MS, set_pragmas
from qa_service.store.schema import questions


class SQLiteLogWriter:
    """Inserts question log rows into one SQLite file over a connection of its own."""

    def __init__(self, dialect: Dialect, path: Path) -> None:
        # Every column but the row number SQLite assigns: the keys of log.row()'s rows.
        compiled = questions.insert().compile(dialect=dialect,
                                              column_keys=[c.key for c in questions.c if not c.primary_key])
        self.sql = str(compiled)
        self.keys: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.processors: list[Callable[[Any], Any] | None] = [
            questions.c[key].type.bind_processor(dialect) for key in self.keys]
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            # Callers take turns (the store holds a lock around every write), so the connection
            # may move between the writer thread and a request's thread.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
            set_pragmas(conn)
            self._conn = conn
        return self._conn

    def write(self, rows: list[dict[str, object]]) -> None:
        """Insert the rows in one transaction; sqlite3.Error when the file cannot take them."""
        params = [tuple(row[key] if convert is None else convert(row[key])
                        for key, convert in zip(self.keys, self.processors)) for row in rows]
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(self.sql, params)
            conn.execute("COMMIT")
        except sqlite3.Error:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the error that matters is the one re-raised below
            self.close()  # a broken file or folder: the next write opens it afresh
            raise

    def close(self) -> None:
        """Close the connection (it is opened again when needed)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
