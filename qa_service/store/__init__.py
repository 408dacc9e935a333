"""The database: engine and migrations, the question log, answer feedback, the feedback rate limit.

Only this package talks to the database (SQLAlchemy Core); the web layer and the CLI use `Store`.
"""

from __future__ import annotations

from qa_service.store.store import RateLimited, Store, StoreUnavailable, UnknownAnswer

__all__ = ["RateLimited", "Store", "StoreUnavailable", "UnknownAnswer"]
