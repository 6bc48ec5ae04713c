"""WhatsApp's history sync as it arrives: each chunk stored whole before WhatsApp is acknowledged,
then worked through in batches (hub/sessions/history.py) — `position` says how far."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base, utcnow


class HistoryChunk(Base):
    """One HistorySync (waHistorySync.HistorySync, serialized) of a session, stored until it was worked through."""

    __tablename__ = "history_chunks"
    __table_args__ = (Index("ix_history_chunks_session_finished", "session_id", "finished", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # WhatsApp's percentage after this chunk
    position: Mapped[int] = mapped_column(Integer, default=0)  # messages of this chunk already worked through
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def advance(self, done: int, total: int) -> None:
        """`done` more messages were worked through (of `total` in the chunk)."""
        self.position = min(total, self.position + done)
        self.finished = self.position >= total
