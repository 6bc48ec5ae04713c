"""The GCRA step that enforces a rate limit (`50/s burst 100`, hub/rates.py).

GCRA (the generic cell rate algorithm) is a token bucket stored as one number per bucket: the
theoretical arrival time (`tat`) of the next request. A request is allowed when, after adding
one emission interval, the bucket is at most `burst` intervals ahead of now. One number means
one atomic UPDATE in the database (buckets.py), with no refill job and no row per request.
"""
from __future__ import annotations

from dataclasses import dataclass

from hub.rates import RateLimit


@dataclass(frozen=True)
class Decision:
    """A bucket's answer: allowed, or refused with how long to wait."""

    allowed: bool
    retry_after: float = 0.0


def gcra_step(tat: float | None, now: float, rate: RateLimit) -> tuple[Decision, float | None]:
    """One request against a bucket at `tat` (None: full): the decision and the bucket's new tat."""
    next_tat = max(tat or now, now) + rate.interval
    ahead = next_tat - now - rate.window
    if ahead > 1e-9:  # a float margin: exactly `burst` requests at one instant are allowed
        return Decision(False, ahead), tat
    return Decision(True), next_tat
