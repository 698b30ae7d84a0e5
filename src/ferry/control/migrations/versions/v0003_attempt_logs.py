"""Attempt logs in the store: a finished attempt's log, in pieces, for servers that did not run it.

A worker on another machine writes its log file on its own disk; the copy kept here is what the API
shows when the file is not on the server's. Rows go with their attempt (ON DELETE CASCADE).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_logs",
        sa.Column("attempt_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("attempt_id", "chunk"),
    )


def downgrade() -> None:
    op.drop_table("attempt_logs")
