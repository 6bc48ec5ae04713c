"""The cluster's tables (PostgreSQL scale-out): its live processes and who holds which session."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base, UTCDateTime, isoformat


class ClusterNode(Base):
    """One hub process of the cluster, as long as it heartbeats."""

    __tablename__ = "cluster_nodes"

    node_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def to_dict(self) -> dict:
        return {"nodeId": self.node_id, "host": self.host, "pid": self.pid, "startedAt": isoformat(self.started_at),
                "heartbeatAt": isoformat(self.heartbeat_at)}


class SessionLease(Base):
    """Which process holds a session (and may connect it) until `expires_at`.

    `epoch` grows with every change of holder: a process that lost the lease holds an older epoch,
    and writes fenced by the lease (hub.cluster.leases) refuse it.
    """

    __tablename__ = "session_leases"

    session_id: Mapped[str] = mapped_column(String(64), ForeignKey("sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    epoch: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
