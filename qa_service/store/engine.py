"""The database engine for a URL, and the migrations applied to it at start."""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

log = logging.getLogger("qa_service.store")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_FILE = "qa.sqlite3"
BUSY_TIMEOUT_MS = 5000        # a writer waits this long for another worker's write to finish
CONNECT_TIMEOUT_S = 3         # an unreachable server costs a request at most this long, then is skipped
STATEMENT_TIMEOUT_MS = 5000
_MIGRATION_LOCK = 4_713_001   # PostgreSQL advisory lock id: one server migrates at a time
# The newest migration in migrations/versions (a test keeps this in step with alembic's head). A
# database already there is not handed to alembic at all: loading alembic and its scripts was a
# third of a worker's start-up (issue 16, cold start).
HEAD_REVISION = "0001"


def database_url(setting: str, instance_dir: Path) -> URL:
    """Return the URL to use: QA_DATABASE_URL, or an SQLite file in the instance folder."""
    if not setting:
        return URL.create("sqlite", database=str(instance_dir / DEFAULT_FILE))
    url = make_url(setting)
    if url.drivername in ("postgresql", "postgres"):  # psycopg 3 is the driver we install
        url = url.set(drivername="postgresql+psycopg")
    return url


def sqlite_file(url: URL) -> Path | None:
    """Return the file of an SQLite URL (None for other databases and in-memory SQLite)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def set_pragmas(dbapi_connection: Any) -> None:
    """Set what every connection to the SQLite file needs, the engine's and the log writer's alike."""
    # WAL lets readers and one writer work at once; the busy timeout makes a second writer
    # (another worker) wait instead of failing.
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", f"busy_timeout={BUSY_TIMEOUT_MS}", "synchronous=NORMAL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_engine(url: URL) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is off so that every transaction starts with
        # BEGIN IMMEDIATE (below).
        dbapi_connection.isolation_level = None
        set_pragmas(dbapi_connection)

    @event.listens_for(engine, "begin")
    def begin_immediate(connection: Any) -> None:
        # A transaction that reads and then writes cannot wait for the write lock (SQLite
        # would fail it at once); taking the lock at BEGIN makes every writer wait its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create(url: URL) -> Engine:
    """Return an engine for the URL; nothing is connected until first use."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_S,
                        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


@contextlib.contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on a file beside an SQLite database (no-op for other databases)."""
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def at_head(engine: Engine) -> bool:
    """Return True when the database's schema is already the newest migration."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
    except (OperationalError, ProgrammingError) as exc:
        # A new database has no version table yet (SQLite says so with an OperationalError,
        # PostgreSQL with a ProgrammingError): alembic creates it. Anything else is an outage.
        if isinstance(exc, OperationalError) and "no such table" not in str(exc):
            raise
        return False


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; workers starting together take turns."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line of our own says what changed

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _file_lock(sqlite_file(engine.url)), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(config, "head")
        after = MigrationContext.configure(connection).get_current_revision()
    if after != before:
        log.info("database %s: schema migrated from %s to %s",
                 engine.url.render_as_string(hide_password=True), before or "nothing", after)
