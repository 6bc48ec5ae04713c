"""The cluster's shared scheduler jobs: when and where each last ran (one run per period in the cluster).

Revision ID: 0014_dispatch
Revises: 0013_cluster
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_dispatch"
down_revision: str | Sequence[str] | None = "0013_cluster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_jobs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cluster_jobs")
