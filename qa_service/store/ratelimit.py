"""A per-client rate limit kept in the database, so every worker and server shares the count."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from qa_service.store.schema import rate_counts

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True)
class Rate:
    """At most `count` requests per `seconds` from one client."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str, setting: str = "QA_FEEDBACK_RATE") -> Rate:
        """Return the rate in '600/minute' (or '600 per minute'); second, minute, hour or day."""
        match = _RATE.match(text.lower())
        if not match or int(match[1]) < 1:
            raise ValueError(f"{setting} must look like '600/minute' (second, minute, hour or day), got {text!r}")
        return cls(int(match[1]), PERIODS[match[2]])


def client_key(address: str) -> str:
    """Return the key a client's counter is kept under (its address is not stored as such)."""
    return hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()


def _count(conn: Connection, client: str, window: int) -> int:
    """Add one to the client's counter for this window and return the new count."""
    values = {"client": client, "window_start": window, "hits": 1}
    bump = {"hits": rate_counts.c.hits + 1}
    keys = [rate_counts.c.client, rate_counts.c.window_start]
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        upsert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(rate_counts).values(**values)
        return int(conn.execute(upsert.on_conflict_do_update(index_elements=keys, set_=bump)
                                .returning(rate_counts.c.hits)).scalar_one())
    # Other databases: update, else insert (a racing insert means the row now exists).
    where = (rate_counts.c.client == client) & (rate_counts.c.window_start == window)
    if conn.execute(update(rate_counts).where(where).values(**bump)).rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(rate_counts).values(**values))
        except IntegrityError:
            conn.execute(update(rate_counts).where(where).values(**bump))
    return int(conn.execute(select(rate_counts.c.hits).where(where)).scalar_one())


def hit(conn: Connection, client: str, rate: Rate, now: float) -> int | None:
    """Count one request; return None when allowed, else the seconds until the window ends."""
    # Windows start at epoch seconds, so counters of limits with different periods share the table.
    window = int(now // rate.seconds) * rate.seconds
    count = _count(conn, client, window)
    if count == 1:  # a new window: counters whose windows have ended (a day at most) are done with
        conn.execute(delete(rate_counts).where(rate_counts.c.window_start < window - rate.seconds)
                     .where(rate_counts.c.window_start < int(now) - PERIODS["day"]))
        conn.execute(delete(rate_counts).where((rate_counts.c.client == client)
                                               & (rate_counts.c.window_start < window)))
    if count <= rate.count:
        return None
    return max(1, math.ceil(window + rate.seconds - now))


def peek(conn: Connection, client: str, rate: Rate, now: float) -> int | None:
    """Return None when the client is within the rate this window, else the seconds left (no count)."""
    window = int(now // rate.seconds) * rate.seconds
    where = (rate_counts.c.client == client) & (rate_counts.c.window_start == window)
    count = conn.execute(select(rate_counts.c.hits).where(where)).scalar() or 0
    return None if count < rate.count else max(1, math.ceil(window + rate.seconds - now))
