"""Indexes that serve the list queries: each list's filter followed by its order (created_at, id).

With them a page is read from the index in order (and past its offset) instead of loading and
sorting every row of the workspace; the single-column workspace indexes they start with are dropped.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LISTED = ("sources", "destinations", "connections")
_JOBS_OLD = {"ix_jobs_workspace_created": "workspace_id", "ix_jobs_connection_created": "connection_id"}


def upgrade() -> None:
    for table in _LISTED:
        op.drop_index(f"ix_{table}_workspace_id", table_name=table)
        op.create_index(f"ix_{table}_workspace_created", table, ["workspace_id", "created_at", "id"])
    for name, column in _JOBS_OLD.items():
        op.drop_index(name, table_name="jobs")
        op.create_index(name, "jobs", [column, "created_at", "id"])
    op.create_index("ix_jobs_created", "jobs", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_created", table_name="jobs")
    for name, column in _JOBS_OLD.items():
        op.drop_index(name, table_name="jobs")
        op.create_index(name, "jobs", [column, "created_at"])
    for table in _LISTED:
        op.drop_index(f"ix_{table}_workspace_created", table_name=table)
        op.create_index(f"ix_{table}_workspace_id", table, ["workspace_id"])
