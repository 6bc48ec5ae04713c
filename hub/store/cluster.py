"""The cluster's tables (PostgreSQL scale-out): its live processes, who holds which session, its shared jobs."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
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


class ClusterJob(Base):
    """A scheduler job that runs once per cluster (hub/scheduler.py): when, where and how often it ran."""

    __tablename__ = "cluster_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
    node_id: Mapped[str] = mapped_column(String(128))
    runs: Mapped[int] = mapped_column(Integer, default=0)

    @classmethod
    def take_turn(cls, db, name: str, node_id: str, now: datetime, period: timedelta) -> bool:
        """Record a run of `name` by `node_id` unless one was recorded within `period`: whether to run it.

        One upsert (PostgreSQL), so two processes asking at once cannot both get the turn.
        """
        table = cls.__table__
        statement = (pg_insert(table).values(name=name, ran_at=now, node_id=node_id, runs=1)
                     .on_conflict_do_update(index_elements=[table.c.name],
                                            set_={"ran_at": now, "node_id": node_id, "runs": table.c.runs + 1},
                                            where=table.c.ran_at <= now - period)
                     .returning(table.c.name))
        return db.execute(statement).first() is not None
