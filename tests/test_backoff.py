"""Backoff: exponential or scheduled delays, capped, with jitter from an injected rng."""
import pytest

from hub.backoff import Backoff


def test_doubles_from_base_up_to_the_cap():
    backoff = Backoff(base=2.0, cap=300.0, jitter=0.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 8, 9, 30)] == [2, 4, 8, 16, 256, 300, 300]


def test_jitter_spreads_the_capped_delay_both_ways():
    backoff = Backoff(base=2.0, cap=300.0, jitter=0.2)
    assert backoff.delay(3, rng=lambda: 0.0) == pytest.approx(6.4)
    assert backoff.delay(3, rng=lambda: 1.0) == pytest.approx(9.6)
    assert backoff.delay(30, rng=lambda: 1.0) == pytest.approx(360.0)


def test_a_schedule_gives_the_delay_of_each_attempt_until_it_is_used_up():
    backoff = Backoff.from_schedule([5, 300, 1800], jitter=0.0)
    assert [backoff.delay(n) for n in (1, 2, 3)] == [5, 300, 1800]
    assert not backoff.exhausted(3)
    assert backoff.exhausted(4)
    assert not Backoff().exhausted(1000)
