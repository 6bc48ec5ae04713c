"""start(app): the background work of the one worker process. Called from wsgi.py only.

Each background module exposes `start(context, scheduler)`; it may spawn its greenlets
(they are threads outside gevent) and add jobs to the one scheduler (docs/architecture.md,
"Process model"). Importing them starts nothing: create_app never starts a thread.
"""
from __future__ import annotations

import logging
import threading
from types import ModuleType

from hub import logs, metrics
from hub.cluster import commands, coordinator, notify
from hub.context import HubContext
from hub.delivery import worker as delivery_worker
from hub.media import worker as media_worker
from hub.outbound import worker as outbound_worker
from hub.outbound.validation import default_session_warnings
from hub.scheduler import make_scheduler, share_cluster_jobs
from hub.store import checkpoint, group

log = logging.getLogger(__name__)

# Background modules, started in this order. Each has start(context, scheduler) and may have stop(context).
# The group-commit writer starts early and stops late: the other workers write through it.
# The coordinator joins the cluster (PostgreSQL) before anything else starts, so a duplicate HUB_NODE_ID stops the
# start-up; it leaves last but one, handing its sessions over while the writer still runs. The notification
# listener (PostgreSQL) starts early; a channel subscribed later is LISTENed within half a second. The commands'
# router (hub/cluster/commands.py) follows: calls for sessions held elsewhere go to their holder.
BACKGROUND_MODULES: list[ModuleType] = [logs, group, coordinator, notify, commands, metrics, outbound_worker,
                                        media_worker, delivery_worker, checkpoint]


def start(app) -> None:
    """Restore sessions, create configured ones, start the workers and the scheduler."""
    context = app.extensions["hub"]
    config = context.config
    log.info("hub starting: database %s, engine %s, sandbox %s", _safe_url(config.database_url),
             config.engine, config.sandbox)
    for warning in config.startup_warnings():
        log.warning(warning)
    scheduler = make_scheduler()
    context.scheduler = scheduler
    for module in BACKGROUND_MODULES:
        module.start(context, scheduler)
    share_cluster_jobs(scheduler, context)
    scheduler.start()
    # Session restore runs in the background so the API answers at once.
    thread = threading.Thread(target=_bring_up_sessions, args=(context,), name="session-restore", daemon=True)
    thread.start()
    context.session_restore = thread


def _bring_up_sessions(context: HubContext) -> None:
    try:
        created = context.sessions.create_from_file(context.config.sessions_config)
        restored = context.sessions.restore_all()
        context.sessions.history.resume_all()
        log.info("sessions: %d restored, %d created from %s", len(restored), len(created),
                 context.config.sessions_config)
        for warning in default_session_warnings(context):
            log.warning(warning)
    except Exception:
        log.exception("restoring sessions failed")


def stop(app) -> None:
    """Stop the workers and every live session (worker shutdown)."""
    context = app.extensions["hub"]
    for module in reversed(BACKGROUND_MODULES):
        if hasattr(module, "stop"):
            module.stop(context)
    if context.scheduler is not None and context.scheduler.running:
        context.scheduler.shutdown(wait=False)
    context.sessions.stop_all()


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
