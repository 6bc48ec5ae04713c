"""Message actions: history shows edits (original text kept), revokes and reactions; sends can act on a message.

`messages` gains what WhatsApp's edits, revokes and reactions change about a message, the sender's
push name and the chat's LID (chats list one name per chat and merge a person's LID and phone
chats). `outbound` gains the message an action (reaction, edit, revoke) acts on.

Revision ID: 0008_msgact
Revises: 0007_keys
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_msgact"
down_revision: str | Sequence[str] | None = "0007_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Built per run: a Column object belongs to the one table it was added to.
MESSAGE_COLUMNS = {"push_name": lambda: sa.String(128), "chat_lid": lambda: sa.String(128), "original_text": sa.Text,
                   "edited_at": sa.DateTime, "revoked_at": sa.DateTime, "revoked_by": lambda: sa.String(128),
                   "reactions": sa.JSON}
OUTBOUND_COLUMNS = {"target_id": lambda: sa.String(128), "target_sender": lambda: sa.String(128)}


def upgrade() -> None:
    # Nullable columns: a plain ADD COLUMN on both databases (no copy of the messages table).
    for table, columns in (("messages", MESSAGE_COLUMNS), ("outbound", OUTBOUND_COLUMNS)):
        for name, column_type in columns.items():
            op.add_column(table, sa.Column(name, column_type(), nullable=True))
    op.create_index("ix_messages_session_chat_lid", "messages", ["session_id", "chat_lid"])


def downgrade() -> None:
    op.drop_index("ix_messages_session_chat_lid", table_name="messages")
    with op.batch_alter_table("outbound") as batch:
        for name in OUTBOUND_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("messages") as batch:
        for name in MESSAGE_COLUMNS:
            batch.drop_column(name)
