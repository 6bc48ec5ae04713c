"""HUB_RATE_LIMIT's format (hub/rates.py, shared with the keys' rateLimit) and the GCRA step, with exact figures."""
from __future__ import annotations

import pytest

from hub.ratelimit.rate import gcra_step
from hub.rates import RateLimit, parse_rate_setting


@pytest.mark.parametrize("text,rate", [("50/s burst 100", RateLimit(50, 1.0, 100)),
                                       ("3000/m", RateLimit(3000, 60.0, 3000)), ("20/s", RateLimit(20, 1.0, 20)),
                                       ("36/h burst 3", RateLimit(36, 3600.0, 3))])
def test_rates_are_parsed(text, rate):
    assert parse_rate_setting(text) == rate


@pytest.mark.parametrize("text", ["off", "OFF", "0", "none"])
def test_off_means_no_limit(text):
    assert parse_rate_setting(text) is None


@pytest.mark.parametrize("text", ["fast", "50", "50/fortnight", "-1/s", "0/s", "0.5/s", "10/s burst 0", "10/s burst"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError):
        parse_rate_setting(text)


def test_a_full_bucket_allows_exactly_the_burst_at_once_then_says_when_to_retry():
    rate, tat = RateLimit(10, 1.0, 3), None
    for _ in range(3):
        decision, tat = gcra_step(tat, 100.0, rate)
        assert decision.allowed
    decision, after = gcra_step(tat, 100.0, rate)
    assert not decision.allowed and after == tat  # a refusal takes no token
    assert decision.retry_after == pytest.approx(0.1)


def test_the_bucket_refills_at_the_rate():
    rate, tat = RateLimit(10, 1.0, 3), None
    for _ in range(3):
        _, tat = gcra_step(tat, 100.0, rate)
    assert gcra_step(tat, 100.05, rate)[0].retry_after == pytest.approx(0.05)
    assert gcra_step(tat, 100.1, rate)[0].allowed
    assert gcra_step(tat, 100.3, rate)[1] == pytest.approx(100.4)  # three tokens back: full, not more


def test_a_long_quiet_spell_refills_only_up_to_the_burst():
    rate, tat = RateLimit(10, 1.0, 2), 50.0
    allowed = 0
    for _ in range(5):
        decision, tat = gcra_step(tat, 1000.0, rate)
        allowed += decision.allowed
    assert allowed == 2


def test_a_key_limit_must_stay_within_the_global_one():
    ceiling = RateLimit(50, 1.0, 100)
    assert RateLimit(20, 1.0, 40).within(ceiling) and RateLimit(3000, 60.0, 100).within(ceiling)
    assert not RateLimit(60, 1.0, 40).within(ceiling) and not RateLimit(20, 1.0, 101).within(ceiling)
