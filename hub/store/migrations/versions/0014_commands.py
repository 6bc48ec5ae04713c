"""Commands for a session held by another hub process (PostgreSQL scale-out: any process answers any call).

Revision ID: 0014_commands
Revises: 0014_dispatch
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_commands"
down_revision: str | Sequence[str] | None = "0014_dispatch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_commands",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(200), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("caller", sa.String(128), nullable=False),
        sa.Column("runner", sa.String(128), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Index("ix_cluster_commands_session_id", "session_id"),
        sa.Index("ix_cluster_commands_deadline", "deadline"),
    )


def downgrade() -> None:
    op.drop_table("cluster_commands")
