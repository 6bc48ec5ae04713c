"""The API rate limits' token buckets (rate_buckets): shared by every hub process on PostgreSQL.

Revision ID: 0011_ratelimit
Revises: 0010_contacts
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_ratelimit"
down_revision: str | Sequence[str] | None = "0010_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("rate_buckets",
                    sa.Column("id", sa.String(80), primary_key=True),
                    sa.Column("tat", sa.Float(), nullable=False))


def downgrade() -> None:
    op.drop_table("rate_buckets")
