"""A session's inbox (hub/sessions/bridge.py): events in order, and a flooded session takes only
the worker's spare time, so other work that is ready goes first."""
from __future__ import annotations

import time
from collections import Counter

import gevent

from hub.sessions.bridge import BUSY_EVENTS, Inbox


class HubOnly:
    """What an inbox needs of the bridge: the hand-over to the hub's loop and the deferral counts."""

    def __init__(self):
        self.hub = gevent.get_hub()
        self.deferred: Counter[str] = Counter()

    def to_hub(self, function, *args) -> None:
        self.hub.loop.run_callback_threadsafe(function, *args)


def spin(seconds: float) -> None:
    """Work that holds the worker (CPU), as mapping and storing an event does."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_past_the_busy_rate_a_sessions_events_wait_for_the_workers_other_work():
    bridge, order = HubOnly(), []
    flooded = Inbox(bridge, "A")

    def event(n):
        spin(0.0005)
        order.append(("A", n))
        gevent.sleep(0)  # a commit: the worker runs whatever else is ready

    def other_session():  # another number's events, each ready as soon as the previous is handled
        for n in range(20):
            spin(0.0005)
            order.append(("B", n))
            gevent.sleep(0)
    for n in range(BUSY_EVENTS + 30):
        flooded.post(event, n)
    gevent.sleep(0)  # the posts reach the loop: A's greenlet starts
    other = gevent.spawn(other_session)
    gevent.wait([other], timeout=10)
    gevent.sleep(0.5)

    a_events = [n for who, n in order if who == "A"]
    assert a_events == list(range(BUSY_EVENTS + 30))  # in order, none lost
    last_b = max(index for index, (who, _) in enumerate(order) if who == "B")
    # B's 20 events went through while A had more than BUSY_EVENTS this second: A only got idle turns.
    assert sum(1 for who, n in order[:last_b] if who == "A" and n >= BUSY_EVENTS) <= 1
    assert bridge.deferred["A"] == 30


def test_below_the_busy_rate_nothing_waits():
    bridge, order = HubOnly(), []
    quiet = Inbox(bridge, "A")

    def event(n):
        order.append(("A", n))
        gevent.sleep(0)

    def other_session():
        for n in range(10):
            order.append(("B", n))
            gevent.sleep(0)
    for n in range(10):
        quiet.post(event, n)
    gevent.sleep(0)
    gevent.wait([gevent.spawn(other_session)], timeout=10)
    gevent.sleep(0.1)
    a_positions = [index for index, (who, _) in enumerate(order) if who == "A"]
    b_positions = [index for index, (who, _) in enumerate(order) if who == "B"]
    assert len(a_positions) == 10 and bridge.deferred["A"] == 0
    assert min(a_positions) < max(b_positions) and min(b_positions) < max(a_positions)  # side by side
