"""The dispatcher: one loop that claims due deliveries, POSTs them concurrently, saves outcomes.

The loop is the only writer of delivery outcomes: POSTs run in a pool (greenlets under
gunicorn's gevent worker, threads elsewhere) and hand their results back through a deque, so
a batch of outcomes is saved in one short transaction and no POST holds the database.
It wakes when an event is recorded (bus callback), when a POST finishes, and at least every
POLL_SECONDS, so retries that fall due and deliveries left by a crash are picked up.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from hub.context import HubContext
from hub.delivery import outbox
from hub.delivery.sender import Sender
from hub.store import Event, utcnow

log = logging.getLogger(__name__)

PER_ENDPOINT = 4  # POSTs in flight per endpoint: a hanging receiver holds at most these
TOTAL = 64  # POSTs in flight overall
POLL_SECONDS = 1.0
# Rounds start at least this far apart. Every finished POST and every recorded event wakes the loop,
# and a round costs about the same for one delivery as for fifty (a transaction, the claim's query,
# the saves): under a flood, back-to-back rounds of one delivery each took most of the worker's CPU.
# After a quiet spell the next round starts at once; no wait is added.
ROUND_GAP = 0.005
LEASE_MARGIN = 60.0  # a lease outlives the longest possible attempt (HUB_WEBHOOK_TIMEOUT) by this much
BODY_CACHE = 4096  # serialised envelopes kept for claims (older events are read back)
# Private switch for bench/fanout.py only: claim with the previous, unfair query (oldest due first).
PREVIOUS_CLAIM = "BENCH_PREVIOUS_CLAIM"


class Dispatcher:
    """Runs `loop()` in a thread (a greenlet under gevent) until `stop()`."""

    def __init__(self, context: HubContext, sender: Sender | None = None, per_endpoint: int = PER_ENDPOINT,
                 total: int = TOTAL, poll: float = POLL_SECONDS):
        config = context.config
        self.store, self.schedule = context.store, config.retry_schedule
        # Keep-alive connections per host up to the total in flight: endpoints often share a host (one
        # CRM, several paths), and a smaller pool would open and drop a connection per POST.
        self.sender = sender or Sender(config.webhook_timeout, config.block_private_urls, total)
        self.per_endpoint, self.total, self.poll = per_endpoint, total, poll
        self.lease = timedelta(seconds=config.webhook_timeout + LEASE_MARGIN)
        self.in_flight = outbox.InFlight()
        self.fair = os.environ.get(PREVIOUS_CLAIM) != "1"
        self._finished: deque = deque()
        self._wakeup = threading.Event()
        self._stopping = False
        self._jobs: queue.Queue = queue.Queue()
        self._bodies: OrderedDict[str, bytes] = OrderedDict()  # recent envelopes, serialised
        self.targets = context.targets  # the cache fan-out keeps current
        self.poll_delta = timedelta(seconds=poll)
        self._next_check = utcnow()  # when to look for the next retry time again
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

    def wake(self, envelope: dict | None = None) -> None:
        """Run a round now (bus callback: an event, maybe with deliveries, was recorded).

        The envelope is kept serialised, so claiming its deliveries needs no read of the event.
        """
        if envelope is not None:
            self._bodies[envelope["id"]] = Event.encode(envelope).encode()
            if len(self._bodies) > BODY_CACHE:
                self._bodies.popitem(last=False)
        self._wakeup.set()

    def loop(self) -> None:
        while not self._stopping:
            started = time.monotonic()
            try:
                pause = self.run_once()
            except Exception:
                log.exception("delivery round failed")
                pause = self.poll
            if pause > 0:
                self._wakeup.wait(pause)
            self._rest_until(started + ROUND_GAP)

    def _rest_until(self, moment: float) -> None:
        """Let POSTs finish and events arrive until `moment`, so that the next round takes them together."""
        rest = moment - time.monotonic()
        if rest > 0 and not self._stopping:
            time.sleep(rest)

    def run_once(self) -> float:
        """Save finished attempts and start what is due, in one transaction; seconds until the next round."""
        self._wakeup.clear()
        results = self._take_finished()
        now = utcnow()
        with self.store.session() as db:
            if results:
                outbox.save_results(db, results, self.schedule)
            self._release(results)
            free = self.total - self.in_flight.total()
            if free <= 0:
                return self.poll
            jobs = outbox.claim(db, free, self.per_endpoint, self.in_flight, now, self.lease,
                                targets=self.targets.by_id(db), bodies=self._bodies, fair=self.fair)
            rescheduled = any(result.error is not None for result in results)
            pause = 0.0 if len(jobs) == free else self._until_next_due(db, now, rescheduled)
        for job in jobs:
            self.in_flight.add(job)
            self._jobs.put(job)
        return pause

    def _take_finished(self) -> list:
        results = []
        while self._finished:
            results.append(self._finished.popleft())
        return results

    def _release(self, results: list) -> None:
        """Free the slots of finished attempts."""
        for result in results:
            self.in_flight.remove(result.job)

    def _until_next_due(self, db, now: datetime, rescheduled: bool) -> float:
        """Until the next retry falls due (capped by the poll interval); finished POSTs wake us sooner.

        Only a failed attempt schedules a retry in the future, so the index is read again only
        after one, or once the time found last is reached.
        """
        if rescheduled or self._next_check <= now:
            due = outbox.next_due(db, now)
            self._next_check = min(due, now + self.poll_delta) if due else now + self.poll_delta
        return max(0.005, (self._next_check - now).total_seconds())

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
