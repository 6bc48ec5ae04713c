"""One backoff for every retry in the hub: session reconnects, send retries, webhook deliveries."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delays of `base`·2^(attempt-1) seconds (or `schedule[attempt-1]`), capped at `cap`, ±`jitter`.

    Jitter spreads the retries of many sessions or deliveries that failed together, so they do
    not all come back at the same instant; `jitter=0` gives exact delays.
    """

    base: float = 2.0
    cap: float = 300.0
    jitter: float = 0.2
    schedule: tuple[float, ...] = ()  # explicit delays by attempt (the delivery retry schedule)

    @classmethod
    def from_schedule(cls, schedule, jitter: float = 0.2) -> Backoff:
        """A backoff that follows a configured schedule (no cap beyond the schedule's own steps)."""
        return cls(cap=float("inf"), jitter=jitter, schedule=tuple(schedule))

    def exhausted(self, attempt: int) -> bool:
        """Whether a schedule has no delay left for retry number `attempt` (never, without one)."""
        return bool(self.schedule) and attempt > len(self.schedule)

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds before retry number `attempt` (1-based)."""
        if self.schedule:
            nominal = self.schedule[min(attempt, len(self.schedule)) - 1]
        else:
            nominal = self.base * 2 ** max(0, attempt - 1)
        return min(self.cap, nominal) * (1 - self.jitter + 2 * self.jitter * rng())
