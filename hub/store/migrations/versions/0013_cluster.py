"""The cluster (PostgreSQL scale-out): its live processes and the session leases; which process holds a
simulated device's socket.

Revision ID: 0013_cluster
Revises: 0012_history
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_cluster"
down_revision: str | Sequence[str] | None = "0012_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("node_id", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Index("ix_cluster_nodes_heartbeat_at", "heartbeat_at"),
    )
    op.create_table(
        "session_leases",
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Index("ix_session_leases_owner", "owner"),
    )


    # The simulated servers see which process holds each device's socket (double connections across processes).
    with op.batch_alter_table("sandbox_devices") as batch:
        batch.add_column(sa.Column("connected_by", sa.String(160), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sandbox_devices") as batch:
        batch.drop_column("connected_by")
    op.drop_table("session_leases")
    op.drop_table("cluster_nodes")
