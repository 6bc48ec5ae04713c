"""Who should hold which session: pure functions of the leases and the live processes (no database here).

Every process runs the same plan on the same facts, so the cluster converges without a leader:
each holds at most its fair share (sessions / live processes, rounded up), takes free or expired
leases up to it, and hands back what it holds beyond it. Which free sessions a process tries first
is a rendezvous hash of (process, session): processes starting together pick different ones.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Lease:
    session_id: str
    owner: str
    epoch: int
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        """Whether the lease still binds (its owner may still be connected)."""
        return self.expires_at > now


@dataclass
class Plan:
    acquire: list[str] = field(default_factory=list)  # free or expired: try to take, in this order
    release: list[str] = field(default_factory=list)  # held beyond the fair share, or no longer wanted


def fair_share(sessions: int, processes: int) -> int:
    """The most sessions one process should hold."""
    return math.ceil(sessions / max(processes, 1))


def preference(node_id: str, session_id: str) -> bytes:
    """Rendezvous hash: the order in which `node_id` tries free sessions."""
    return hashlib.sha1(f"{node_id}\x00{session_id}".encode()).digest()


def plan(me: str, wanted: Iterable[str], leases: dict[str, Lease], nodes: Iterable[str], now: datetime) -> Plan:
    """What `me` should acquire and release so that every wanted session is held, spread evenly."""
    wanted = set(wanted)
    live_nodes = set(nodes) | {me}
    share = fair_share(len(wanted), len(live_nodes))
    mine = sorted(sid for sid, lease in leases.items() if lease.owner == me and lease.live(now))
    unwanted = [sid for sid in mine if sid not in wanted]
    kept = [sid for sid in mine if sid in wanted]
    free = [sid for sid in wanted if sid not in leases or not leases[sid].live(now)]
    free.sort(key=lambda sid: preference(me, sid))
    # Beyond the share: the others have room for it (share × processes ≥ sessions), so hand it over.
    surplus = kept[share:]
    room = max(share - len(kept), 0)
    return Plan(acquire=free[:room], release=unwanted + surplus)
