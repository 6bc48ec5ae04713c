"""The dispatcher: one loop that claims due deliveries, POSTs them concurrently, saves outcomes.

The loop is the only writer of delivery outcomes: POSTs run in a pool (greenlets under
gunicorn's gevent worker, threads elsewhere) and hand their results back through a deque, so
a batch of outcomes is saved in one short transaction and no POST holds the database.
It wakes when an event is recorded (bus listener), when a POST finishes, and at least every
POLL_SECONDS, so retries that fall due and deliveries left by a crash are picked up.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections import Counter, deque
from datetime import timedelta

from hub.delivery import outbox
from hub.delivery.sender import CONNECT_TIMEOUT, Sender
from hub.store import utcnow

log = logging.getLogger(__name__)

PER_ENDPOINT = 4  # POSTs in flight per endpoint: a hanging receiver holds at most these
TOTAL = 64  # POSTs in flight overall
POLL_SECONDS = 1.0
LEASE_MARGIN = 60.0  # a lease outlives the longest possible attempt by this much


class Dispatcher:
    """Runs `loop()` in a thread (a greenlet under gevent) until `stop()`."""

    def __init__(self, context, sender: Sender | None = None, per_endpoint: int = PER_ENDPOINT,
                 total: int = TOTAL, poll: float = POLL_SECONDS):
        config = context.config
        self.store, self.schedule = context.store, config.retry_schedule
        self.sender = sender or Sender(config.webhook_timeout, config.block_private_urls, per_endpoint * 2)
        self.per_endpoint, self.total, self.poll = per_endpoint, total, poll
        self.lease = timedelta(seconds=CONNECT_TIMEOUT + config.webhook_timeout + LEASE_MARGIN)
        self.in_flight: Counter = Counter()
        self._finished: deque = deque()
        self._wakeup = threading.Event()
        self._stopping = False
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """The loop plus `total` posters (greenlets under gevent: cheap)."""
        self._thread = threading.Thread(target=self.loop, name="delivery-dispatcher", daemon=True)
        self._thread.start()
        for n in range(self.total):
            threading.Thread(target=self._poster, name=f"delivery-{n}", daemon=True).start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; in-flight POSTs are abandoned (their leases expire and they are re-sent)."""
        self._stopping = True
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for _ in range(self.total):
            self._jobs.put(None)

    def wake(self, *_envelope) -> None:
        """Run a round now (bus listener: an event, maybe with deliveries, was recorded)."""
        self._wakeup.set()

    def loop(self) -> None:
        while not self._stopping:
            try:
                pause = self.run_once()
            except Exception:
                log.exception("delivery round failed")
                pause = self.poll
            if pause > 0:
                self._wakeup.wait(pause)

    def run_once(self) -> float:
        """Save finished attempts, start what is due; returns seconds to wait before the next round."""
        self._wakeup.clear()
        self.save_finished()
        free = self.total - sum(self.in_flight.values())
        if free <= 0:
            return self.poll
        now = utcnow()
        with self.store.session() as db:
            jobs = outbox.claim(db, free, self.per_endpoint, self.in_flight, now, self.lease)
        for job in jobs:
            self.in_flight[job.endpoint_id] += 1
            self._jobs.put(job)
        return 0.0 if len(jobs) == free else self._until_next_due()

    def save_finished(self) -> int:
        """Persist every finished attempt in one transaction; frees their slots."""
        results = []
        while self._finished:
            results.append(self._finished.popleft())
        if results:
            with self.store.session() as db:
                outbox.save_results(db, results, self.schedule)
            for result in results:
                self.in_flight[result.job.endpoint_id] -= 1
            self.in_flight += Counter()  # drops endpoints at zero
        return len(results)

    def _until_next_due(self) -> float:
        """Until the next retry falls due (capped by the poll interval); finished POSTs wake us sooner."""
        now = utcnow()
        with self.store.session() as db:
            due = outbox.next_due(db, now)
        if due is None:
            return self.poll
        return min(self.poll, max(0.005, (due - now).total_seconds()))

    def _poster(self) -> None:
        """POST jobs from the queue until a None arrives; hand each result back to the loop."""
        while (job := self._jobs.get()) is not None:
            try:
                result = self.sender.post(job)
            except Exception as exc:  # a bug in the sender must not leak the slot
                log.exception("delivery %s: POST crashed", job.delivery_id, extra={"deliveryId": job.delivery_id})
                result = outbox.Result(job, utcnow(), None, 0.0, f"{type(exc).__name__}: {exc}")
            self._finished.append(result)
            self._wakeup.set()
