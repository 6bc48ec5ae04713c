"""Per-session pacing: HUB_SEND_INTERVAL and the sendRate / newContactRate slots."""
from __future__ import annotations

from hub.outbound.pacing import Pacer, SendLimits


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


def test_limits_come_from_the_settings_and_the_global_interval():
    assert SendLimits.of({"sendRate": 30, "newContactRate": 20, "dailyLimit": 500}, 0) == SendLimits(2.0, 180.0, 500)
    assert SendLimits.of({"sendRate": 120}, 3.0).interval == 3.0  # HUB_SEND_INTERVAL stays the floor
    assert not SendLimits.of({}, 0).paced and SendLimits.of({}, 1.0).paced


def test_first_messages_to_new_numbers_have_their_own_slots():
    clock = FakeClock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)
    limits = SendLimits(interval=1.0, new_contact_interval=10.0)
    assert pacer.reserve("a", limits, new_contact=True) == 0
    clock.now += 1.0
    assert pacer.reserve("a", limits, new_contact=False) == 0  # a known number: only the send rate applies
    clock.now += 1.0
    assert pacer.reserve("a", limits, new_contact=True) == 8.0  # too far for max_wait=0: nothing booked
    assert pacer.reserve("a", limits, new_contact=False) == 0
    assert pacer.wait("a") == 1.0 and pacer.wait("a", new_contact=True) == 8.0


def test_a_known_wait_moves_the_slot_and_a_far_slot_is_not_booked():
    clock = FakeClock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)
    limits = SendLimits(interval=2.0)
    assert pacer.reserve("a", limits, not_before=50.0, max_wait=30.0) == 50.0
    assert pacer.wait("a") == 0  # nothing was booked
    assert pacer.reserve("a", limits, not_before=20.0, max_wait=30.0) == 20.0
    assert pacer.wait("a") == 22.0
