"""The retry policy: schedule with jitter, Retry-After, 410, 3xx, exhaustion."""
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from hub.delivery.policy import Decision, decide, parse_retry_after

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SCHEDULE = [5, 300, 1800]


def test_2xx_is_delivered():
    assert decide(1, 204, SCHEDULE, NOW) == Decision("delivered")


@pytest.mark.parametrize("code", [None, 301, 302, 400, 404, 500])
def test_other_answers_retry_on_the_schedule(code):
    decision = decide(2, code, SCHEDULE, NOW, rng=lambda: 0.5)
    assert decision == Decision("failed", 300.0)


def test_jitter_stays_within_twenty_percent():
    assert decide(1, 500, SCHEDULE, NOW, rng=lambda: 0.0).delay == pytest.approx(4.0)
    assert decide(1, 500, SCHEDULE, NOW, rng=lambda: 1.0).delay == pytest.approx(6.0)


def test_schedule_exhausted_is_dead():
    assert decide(3, 500, SCHEDULE, NOW).status == "failed"
    assert decide(4, 500, SCHEDULE, NOW) == Decision("dead")


def test_410_kills_and_disables():
    assert decide(1, 410, SCHEDULE, NOW) == Decision("dead", disable=True)


@pytest.mark.parametrize("code", [429, 503, 502])
def test_retry_after_seconds_is_honoured_for_429_and_5xx(code):
    assert decide(1, code, SCHEDULE, NOW, retry_after="120").delay == 120


def test_retry_after_ignored_for_other_codes():
    assert decide(1, 400, SCHEDULE, NOW, retry_after="120", rng=lambda: 0.5).delay == 5


def test_retry_after_http_date_and_garbage():
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, NOW) == pytest.approx(90)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("999999999", NOW) == 86400
    assert decide(1, 429, SCHEDULE, NOW, retry_after="soon", rng=lambda: 0.5).delay == 5
