"""Scoped API keys (stored as SHA-256 hashes), and the scope a listener registered with one keeps.

Revision ID: 0007_keys
Revises: 0006_msgsend
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_keys"
down_revision: str | Sequence[str] | None = "0006_msgsend"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("hint", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sessions", sa.JSON(), nullable=False),
        sa.Column("rate_limit", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("hash", name="uq_api_keys_hash"),
    )
    op.add_column("endpoints", sa.Column("scope", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("scope")
    op.drop_table("api_keys")
