"""Per-session pacing (HUB_SEND_INTERVAL)."""
from __future__ import annotations

from hub.outbound.pacing import Pacer


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_send_now_only_when_the_sessions_slot_is_free():
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock, sleep=clock.sleep)
    assert pacer.try_take("a") and not pacer.try_take("a")
    assert pacer.try_take("b")  # pacing is per session
    clock.now += 2.0
    assert pacer.try_take("a")


def test_the_worker_waits_for_each_slot():
    clock = FakeClock()
    pacer = Pacer(1.5, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        pacer.take("a")
    assert clock.slept == [1.5, 1.5]


def test_no_interval_never_waits():
    clock = FakeClock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)
    assert all(pacer.try_take("a") for _ in range(5))
    pacer.take("a")
    assert clock.slept == []
