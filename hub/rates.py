"""Rate-limit specs as operators write them: `50/s burst 100` (README: "Keys and scopes")."""
from __future__ import annotations

import re
from dataclasses import dataclass

PERIODS = {"s": 1.0, "m": 60.0, "h": 3600.0}
RATE_PATTERN = r"^\s*([1-9][0-9]{0,8})\s*/\s*(s|m|h)(?:\s+burst\s+([1-9][0-9]{0,8}))?\s*$"
_RATE = re.compile(RATE_PATTERN)


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: `count` requests per `period` seconds, bursts of up to `burst`."""

    count: int
    period: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.count / self.period

    @property
    def interval(self) -> float:
        """Seconds between two requests at the average rate (GCRA's emission interval, hub/ratelimit/)."""
        return self.period / self.count

    @property
    def window(self) -> float:
        """How far ahead of now a bucket may run: `burst` intervals."""
        return self.burst * self.interval

    def within(self, ceiling: RateLimit) -> bool:
        """Whether this limit is no looser than `ceiling` (a key's own limit against HUB_RATE_LIMIT)."""
        return self.per_second <= ceiling.per_second and self.burst <= ceiling.burst

    def __str__(self) -> str:
        unit = next(name for name, seconds in PERIODS.items() if seconds == self.period)
        return f"{self.count}/{unit} burst {self.burst}"


def parse_rate_limit(text: str) -> RateLimit:
    """'50/s burst 100' -> RateLimit(50, 1.0, 100); the burst defaults to the count. ValueError if malformed."""
    match = _RATE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a rate limit: write '<count>/<s|m|h>' or '<count>/<s|m|h> burst <n>', "
                         f"e.g. '50/s burst 100'")
    count, unit, burst = match.groups()
    return RateLimit(int(count), PERIODS[unit], int(burst or count))


OFF = ("off", "none", "0")


def parse_rate_setting(text: str) -> RateLimit | None:
    """HUB_RATE_LIMIT: a rate limit, or `off` (None: no limit). ValueError if malformed."""
    return None if text.strip().lower() in OFF else parse_rate_limit(text)
