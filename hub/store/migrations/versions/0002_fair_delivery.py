"""Fair delivery: deliveries carry their event's seq and a lane, endpoints an `ordered` flag.

The claim walks the queues (endpoint, session) of waiting deliveries on a new index instead of
one endpoint's oldest due (issue 18); an ordered endpoint's queue sends its lowest seq first.
Existing rows are filled in: seq from their event, lane PRIORITY (0) for session-status and qr,
NORMAL (1) otherwise, and "" as the session of an event without one (so it has a queue too).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("next_attempt_at IS NOT NULL")
ORDERED_UNFINISHED = sa.text("lane = 2 AND status IN ('pending', 'delivering', 'failed')")


def upgrade() -> None:
    op.add_column("endpoints", sa.Column("ordered", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.add_column("deliveries", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("deliveries", sa.Column("lane", sa.SmallInteger(), server_default=sa.text("1"), nullable=False))
    op.execute("UPDATE deliveries SET seq = (SELECT events.seq FROM events WHERE events.id = deliveries.event_id)")
    op.execute("UPDATE deliveries SET lane = 0 WHERE event_type IN ('session-status', 'qr')")
    op.execute("UPDATE deliveries SET session_id = '' WHERE session_id IS NULL")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index("ix_deliveries_queue", "deliveries",
                    ["endpoint_id", "session_id", "lane", "next_attempt_at", "seq"],
                    sqlite_where=WAITING, postgresql_where=WAITING)
    op.create_index("ix_deliveries_ordered", "deliveries", ["endpoint_id", "session_id", "seq"],
                    sqlite_where=ORDERED_UNFINISHED, postgresql_where=ORDERED_UNFINISHED)


def downgrade() -> None:
    op.drop_index("ix_deliveries_ordered", table_name="deliveries")
    op.drop_index("ix_deliveries_queue", table_name="deliveries")
    op.create_index("ix_deliveries_due", "deliveries", ["endpoint_id", "next_attempt_at"])
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("lane")
        batch.drop_column("seq")
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("ordered")
