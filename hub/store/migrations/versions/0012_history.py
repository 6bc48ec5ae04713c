"""History sync: chunks stored before WhatsApp is acknowledged, and each session's progress.

Revision ID: 0012_history
Revises: 0011_ratelimit
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_history"
down_revision: str | Sequence[str] | None = "0011_ratelimit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_chunks",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Index("ix_history_chunks_session_finished", "session_id", "finished", "seq"),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("history_sync", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("history_messages", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("history_chats", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("history_done", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        for column in ("history_done", "history_chats", "history_messages", "history_sync"):
            batch.drop_column(column)
    op.drop_table("history_chunks")
