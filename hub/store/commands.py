"""Commands for a session held by another hub process (PostgreSQL scale-out): the caller writes one,
the holder claims it with a conditional UPDATE (so it runs at most once), runs it and writes the answer.

A row lives until a while after its deadline (hub.cluster.commands purges it); a caller that gave up
first cancels a command nobody claimed yet, so a late holder never runs what was already answered 503.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base, UTCDateTime


class CommandStatus(StrEnum):
    PENDING = "pending"  # written, nobody runs it yet
    RUNNING = "running"  # claimed by the holder
    DONE = "done"  # answered (`answer`)
    CANCELLED = "cancelled"  # the caller stopped waiting before anybody claimed it


class ClusterCommand(Base):
    """One call for a session, to be run by the process that holds it."""

    __tablename__ = "cluster_commands"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(200))  # the service function (hub.cluster.commands.on_holder)
    arguments: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=CommandStatus.PENDING)
    caller: Mapped[str] = mapped_column(String(128))  # the process that asked
    runner: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the process that ran it
    answer: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # {"result": ...} or {"error": {...}}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @staticmethod
    def claim(db, command_id: str, runner: str, now: datetime) -> bool:
        """Take a pending, unexpired command to run it; False when another process took it or it expired."""
        taken = db.execute(update(ClusterCommand).where(
            ClusterCommand.id == command_id, ClusterCommand.status == CommandStatus.PENDING,
            ClusterCommand.deadline > now).values(status=CommandStatus.RUNNING, runner=runner))
        return taken.rowcount == 1

    @staticmethod
    def finish(db, command_id: str, answer: dict) -> None:
        """Record the answer of a command this process ran."""
        db.execute(update(ClusterCommand).where(ClusterCommand.id == command_id)
                   .values(status=CommandStatus.DONE, answer=answer))

    @staticmethod
    def cancel(db, command_id: str) -> bool:
        """The caller gives up: True when nobody had claimed it (then nobody ever will)."""
        cancelled = db.execute(update(ClusterCommand).where(
            ClusterCommand.id == command_id, ClusterCommand.status == CommandStatus.PENDING)
            .values(status=CommandStatus.CANCELLED))
        return cancelled.rowcount == 1

    @staticmethod
    def pending_for(db, session_ids: list[str], now: datetime) -> list[str]:
        """The ids of unexpired pending commands for these sessions, oldest first."""
        if not session_ids:
            return []
        return list(db.scalars(select(ClusterCommand.id).where(
            ClusterCommand.session_id.in_(session_ids), ClusterCommand.status == CommandStatus.PENDING,
            ClusterCommand.deadline > now).order_by(ClusterCommand.created_at)))

    @staticmethod
    def purge(db, before: datetime) -> int:
        """Delete the commands whose deadline passed before `before`; how many."""
        return db.execute(delete(ClusterCommand).where(ClusterCommand.deadline < before)).rowcount
