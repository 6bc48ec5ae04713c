"""The device a session's whatsmeow store holds (HUB_SESSION_STORE=database: several sessions share one store).

Revision ID: 0014_store
Revises: 0014_commands
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_store"
down_revision: str | Sequence[str] | None = "0014_commands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("device_jid", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("device_jid")
