"""The tables, as the queries see them; migrations/versions/ creates and changes them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()
# SQLite numbers rows itself only for a column typed exactly INTEGER.
RowId = BigInteger().with_variant(Integer(), "sqlite")

# One row per /api/ask answer. No address, cookie or user id is ever stored.
questions = Table(
    "questions", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("answer_id", String(32), nullable=False, unique=True),
    Column("asked_at", DateTime, nullable=False, index=True),      # UTC
    Column("question", Text),                                      # NULL when QA_LOG_QUESTIONS=false
    Column("question_key", Text, index=True),                      # casefolded, spaces collapsed; NULL likewise
    Column("found", Boolean, nullable=False),
    Column("passage_ids", JSON, nullable=False),
    Column("index_version", String(64), nullable=False),
    Column("took_ms", Float, nullable=False),
)

feedback = Table(
    "feedback", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("answer_id", String(32), ForeignKey("questions.answer_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("helpful", Boolean, nullable=False),
    Column("comment", Text),
    Column("created", DateTime, nullable=False, index=True),       # UTC
)

# Fixed-window counters of the feedback rate limit; a row lives for its window only.
rate_counts = Table(
    "rate_counts", metadata,
    Column("client", String(64), primary_key=True),                # SHA-256 of the client address
    Column("window_start", BigInteger, primary_key=True),          # window number: epoch seconds // period
    Column("hits", Integer, nullable=False),
)
