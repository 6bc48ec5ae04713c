"""Sends with structured content: the outbound row keeps the quote, mentions, link preview, location,
contact or poll of a send; history rows say which message they quote and whom they mention.

Revision ID: 0006_msgsend
Revises: 0005_settings
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_msgsend"
down_revision: str | Sequence[str] | None = "0005_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns without a default: an ALTER TABLE ADD COLUMN on both databases, no table rewrite.
    op.add_column("outbound", sa.Column("content", sa.JSON(), nullable=True))
    op.add_column("messages", sa.Column("quoted_id", sa.String(128), nullable=True))
    op.add_column("messages", sa.Column("mentions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as table:
        table.drop_column("mentions")
        table.drop_column("quoted_id")
    with op.batch_alter_table("outbound") as table:
        table.drop_column("content")
