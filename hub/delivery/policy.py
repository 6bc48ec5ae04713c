"""The retry policy: a pure function from one attempt's outcome to what happens next."""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from hub.backoff import Backoff
from hub.store.delivery import DeliveryStatus

MAX_RETRY_AFTER = 86400.0  # a receiver cannot park a delivery for more than a day
JITTER = 0.2


@dataclass(frozen=True)
class Decision:
    """`status`: delivered, retrying (after `delay` seconds) or dead; `disable`: disable the endpoint."""

    status: str
    delay: float | None = None
    disable: bool = False


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)


def decide(attempt: int, status_code: int | None, schedule: Sequence[float], now: datetime,
           retry_after: str | None = None, rng: Callable[[], float] = random.random) -> Decision:
    """What follows attempt number `attempt` (1-based) that got `status_code` (None: no answer).

    2xx delivered; 410 kills the delivery and disables its endpoint; anything else (3xx
    included: redirects are not followed) is retried after schedule[attempt-1] ±20 %, or after
    Retry-After for 429/5xx; when the schedule is used up the delivery is dead.
    """
    if status_code is not None and 200 <= status_code < 300:
        return Decision(DeliveryStatus.DELIVERED)
    if status_code == 410:
        return Decision(DeliveryStatus.DEAD, disable=True)
    backoff = Backoff.from_schedule(schedule, JITTER)
    if backoff.exhausted(attempt):
        return Decision(DeliveryStatus.DEAD)
    delay = backoff.delay(attempt, rng)
    if status_code is not None and (status_code == 429 or status_code >= 500):
        delay = parse_retry_after(retry_after, now) or delay
    return Decision(DeliveryStatus.RETRYING, delay)
