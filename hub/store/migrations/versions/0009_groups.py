"""The simulated WhatsApp's groups: groups, their participants, numbers' group-add privacy.

Revision ID: 0009_groups
Revises: 0008_msgact
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_groups"
down_revision: str | Sequence[str] | None = "0008_msgact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_groups",
        sa.Column("jid", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("subject_by", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("announce", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("invite_code", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sandbox_group_members",
        sa.Column("group_jid", sa.String(64), primary_key=True),
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Index("ix_sandbox_group_members_phone", "phone"),
    )
    op.create_table(
        "sandbox_privacy",
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("group_add", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    for table in ("sandbox_privacy", "sandbox_group_members", "sandbox_groups"):
        op.drop_table(table)
