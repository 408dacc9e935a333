"""Question log, answer feedback and the feedback rate limit's counters."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("answer_id", sa.String(32), nullable=False, unique=True),
        sa.Column("asked_at", sa.DateTime, nullable=False),
        sa.Column("question", sa.Text),
        sa.Column("question_key", sa.Text),
        sa.Column("found", sa.Boolean, nullable=False),
        sa.Column("passage_ids", sa.JSON, nullable=False),
        sa.Column("index_version", sa.String(64), nullable=False),
        sa.Column("took_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_questions_asked_at", "questions", ["asked_at"])
    op.create_index("ix_questions_question_key", "questions", ["question_key"])
    op.create_table(
        "feedback",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("answer_id", sa.String(32), sa.ForeignKey("questions.answer_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("created", sa.DateTime, nullable=False),
    )
    op.create_index("ix_feedback_answer_id", "feedback", ["answer_id"])
    op.create_index("ix_feedback_created", "feedback", ["created"])
    op.create_table(
        "rate_counts",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_counts")
    op.drop_table("feedback")
    op.drop_table("questions")
