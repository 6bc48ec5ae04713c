"""Scheduler jobs in a cluster: each CLUSTER job runs once per period across processes (PostgreSQL).

Two "processes" here are two hub contexts on one throwaway PostgreSQL database, with their own
node ids and connection pools; tests/cluster/test_dispatch_pg.py checks it with real gunicorn workers.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from hub.app import create_app
from hub.config import Config
from hub.scheduler import make_scheduler, once_per_cluster, share_cluster_jobs

PERIOD = timedelta(seconds=0.5)


@pytest.fixture
def processes(tmp_path, pg_template, postgres):
    """Two contexts ("a", "b") on one migrated PostgreSQL database."""
    from tests.postgres import create_database
    url = create_database(postgres, pg_template)
    contexts = []
    for name in "ab":
        context = create_app(Config.for_tests(tmp_path / name, database_url=url)).extensions["hub"]
        context.node.node_id, context.node.clustered = name, True
        contexts.append(context)
    yield contexts
    for context in contexts:
        context.store.writes.stop()
        context.store.dispose()


def test_a_cluster_job_runs_once_per_period_whichever_process_ticks(processes):
    first, second = processes
    runs = []
    for context in (first, second, first):
        once_per_cluster(context, "event-retention", PERIOD, runs.append, context.node.node_id)
    assert runs == ["a"]
    time.sleep(PERIOD.total_seconds())
    for context in (second, first):
        once_per_cluster(context, "event-retention", PERIOD, runs.append, context.node.node_id)
    assert runs == ["a", "b"]


def test_a_job_another_process_is_running_is_skipped_without_waiting(processes):
    first, second = processes
    inner = []

    def long_job():  # while it runs, the other process's tick comes (its period long over)
        thread = threading.Thread(target=lambda: inner.append(
            once_per_cluster(second, "delivery-sweep", timedelta(0), lambda: "ran")), daemon=True)
        thread.start()
        thread.join(5)
        return "done"

    assert once_per_cluster(first, "delivery-sweep", timedelta(0), long_job) == "done"
    assert inner == [None]
    assert once_per_cluster(second, "delivery-sweep", timedelta(0), lambda: "ran") == "ran"


def test_a_failed_run_leaves_the_turn_to_the_next_tick(processes):
    first, second = processes

    def failing():
        raise RuntimeError("database hiccup")

    with pytest.raises(RuntimeError):
        once_per_cluster(first, "media-retention", PERIOD, failing)
    assert once_per_cluster(second, "media-retention", PERIOD, lambda: "ran") == "ran"


def test_a_job_missing_from_the_classification_stops_the_start_up(processes):
    scheduler = make_scheduler()
    scheduler.add_job(print, "interval", seconds=60, id="delivery-sweep")
    share_cluster_jobs(scheduler, processes[0])
    scheduler.add_job(print, "interval", seconds=60, id="mystery-job")
    with pytest.raises(RuntimeError, match="mystery-job"):
        share_cluster_jobs(scheduler, processes[0])
