"""The simulated WhatsApp's network: linked devices, their message queues, media blobs, what was sent.

The sandbox sessions now run the real engine over a simulated goneonize (issue 10); the
simulated servers keep their state here so every hub process sees one network.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_devices",
        sa.Column("jid", sa.String(128), primary_key=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("lid", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("push_name", sa.String(128), nullable=False),
        sa.Column("double_connections", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.Index("ix_sandbox_devices_phone", "phone"),
        sa.Index("ix_sandbox_devices_client", "client"),
    )
    op.create_table(
        "sandbox_queue",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("origin", sa.String(128), nullable=True),
        sa.Column("acked", sa.Boolean(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Index("ix_sandbox_queue_device_acked", "device", "acked", "seq"),
    )
    op.create_table(
        "sandbox_media",
        sa.Column("direct_path", sa.String(255), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sandbox_sent",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("to", sa.String(128), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Index("ix_sandbox_sent_client", "client", "seq"),
    )


def downgrade() -> None:
    for table in ("sandbox_sent", "sandbox_media", "sandbox_queue", "sandbox_devices"):
        op.drop_table(table)
