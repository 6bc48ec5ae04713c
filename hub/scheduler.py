"""The one APScheduler of the process (GeventScheduler under gunicorn's gevent worker), and which of
its jobs run once per cluster.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from sqlalchemy import text

from hub.store import utcnow
from hub.store.cluster import ClusterJob

log = logging.getLogger(__name__)

# Every scheduler job by id, classified here once. CLUSTER: work on the shared database (and media
# store) that one process does for all: on PostgreSQL it runs once per period in the cluster.
# PROCESS: this process's own work (downloads of the sessions it holds, its SQLite file): every
# process runs it. The lease renewals and the plan are greenlets of hub/cluster/coordinator.py,
# per process by nature. A job missing here stops the start-up (see `share_cluster_jobs`).
CLUSTER, PROCESS = "cluster", "process"
JOBS = {"delivery-sweep": CLUSTER, "event-retention": CLUSTER, "media-retention": CLUSTER,
        "outbound-expire": CLUSTER, "cluster-commands-purge": CLUSTER, "media-retry": PROCESS,
        "sqlite-checkpoint": PROCESS}
# A job's turn comes round after this share of its period: the processes' ticks drift apart, and
# a full period would make the process that ran last skip its next tick now and then.
PERIOD_SHARE = 0.9
JOB_LOCKS = 7_150_019  # advisory lock space of the jobs (pg_try_advisory_xact_lock(space, job))
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:space, hashtext(:name))")


def make_scheduler():
    """GeventScheduler when gevent has patched the process, else a BackgroundScheduler (tests, scripts)."""
    try:
        from gevent import monkey

        patched = monkey.is_module_patched("threading")
    except ImportError:
        patched = False
    if patched:
        from apscheduler.schedulers.gevent import GeventScheduler

        return GeventScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})


def share_cluster_jobs(scheduler, context) -> None:
    """Refuse unclassified jobs; in a cluster (PostgreSQL) run each CLUSTER job through `once_per_cluster`."""
    for job in scheduler.get_jobs():
        if job.id not in JOBS:
            raise RuntimeError(f"scheduler job {job.id!r} is not classified in hub/scheduler.py JOBS")
        if JOBS[job.id] == CLUSTER and context.node.clustered:
            job.modify(func=partial(once_per_cluster, context, job.id, job.trigger.interval, job.func))


def once_per_cluster(context, name: str, period: timedelta, work, *args):
    """Run `work(*args)` unless another process runs this job now or ran it within the period.

    The advisory lock is the transaction's: held while the job runs, released if the process dies.
    The turn is recorded in that transaction, so a run that fails leaves it to the next tick.
    """
    with context.store.engine.begin() as connection:
        if not connection.scalar(_TRY_LOCK, {"space": JOB_LOCKS, "name": name}):
            return None  # another process runs it right now
        if not ClusterJob.take_turn(connection, name, context.node.node_id, utcnow(), period * PERIOD_SHARE):
            return None
        log.debug("job %s: this process's turn", name)
        return work(*args)
