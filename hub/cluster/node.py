"""This process as a member of the cluster: its id, the leases it holds, the fence of its writes.

On SQLite (one process, `clustered` False) the process holds every session and every write
passes. On PostgreSQL the coordinator (hub.cluster.coordinator) keeps `held` current; a write
about a session this process runs is fenced by the lease it holds (hub.cluster.leases.holds).
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime

from hub.cluster import leases
from hub.cluster.policy import Lease
from hub.store.models import utcnow

log = logging.getLogger(__name__)


def node_id_for(config) -> str:
    """HUB_NODE_ID, else host name + pid; with several workers each gets its pid after the id."""
    if not config.node_id:
        return f"{socket.gethostname()}-{os.getpid()}"
    return f"{config.node_id}.{os.getpid()}" if config.workers > 1 else config.node_id


class Node:
    """This process's identity and leases."""

    def __init__(self, node_id: str, clustered: bool, lease_ttl: float):
        self.node_id = node_id
        self.clustered = clustered
        self.lease_ttl = lease_ttl
        self.host, self.pid, self.started_at = socket.gethostname(), os.getpid(), utcnow()
        self.held: dict[str, int] = {}  # session id -> epoch of the lease this process holds
        self.leases: dict[str, Lease] = {}  # every lease as last read (owners for session views)
        # Run before a session taken over starts here (the outbound queue registers its requeue):
        # hooks, so that hub.cluster does not import the packages that build on it.
        self.on_take_over: list[Callable[[str], object]] = []

    def holds(self, session_id: str) -> bool:
        """Whether this process may run the session now."""
        return not self.clustered or session_id in self.held

    def claim(self, db, session_id: str) -> bool:
        """Hold the session (acquiring a free or expired lease); False when another process holds it."""
        if self.holds(session_id):
            return True
        epoch = leases.acquire(db, session_id, self.node_id, utcnow(), self.lease_ttl)
        if epoch is not None:
            self.held[session_id] = epoch
        return epoch is not None

    def release(self, db, session_id: str) -> None:
        """Hand the lease back at once (the session stopped here)."""
        leases.release(db, self.node_id, [session_id], utcnow())
        self.leases.pop(session_id, None)  # views answered before the next round show nobody holding it

    def fence(self, db, session_id: str) -> bool:
        """Whether a write about a session this process runs may happen (it still holds the lease's epoch)."""
        if not self.clustered:
            return True
        epoch = self.held.get(session_id)
        return epoch is not None and leases.holds(db, session_id, self.node_id, epoch, utcnow())

    def owner(self, session_id: str, running_here: bool, now: datetime | None = None) -> str | None:
        """The process that holds the session (None: nobody runs it)."""
        if not self.clustered:
            return self.node_id if running_here else None
        if session_id in self.held:
            return self.node_id
        lease = self.leases.get(session_id)
        return lease.owner if lease is not None and lease.live(now or utcnow()) else None
