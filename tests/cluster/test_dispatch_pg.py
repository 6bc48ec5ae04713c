"""Two real gunicorn hub processes on one throwaway PostgreSQL share the delivery outbox and the jobs.

Both dispatchers claim from the one outbox: every event reaches the listener exactly once, and the
listener's cap of POSTs in flight (4) holds for the cluster, not per process; a CLUSTER scheduler
job runs once per period across both (hub/scheduler.py).
"""
from __future__ import annotations

import threading
import time
from contextlib import ExitStack

import psycopg
import pytest

from hub.delivery.dispatcher import PER_ENDPOINT
from hub.scheduler import PERIOD_SHARE
from tests.cluster.test_cluster_pg import Cluster, bring_up
from tests.postgres import create_database
from tests.receivers import Receiver

MESSAGES = 24
ANSWER_SECONDS = 0.4  # a slow listener: the posts pile up against the cap in both processes
EXPIRE_EVERY = 1.0  # outbound-expire's period with HUB_OUTBOUND_MAX_AGE=10s (a tenth of it)


class SlowListener(Receiver):
    """Answers each POST after ANSWER_SECONDS; records the most POSTs it had open at once."""

    def __init__(self):
        self.open, self.peak, self.counting = 0, 0, threading.Lock()
        super().__init__(self._answer)

    def _answer(self, n, request):
        with self.counting:
            self.open += 1
            self.peak = max(self.peak, self.open)
        time.sleep(ANSWER_SECONDS)
        with self.counting:
            self.open -= 1
        return 200, {}, b"ok"


class Pair(Cluster):
    """Cluster's hub processes, with outbound-expire ticking every EXPIRE_EVERY seconds."""

    def _hub(self, node_id: str):
        hub = super()._hub(node_id)
        hub.extra_env["HUB_OUTBOUND_MAX_AGE"] = "10s"
        return hub


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres, pg_template):
    """node0 and node1 (one gevent worker each) on one database, with one connected sandbox session."""
    url = create_database(postgres, pg_template)
    with ExitStack() as stack:
        hubs = Pair(stack, tmp_path_factory.mktemp("dispatch"), url, 2)
        bring_up(hubs, ["shop"])
        yield hubs


def job_runs(cluster: Cluster, name: str) -> int:
    with psycopg.connect(cluster.url.replace("postgresql+psycopg", "postgresql")) as db:
        row = db.execute("SELECT runs FROM cluster_jobs WHERE name = %s", (name,)).fetchone()
    return row[0] if row else 0


def test_both_processes_deliver_every_event_exactly_once_within_one_cap(cluster):
    with SlowListener() as listener:
        assert cluster.any().post("/api/whatsapp/register-listener", json={
            "callbackUrl": listener.url, "events": ["message-received"]}).ok
        owner = cluster.owner_of("shop")
        for n in range(MESSAGES):
            answer = owner.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": f"m{n}"})
            assert answer.status_code in (200, 202), answer.text
        owner.wait_for(lambda: len(listener.requests) >= MESSAGES, timeout=60, interval=0.1)
        time.sleep(ANSWER_SECONDS * 2)  # a duplicate would arrive with the last ones
        texts = [event["data"]["text"] for event in listener.events()]
    assert sorted(texts) == sorted(f"m{n}" for n in range(MESSAGES))  # each once
    # Each process alone would open PER_ENDPOINT POSTs: both together must not open more.
    assert listener.peak == PER_ENDPOINT


def test_a_cluster_job_runs_once_per_period_across_both_processes(cluster):
    before, began = job_runs(cluster, "outbound-expire"), time.monotonic()
    time.sleep(4 * EXPIRE_EVERY)
    runs, elapsed = job_runs(cluster, "outbound-expire") - before, time.monotonic() - began
    # Each process ticks every period: without the turns the job would run about twice as often.
    assert 1 <= runs <= elapsed / (EXPIRE_EVERY * PERIOD_SHARE) + 1
