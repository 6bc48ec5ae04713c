"""The lease statements: each one conditional, so two processes can never both hold a session.

Acquire succeeds only on a missing or expired lease (or one this process already holds) and
raises the epoch; renew extends only leases still held and unexpired; a write fenced by a lease
(`fenced`) happens only while the writer holds the lease's current epoch.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.cluster.policy import Lease
from hub.store import Session
from hub.store.cluster import ClusterNode, SessionLease
from hub.store.models import AT_REST


def all_leases(db) -> dict[str, Lease]:
    """Every lease row, by session id."""
    rows = db.execute(select(SessionLease.session_id, SessionLease.owner, SessionLease.epoch, SessionLease.expires_at))
    return {row.session_id: Lease(row.session_id, row.owner, row.epoch, row.expires_at) for row in rows}


def wanted_sessions(db) -> list[str]:
    """The sessions that should be running somewhere (every status but stopped and logged out)."""
    return list(db.scalars(select(Session.id).where(Session.status.not_in(AT_REST))))


def live_nodes(db, now: datetime, ttl: float) -> list[str]:
    """The processes that heartbeat within one lease TTL."""
    return list(db.scalars(select(ClusterNode.node_id).where(ClusterNode.heartbeat_at > now - timedelta(seconds=ttl))))


def acquire(db, session_id: str, me: str, now: datetime, ttl: float) -> int | None:
    """Take the session's lease if it is free or expired; its new epoch, or None when another holds it."""
    expires = now + timedelta(seconds=ttl)
    taken = db.execute(update(SessionLease)
                       .where(SessionLease.session_id == session_id,
                              or_(SessionLease.expires_at <= now, SessionLease.owner == me))
                       .values(owner=me, epoch=SessionLease.epoch + 1, expires_at=expires)
                       .returning(SessionLease.epoch)).scalar()
    if taken is not None:
        return taken
    if db.get(SessionLease, session_id) is not None:
        return None
    try:
        with db.begin_nested():  # a racing process may insert first: that one wins
            db.execute(insert(SessionLease).values(session_id=session_id, owner=me, epoch=1, expires_at=expires))
    except IntegrityError:
        return None
    return 1


def renew(db, me: str, session_ids: list[str], now: datetime, ttl: float) -> dict[str, int]:
    """Extend the leases of `session_ids` this process still holds; {session id: epoch} of those renewed.

    Only the sessions it runs: one it is handing over is not renewed, so it expires even if the
    release never comes.
    """
    if not session_ids:
        return {}
    rows = db.execute(update(SessionLease)
                      .where(SessionLease.owner == me, SessionLease.expires_at > now,
                             SessionLease.session_id.in_(session_ids))
                      .values(expires_at=now + timedelta(seconds=ttl))
                      .returning(SessionLease.session_id, SessionLease.epoch))
    return {row.session_id: row.epoch for row in rows}


def release(db, me: str, session_ids: list[str], now: datetime) -> None:
    """Hand leases back at once (expired now): the next process to plan takes them."""
    if session_ids:
        db.execute(update(SessionLease).where(SessionLease.owner == me, SessionLease.session_id.in_(session_ids))
                   .values(expires_at=now))


def holds(db, session_id: str, me: str, epoch: int, now: datetime) -> bool:
    """Whether `me` holds the session's lease at `epoch`, unexpired (the fence of per-session writes)."""
    return db.scalar(select(SessionLease.session_id).where(and_(
        SessionLease.session_id == session_id, SessionLease.owner == me, SessionLease.epoch == epoch,
        SessionLease.expires_at > now))) is not None


def heartbeat(db, node_id: str, now: datetime) -> None:
    """This process is alive."""
    db.execute(update(ClusterNode).where(ClusterNode.node_id == node_id).values(heartbeat_at=now))


def leave(db, node_id: str) -> None:
    """This process is going away (its leases are released separately)."""
    db.execute(delete(ClusterNode).where(ClusterNode.node_id == node_id))
