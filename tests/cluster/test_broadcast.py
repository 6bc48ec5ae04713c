"""hub.cluster.broadcast with two hubs (two apps, as two processes would be) on one PostgreSQL database."""
from __future__ import annotations

import time

import pytest

from hub.app import create_app
from hub.cluster.broadcast import CHANNEL
from hub.config import Config
from tests import postgres as pg


@pytest.fixture
def hubs(postgres, pg_template, tmp_path):
    """Two hubs' contexts on one database, each with a running listener and a bus subscription."""
    url = pg.create_database(postgres, template=pg_template)
    contexts = []
    for node_id in ("a", "b"):
        context = create_app(Config.for_tests(tmp_path / node_id, database_url=url, node_id=node_id)).extensions["hub"]
        context.inbox = context.bus.subscribe()
        context.called = []  # what the bus's callbacks (metrics, workers, logs) were given
        context.bus.add_callback(context.called.append)
        context.listener.start()
        contexts.append(context)
    wait_until(lambda: all(context.listener.is_listening(CHANNEL) for context in contexts))
    yield contexts
    for context in contexts:
        context.listener.stop()
        context.store.dispose()


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def drain(context, wanted: int, timeout: float = 10.0) -> list[dict]:
    """The next `wanted` envelopes on the context's bus subscription, then whatever follows within 0.3 s."""
    got, deadline = [], time.monotonic() + timeout
    while len(got) < wanted and time.monotonic() < deadline:
        envelope = context.inbox.get(timeout=0.1)
        if envelope is not None:
            got.append(envelope)
    while (envelope := context.inbox.get(timeout=0.3)) is not None:
        got.append(envelope)
    return got


def record(context, text: str) -> dict:
    return context.events.record("message-received", "shop", {"text": text})


def test_a_peers_events_reach_the_bus_once_each_in_order_and_one_larger_than_a_notify_by_id(hubs):
    a, b = hubs
    recorded = [record(a, f"pedido {number}") for number in range(3)] + [record(a, "x" * 9000)]
    assert [envelope["id"] for envelope in drain(b, 4)] == [envelope["id"] for envelope in recorded]
    assert [envelope["id"] for envelope in drain(a, 4)] == [envelope["id"] for envelope in recorded]  # not twice
    assert len(a.called) == 4 and b.called == []  # a peer's events are not this process's work (metrics, workers)


def test_after_missed_notifications_a_catch_up_publishes_from_the_table_what_was_not_published_yet(hubs):
    a, b = hubs
    record(a, "heard")
    assert len(drain(b, 1)) == 1
    b.listener.stop()  # b hears nothing from here on
    missed = [record(a, f"missed {number}") for number in range(3)]
    for catch_up in b.listener.channels[CHANNEL].on_missed:  # what the listener calls after reconnecting
        catch_up()
    assert [envelope["id"] for envelope in drain(b, 3)] == [envelope["id"] for envelope in missed]
    assert len(drain(a, 4)) == 4
    for catch_up in a.listener.channels[CHANNEL].on_missed:  # a's own events were all published on a's bus
        catch_up()
    assert drain(a, 0) == []
