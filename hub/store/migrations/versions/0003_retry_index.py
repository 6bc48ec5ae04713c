"""The next-retry lookup gets a partial index of retrying deliveries instead of one on every row.

A plain index on deliveries.next_attempt_at let PostgreSQL's planner walk it (and filter out
every other queue's rows) for the fair claim's per-queue scans instead of ix_deliveries_queue:
milliseconds per queue with a few hundred waiting deliveries. Only a failed attempt schedules a
delivery in the future, so the dispatcher's "when is the next retry due" needs retrying rows only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETRYING = sa.text("status = 'failed'")


def upgrade() -> None:
    op.drop_index("ix_deliveries_next_attempt_at", table_name="deliveries")
    op.create_index("ix_deliveries_retry", "deliveries", ["next_attempt_at"],
                    sqlite_where=RETRYING, postgresql_where=RETRYING)


def downgrade() -> None:
    op.drop_index("ix_deliveries_retry", table_name="deliveries")
    op.create_index("ix_deliveries_next_attempt_at", "deliveries", ["next_attempt_at"])
