"""The queue worker: drains each session's queue when it connects, and polls for due retries.

One loop waits for a wake-up (a `session-status: connected` event on the bus, a message queued
through the API) or the poll interval, then starts one drain per session that has due
messages and is not already draining. A scheduler job gives up on messages that are too old.
"""
from __future__ import annotations

import logging
import threading

from hub.context import HubContext
from hub.outbound import queue
from hub.store.models import SessionStatus

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # due retries are picked up at least this often
EXPIRE_SECONDS = 30  # how often old queued messages are given up on


class OutboundWorker:
    """Starts at most one drain per session at a time."""

    def __init__(self, context: HubContext, poll: float = POLL_SECONDS):
        self.context = context
        self.poll = poll
        self._wakeup = threading.Event()
        self._draining: set[str] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def wake(self) -> None:
        """Look for due messages now instead of at the next poll."""
        self._wakeup.set()

    def on_event(self, envelope: dict) -> None:
        """Bus callback: a session that (re)connects gets its queue drained at once."""
        if envelope["type"] == "session-status" and envelope["data"].get("status") == SessionStatus.CONNECTED:
            self.wake()

    def run(self) -> None:
        while not self._stopped:
            self._wakeup.wait(self.poll)
            self._wakeup.clear()
            try:
                for session_id in queue.sessions_with_due_messages(self.context):
                    self._start_drain(session_id)
            except Exception:
                log.exception("outbound queue pass failed")

    def _start_drain(self, session_id: str) -> None:
        with self._lock:
            if session_id in self._draining:
                return
            self._draining.add(session_id)
        threading.Thread(target=self._drain, args=(session_id,), name=f"drain-{session_id}", daemon=True).start()

    def _drain(self, session_id: str) -> None:
        try:
            sent = queue.drain(self.context, session_id)
            if sent:
                log.info("session %s: %d queued messages sent", session_id, sent, extra={"sessionId": session_id})
        except Exception:
            log.exception("session %s: draining the queue failed", session_id, extra={"sessionId": session_id})
        finally:
            with self._lock:
                self._draining.discard(session_id)

    def stop(self) -> None:
        self._stopped = True
        self._wakeup.set()


def start(context: HubContext, scheduler) -> None:
    """Requeue sends a restart cut short, listen for connections, start the loop, schedule expiry."""
    requeued = 0 if context.node.clustered else queue.requeue_interrupted(context)  # cluster: at each take-over
    if requeued:
        log.info("outbound: %d interrupted sends back in the queue", requeued)
    # In a cluster, what the previous holder was sending when it died or stopped goes out again (at-least-once).
    context.node.on_take_over.append(lambda session_id: queue.requeue_interrupted(context, session_id))
    worker = context.outbound_worker = OutboundWorker(context)
    context.bus.add_callback(worker.on_event)
    threading.Thread(target=worker.run, name="outbound-worker", daemon=True).start()
    # Checked often enough that a short HUB_OUTBOUND_MAX_AGE is honoured within about a tenth of it.
    every = min(EXPIRE_SECONDS, max(1.0, context.config.outbound_max_age / 10))
    scheduler.add_job(queue.expire, "interval", seconds=every, args=(context,), id="outbound-expire")
    worker.wake()


def stop(context: HubContext) -> None:
    if context.outbound_worker is not None:
        context.outbound_worker.stop()
