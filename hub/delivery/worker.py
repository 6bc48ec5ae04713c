"""Background delivery: the dispatcher plus the scheduler jobs that sweep leases and purge events.

Listed in hub/runtime.py BACKGROUND_MODULES: `start(context, scheduler)`, `stop(context)`.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from hub.context import HubContext
from hub.delivery import outbox
from hub.delivery.dispatcher import Dispatcher
from hub.store import utcnow

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15
PURGE_MINUTES = 60


def start(context: HubContext, scheduler) -> Dispatcher:
    """Reclaim the previous process's leases, start the dispatcher, schedule sweep and purge."""
    # In a cluster the other processes' leases are POSTs in flight: only expired ones are a dead process's.
    with context.store.session() as db:
        released = outbox.release_leases(db, utcnow(), expired_only=context.node.clustered)
    if released:
        log.info("delivery: %d deliveries claimed by a stopped process will be re-sent", released)
    dispatcher = Dispatcher(context)
    context.dispatcher = dispatcher
    context.bus.add_callback(dispatcher.wake)
    dispatcher.start()
    scheduler.add_job(sweep_leases, "interval", seconds=SWEEP_SECONDS, args=(context,), id="delivery-sweep")
    scheduler.add_job(purge_events, "interval", minutes=PURGE_MINUTES, args=(context,),
                      id="event-retention", next_run_time=utcnow() + timedelta(minutes=1))
    return dispatcher


def stop(context: HubContext) -> None:
    dispatcher, context.dispatcher = context.dispatcher, None
    if dispatcher is not None:
        dispatcher.stop()


def wake(context: HubContext) -> None:
    """Ask the dispatcher (when this process runs one) to look for due deliveries now."""
    if context.dispatcher is not None:
        context.dispatcher.wake()


def sweep_leases(context: HubContext) -> int:
    """Scheduler job: claims whose lease expired (their worker died) become due again."""
    with context.store.session() as db:
        released = outbox.release_leases(db, utcnow())
    if released:
        log.warning("delivery: %d expired leases released", released)
        wake(context)
    return released


def purge_events(context: HubContext) -> int:
    """Scheduler job: delete delivered events older than HUB_EVENT_RETENTION_DAYS, in small batches."""
    cutoff = utcnow() - timedelta(days=context.config.event_retention_days)
    total = 0
    while True:
        with context.store.session() as db:  # one short transaction per batch
            purged = outbox.purge_events(db, cutoff)
        total += purged
        if not purged:
            break
    if total:
        log.info("event retention: %d events older than %s purged", total, cutoff.isoformat())
    return total
