"""Events across processes: every stored event is announced with NOTIFY; peers put it on their bus.

The process that records an event publishes it on its own bus after the commit (hub/events.py);
a bus callback queues its announcement on the `hub_events` channel (hub/cluster/notify.py), sent
in a short transaction of its own with whatever else is queued. Not in the recording transaction:
PostgreSQL serialises the commits of notifying transactions (a cluster-wide lock held through the
commit's WAL flush), and event commits of every process must not queue behind one another.
A peer offers the envelope to its bus's *subscriptions* only (`/ws/events`, `/ws/session`,
Socket.IO): the bus's callbacks (metrics, dispatcher, outbound and media workers, logs) are about
this process's own work and already ran where the event was recorded.

- Order: NOTIFY delivers in commit order, and one session's events are recorded by the one
  process that holds it, in order; so each session's events arrive in order everywhere.
- Once each: a process ignores its own announcements, and remembers the ids it recently
  published (its own and its peers'), so a catch-up never repeats one.
- Size: the envelope travels inside the announcement when it fits NOTIFY's 8000 bytes; a larger
  one is announced by id and read from the events table.
- Outage: notifications sent while the listener was disconnected are lost; on reconnect the
  events recorded since shortly before the last one heard are read back from the table.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from sqlalchemy import select

from hub.cluster.notify import MAX_PAYLOAD, notify
from hub.context import HubContext
from hub.store import Event, utcnow

log = logging.getLogger(__name__)

CHANNEL = "hub_events"
REMEMBERED = 20_000  # event ids kept to recognise a repeat (minutes of traffic at hundreds of events/s)
CLOCK_MARGIN = timedelta(seconds=10)  # peers stamp events with their own clocks: read back a little earlier
CATCH_UP_LIMIT = 10_000  # events read back after one outage, oldest first


class Broadcast:
    """Announces this process's events to its peers and publishes theirs on this process's bus."""

    def __init__(self, context: HubContext):
        self.context = context
        self.node_id = context.node.node_id
        self.recent: OrderedDict[str, None] = OrderedDict()
        self.last_heard: datetime = utcnow()
        self.pending: list[str] = []  # announcements to send, in commit order
        self._sending = False
        self._lock = threading.Lock()

    def announce(self, envelope: dict) -> None:
        """Bus callback (after the event's commit): queue its announcement; one transaction sends what is queued."""
        with self._lock:
            self.pending.append(self.announcement(envelope))
            if self._sending:
                return
            self._sending = True
        threading.Thread(target=self._send, name="cluster-announce", daemon=True).start()

    def _send(self) -> None:
        """NOTIFY everything queued, batch after batch, in its own short transactions."""
        while True:
            with self._lock:
                batch, self.pending = self.pending, []
                if not batch:
                    self._sending = False
                    return
            try:
                with self.context.store.session() as db:
                    for payload in batch:
                        notify(db, CHANNEL, payload)
            except Exception:  # peers miss these (their clients only: deliveries come from the table)
                log.exception("cluster: announcing %d events failed", len(batch))

    def announcement(self, envelope: dict) -> str:
        """The NOTIFY payload: the envelope itself when it fits, else its id (read from the table)."""
        inline = json.dumps({"node": self.node_id, "envelope": envelope}, separators=(",", ":"), ensure_ascii=False)
        if len(inline.encode()) <= MAX_PAYLOAD:
            return inline
        return json.dumps({"node": self.node_id, "id": envelope["id"], "sessionId": envelope["sessionId"]})

    def heard(self, payload: str) -> None:
        """Listener callback: a peer's event reaches this process's WebSocket and Socket.IO clients."""
        announcement = json.loads(payload)
        self.last_heard = utcnow()  # every event recorded before this one was heard (NOTIFY keeps commit order)
        if announcement["node"] == self.node_id:
            return  # published on this bus after its commit already
        envelope = announcement.get("envelope") or self.read(announcement["id"])
        if envelope is not None:
            self.publish(envelope)

    def read(self, event_id: str) -> dict | None:
        """An announced event too large for its announcement."""
        with self.context.store.session() as db:
            event = db.scalar(select(Event).where(Event.id == event_id))
            return event.envelope() if event is not None else None

    def catch_up(self) -> None:
        """After an outage of the listener: publish the events recorded meanwhile that were not published here."""
        since = self.last_heard - CLOCK_MARGIN
        with self.context.store.session() as db:
            events = db.scalars(select(Event).where(Event.timestamp >= since).order_by(Event.seq)
                                .limit(CATCH_UP_LIMIT))
            envelopes = [event.envelope() for event in events]
        fresh = [envelope for envelope in envelopes if envelope["id"] not in self.recent]
        log.info("cluster: caught up with %d events recorded while notifications were down", len(fresh))
        for envelope in fresh:
            self.publish(envelope)
        self.last_heard = utcnow()

    def publish(self, envelope: dict) -> None:
        """Offer a peer's event to this bus's subscriptions, once."""
        if self.remember(envelope):
            self.context.bus.offer(envelope)

    def remember(self, envelope: dict) -> bool:
        """Note the event as published here; False when it already was."""
        event_id = envelope["id"]
        if event_id in self.recent:
            return False
        self.recent[event_id] = None
        if len(self.recent) > REMEMBERED:
            self.recent.popitem(last=False)
        return True


def install(context: HubContext) -> Broadcast | None:
    """On PostgreSQL: announce every recorded event and relay the peers' (starts nothing)."""
    if not context.listener.enabled:
        return None
    broadcast = Broadcast(context)
    context.bus.add_callback(broadcast.remember)  # this process's own events: never repeated by a catch-up
    context.bus.add_callback(broadcast.announce)
    context.listener.subscribe(CHANNEL, broadcast.heard, on_missed=broadcast.catch_up)
    return broadcast
