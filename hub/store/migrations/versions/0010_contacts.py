"""Contacts: LID ↔ phone mappings, number checks, and the simulated WhatsApp's contact registry.

Revision ID: 0010_contacts
Revises: 0009_groups
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_contacts"
down_revision: str | Sequence[str] | None = "0009_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lid_mappings",
        sa.Column("lid", sa.String(64), primary_key=True),
        sa.Column("phone_jid", sa.String(128), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Index("ix_lid_mappings_phone_jid", "phone_jid"),
    )
    op.create_table(
        "contact_checks",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("exists", sa.Boolean(), nullable=False),
        sa.Column("jid", sa.String(128), nullable=True),
        sa.Column("lid", sa.String(64), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Index("ix_contact_checks_phone", "phone"),
    )
    op.create_table(
        "sandbox_contacts",
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("exists", sa.Boolean(), nullable=False),
        sa.Column("push_name", sa.String(128), nullable=True),
        sa.Column("about", sa.String(500), nullable=True),
        sa.Column("lid", sa.String(64), nullable=True),
        sa.Column("is_business", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("sandbox_contacts", "contact_checks", "lid_mappings"):
        op.drop_table(table)
