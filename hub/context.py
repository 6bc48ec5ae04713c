"""HubContext: every component of one hub as a typed field. No Flask here: services import it freely.

`hub.app.build_context` builds the passive components (no threads, no connections);
`hub.runtime.start` fills in the background ones under gunicorn. Tests and scripts that start
nothing see those as None.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing the components here would make every service import all
    from apscheduler.schedulers.base import BaseScheduler

    from hub.cluster.coordinator import Coordinator
    from hub.cluster.node import Node
    from hub.cluster.notify import Listener
    from hub.config import Config
    from hub.delivery.dispatcher import Dispatcher
    from hub.delivery.fanout import Targets
    from hub.events import EventBus, EventLog
    from hub.keys import KeyCache
    from hub.metrics import HubMetrics
    from hub.outbound.pacing import Pacer
    from hub.outbound.worker import OutboundWorker
    from hub.ratelimit.buckets import DatabaseBuckets, MemoryBuckets
    from hub.sessions.manager import SessionManager
    from hub.store import Store


@dataclass
class HubContext:
    """The components of one hub (one per app; the process has one app under gunicorn)."""

    config: Config
    store: Store
    bus: EventBus
    events: EventLog
    sessions: SessionManager
    targets: Targets  # the enabled endpoints: one cache shared by fan-out and the dispatcher
    pacer: Pacer  # one per process: the API's send-now path and the queue worker take from it
    metrics: HubMetrics
    limiter: MemoryBuckets | DatabaseBuckets  # the API rate limits' buckets (hub/ratelimit/)
    node: Node  # this process in the cluster (on SQLite: the one process, holding every session)
    keys: KeyCache  # scoped keys recently seen (hub/keys.py)
    listener: Listener  # this process's LISTEN connection (PostgreSQL; started by hub.runtime.start)
    # Background components (hub.runtime.start):
    scheduler: BaseScheduler | None = None
    dispatcher: Dispatcher | None = None
    outbound_worker: OutboundWorker | None = None
    session_restore: threading.Thread | None = None
    coordinator: Coordinator | None = None  # PostgreSQL only (hub.cluster.coordinator)
