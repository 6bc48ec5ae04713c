"""Start-up work for inbound media: finish downloads a restart interrupted, and run retention.

Sessions are restored in the background after start-up, so interrupted downloads are retried
when their session reports `connected` (bus callback) and by a periodic job (which also gives
up on files whose session stays away).
"""
from __future__ import annotations

import logging
import threading

from hub.context import HubContext
from hub.media import downloads, retention
from hub.store import utcnow
from hub.store.models import SessionStatus

log = logging.getLogger(__name__)

RETRY_SECONDS = 60
RETENTION_HOURS = 1


def start(context: HubContext, scheduler) -> None:
    """Schedule the retries of interrupted downloads and the retention job."""
    started = utcnow()  # downloads begun before this moment belong to a previous process

    def retry() -> None:
        try:
            finished = downloads.retry_interrupted(context.sessions, started)
            if finished:
                log.info("media: %d interrupted downloads finished", finished)
        except Exception:
            log.exception("retrying interrupted media downloads failed")

    def on_event(envelope: dict) -> None:
        if envelope["type"] == "session-status" and envelope["data"].get("status") == SessionStatus.CONNECTED:
            threading.Thread(target=retry, name="media-retry", daemon=True).start()

    context.bus.add_callback(on_event)
    scheduler.add_job(retry, "interval", seconds=RETRY_SECONDS, id="media-retry")
    scheduler.add_job(retention.purge, "interval", hours=RETENTION_HOURS, args=(context,), id="media-retention",
                      next_run_time=started)
