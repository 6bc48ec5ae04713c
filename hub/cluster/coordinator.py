"""The lease loop of a clustered process (PostgreSQL): join, heartbeat, renew, rebalance, hand over.

Every `tick` (a second, or a third of the lease TTL when shorter) the process heartbeats,
renews the leases it holds, lets go of any it lost, and follows the plan of hub.cluster.policy:
hands back sessions beyond its fair share and takes free or expired ones up to it. A watchdog
that never touches the database stops every session this process runs once its leases could
have expired unrenewed (two thirds of a TTL after the last renewal): a database outage stops
sessions here *before* another process could take them, so one number never has two connections.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import gevent
import gevent.queue
from sqlalchemy import create_engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from hub.cluster import leases, policy
from hub.cluster.node import Node
from hub.cluster.notify import notify
from hub.context import HubContext
from hub.store.cluster import ClusterNode
from hub.store.models import utcnow

log = logging.getLogger(__name__)

RELEASED = "hub_leases"  # NOTIFY channel: a process handed leases back (the others plan at once)
SAFETY = 2 / 3  # stop this far into an unrenewed lease: the last third is the margin for the stop itself


class DuplicateNode(RuntimeError):
    """Another live process already uses this HUB_NODE_ID (the process must not start)."""


def join(db, node: Node) -> None:
    """Register this process; refuse when a live process (heartbeat within a TTL) has the same id."""
    now = utcnow()
    row = db.get(ClusterNode, node.node_id, with_for_update=True)
    alive = row is not None and row.heartbeat_at > now - timedelta(seconds=node.lease_ttl)
    if alive and (row.host, row.pid) != (node.host, node.pid):
        raise DuplicateNode(f"HUB_NODE_ID={node.node_id!r} is in use by a live hub process (pid {row.pid} on "
                            f"{row.host}); give every process its own id.")
    if row is None:
        db.add(ClusterNode(node_id=node.node_id, host=node.host, pid=node.pid, started_at=node.started_at,
                           heartbeat_at=now))
    else:
        row.host, row.pid, row.started_at, row.heartbeat_at = node.host, node.pid, node.started_at, now


class Coordinator:
    """Keeps this process's leases and live sessions in step with the cluster's plan."""

    def __init__(self, context: HubContext):
        self.context = context
        self.node: Node = context.node
        self.interval = min(1.0, self.node.lease_ttl / 3)
        self.last_renewed = time.monotonic()
        self.running = False
        self.leaving = False  # SIGTERM: handing every session over; the plan neither takes nor hands back
        self.handing: set[str] = set()  # sessions being stopped here on their way to another process
        self.recovering = False  # the last round could not reach the database
        self.to_start: gevent.queue.Queue = gevent.queue.Queue()  # sessions taken, to start in order
        self.replan = threading.Event()  # set when another process released leases: plan now, not next round
        # Its own small pool, with short timeouts: the hub's load (a pool of busy connections) must never
        # delay a renewal, and an unreachable database must fail a round quickly instead of hanging it.
        engine = create_engine(context.config.database_url, pool_size=2, max_overflow=0, pool_timeout=2,
                               pool_pre_ping=True, connect_args={"connect_timeout": 2,
                                                                 "options": "-c statement_timeout=3000"})
        self.engine = engine
        self.factory = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def db(self) -> Iterator[DbSession]:
        """A transaction on the coordinator's own connections (committed on success)."""
        with self.factory() as db, db.begin():
            yield db

    def start(self) -> None:
        """Join the cluster (raises DuplicateNode) and start the loops and the watchdog."""
        with self.db() as db:
            join(db, self.node)
            others = [row for row in members(db) if row.node_id != self.node.node_id and self._alive(row)]
        self.node.clustered = True
        if not others:  # the cluster forms: bring back what a restart of one hub would
            wished = self.context.sessions.wish_restored()
            log.info("cluster: first process up; %d sessions to restore", len(wished))
        self.running = True
        self.context.listener.subscribe(RELEASED, lambda _payload: self.replan.set())
        for target, name in ((self._every_round(self.renew, self.interval), "cluster-renew"),
                             (self._every_round(self.rebalance, self.interval / 2, self.replan), "cluster-plan"),
                             (self._starter, "cluster-starter"), (self._watchdog, "cluster-watchdog")):
            threading.Thread(target=target, name=name, daemon=True).start()

    def _alive(self, row: ClusterNode) -> bool:
        """A member heartbeating within a TTL (and, on this host, whose process still exists)."""
        if row.heartbeat_at <= utcnow() - timedelta(seconds=self.node.lease_ttl):
            return False
        return row.host != self.node.host or Path(f"/proc/{row.pid}").exists()

    def _every_round(self, work, interval: float, wake: threading.Event | None = None):
        def loop():
            while self.running:
                try:
                    work()
                except SQLAlchemyError as exc:
                    log.warning("cluster: %s failed (%s)", work.__name__, type(exc).__name__)
                except Exception:
                    log.exception("cluster: %s failed", work.__name__)
                if wake is None:
                    gevent.sleep(interval)
                elif wake.wait(interval):
                    wake.clear()
        return loop

    def renew(self) -> None:
        """Heartbeat and renew the leases held; let go of any lost."""
        began, held = time.monotonic(), dict(self.node.held)
        try:
            with self.db() as db:
                now = utcnow()
                leases.heartbeat(db, self.node.node_id, now)
                renewed = leases.renew(db, self.node.node_id, list(held), now, self.node.lease_ttl)
        except SQLAlchemyError as exc:
            log.warning("cluster: leases not renewed (%s)", type(exc).__name__)
            self.recovering = True
            return
        self.last_renewed = began
        # Only what was held when the round began: a lease taken meanwhile was not asked about, and one
        # handed over meanwhile must not come back.
        for session_id in self._lost([sid for sid in set(held) - set(renewed) if self.node.held.get(sid) == held[sid]]):
            log.warning("cluster: lost the lease of %s", session_id, extra={"sessionId": session_id})
            self._let_go(session_id, release=False)
        self.node.held.update({sid: epoch for sid, epoch in renewed.items() if sid in self.node.held})
        # Webhooks and listeners registered through another process: this one's cache reloads them (≤ 1 s late).
        self.context.targets.invalidate()

    def _lost(self, missed: list[str]) -> list[str]:
        """Of the leases a renewal missed, those another process holds now (one taken meanwhile is kept)."""
        if not missed:
            return []
        with self.db() as db:
            now, current = utcnow(), leases.all_leases(db)
        kept = [sid for sid in missed if sid in current and current[sid].owner == self.node.node_id
                and current[sid].epoch == self.node.held.get(sid) and current[sid].live(now)]
        if kept:
            log.warning("cluster: a renewal missed %s, held still", ", ".join(kept))
        return [sid for sid in missed if sid not in kept]

    def rebalance(self) -> None:
        """Hand back what is beyond the fair share, take free sessions up to it."""
        if self.leaving:
            return
        if self.recovering:  # the database is back: one round for what was held up to be written first
            self.recovering = time.monotonic() - self.last_renewed > self.interval * 2
            return
        with self.db() as db:
            now = utcnow()
            self.node.leases = leases.all_leases(db)
            plan = policy.plan(self.node.node_id, leases.wanted_sessions(db),
                               self.node.leases, leases.live_nodes(db, now, self.node.lease_ttl), now)
        for session_id in plan.release:
            self._let_go(session_id, release=True)
        for session_id in plan.acquire:
            if self.leaving:  # SIGTERM came during this round: take nothing more
                break
            with self.db() as db:
                taken = self.node.claim(db, session_id)
            if taken:
                self.to_start.put(session_id)

    def _starter(self) -> None:
        """Start taken sessions one after another, first taken first (dials queue in the engine anyway)."""
        while self.running:
            session_id = self.to_start.get()
            if session_id not in self.node.held or self.leaving:
                continue  # lost or handed back before its turn, or this process is leaving (leave() hands it over)
            try:
                for hook in self.node.on_take_over:  # e.g. the previous holder's interrupted sends, queued again
                    hook(session_id)
                self.context.sessions.take_over(session_id)
            except Exception:
                log.exception("cluster: starting %s failed", session_id, extra={"sessionId": session_id})

    def _let_go(self, session_id: str, release: bool) -> gevent.Greenlet | None:
        """Stop running the session here (in the background: a stop can take seconds), then hand the lease back."""
        if not release:
            self.node.held.pop(session_id, None)  # lost: nothing may be written for it any more
        if session_id in self.handing:
            return None
        self.handing.add(session_id)
        return gevent.spawn(self._hand_over, session_id, release)

    def _hand_over(self, session_id: str, release: bool) -> None:
        try:
            self.context.sessions.hand_over(session_id, announce=release)
            if release:  # only once the engine stopped: the next holder must not connect a second socket
                self.node.held.pop(session_id, None)
                with self.db() as db:
                    leases.release(db, self.node.node_id, [session_id], utcnow())
                    notify(db, RELEASED, session_id)
        except Exception:
            log.exception("cluster: handing %s over failed", session_id, extra={"sessionId": session_id})
        finally:
            self.handing.discard(session_id)

    def _watchdog(self) -> None:
        """Stop every session here once the leases could have expired without a renewal."""
        while self.running:
            if self.node.held and time.monotonic() - self.last_renewed > self.node.lease_ttl * SAFETY:
                log.error("cluster: leases not renewed for %.1f s (database unreachable?): stopping %d sessions",
                          time.monotonic() - self.last_renewed, len(self.node.held))
                for session_id in list(self.node.held):
                    self._let_go(session_id, release=False)
            gevent.sleep(0.25)

    def leave(self) -> None:
        """SIGTERM: leave the cluster first, then hand each session over (stopped, then its lease released).

        Leaving first makes the others' fair share grow at once, so each released lease is taken on
        their next round (not only after the last one); the leases still held stay renewed meanwhile.
        """
        self.leaving = True
        try:
            with self.db() as db:
                leases.leave(db, self.node.node_id)
                notify(db, RELEASED, "")  # the others' share grows now
        except SQLAlchemyError:
            log.warning("cluster: could not leave the cluster cleanly; its leases expire within %s s",
                        self.node.lease_ttl)
        # One at a time: stops queue behind one another in the engine anyway, and a session announced,
        # stopped and released at once is picked up by another process while the next one stops.
        for _ in range(3):  # again for what a round under way when SIGTERM came took meanwhile
            for session_id in list(self.node.held):
                self._hand_over(session_id, release=True)
        self.running = False
        self.engine.dispose()  # its own pool: nothing else closes these connections


def members(db) -> list[ClusterNode]:
    """Every registered process, oldest first."""
    return list(db.scalars(select(ClusterNode).order_by(ClusterNode.started_at)))


def start(context: HubContext, scheduler) -> None:
    """Background module: on PostgreSQL, join the cluster and run the lease loop."""
    if context.config.database_url.startswith("sqlite"):
        return
    context.coordinator = Coordinator(context)
    context.coordinator.start()


def stop(context: HubContext) -> None:
    if getattr(context, "coordinator", None) is not None:
        context.coordinator.leave()
