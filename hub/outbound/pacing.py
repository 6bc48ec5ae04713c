"""Per-session send pace: HUB_SEND_INTERVAL and each session's sendRate, dailyLimit and newContactRate.

A send beyond a limit is never refused: it waits in the durable queue (202) and the queue worker
sends it when the pace allows, in order. The Pacer books each session's next slots in memory (the
session is held by one process); the daily cap is counted from the queue's sent rows (limits.py),
so it survives restarts.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class SendLimits:
    """A session's pace: seconds between two sends, between two first messages to new numbers, a daily cap."""

    interval: float = 0.0
    new_contact_interval: float = 0.0
    daily_limit: int | None = None

    @classmethod
    def of(cls, settings: dict, send_interval: float) -> SendLimits:
        """From a session's settings (sendRate per minute, newContactRate per hour) and HUB_SEND_INTERVAL."""
        rate, new_contacts = settings.get("sendRate"), settings.get("newContactRate")
        return cls(max(send_interval, 60.0 / rate if rate else 0.0), 3600.0 / new_contacts if new_contacts else 0.0,
                   settings.get("dailyLimit"))

    @property
    def paced(self) -> bool:
        """Whether any limit applies (a session without one costs the send path nothing)."""
        return bool(self.interval or self.new_contact_interval or self.daily_limit)


class Pacer:
    """Books send slots per session: one per `interval`, one first message to a new number per its interval."""

    def __init__(self, interval: float, clock=time.monotonic, sleep=time.sleep):
        self.interval = interval  # HUB_SEND_INTERVAL, for sessions without settings of their own
        self._clock, self._sleep = clock, sleep
        self._next_slot: dict[str, float] = {}
        self._next_new_contact: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, session_id: str, limits: SendLimits, new_contact: bool = False,
                not_before: float = 0.0, max_wait: float = 0.0) -> float:
        """Seconds until the session's next slot, booked when that is within `max_wait` (else nothing is booked).

        `not_before`: seconds the caller already knows it must wait (the daily cap).
        """
        with self._lock:
            now = self._clock()
            slot = max(now + not_before, self._next_slot.get(session_id, 0.0))
            if new_contact and limits.new_contact_interval:
                slot = max(slot, self._next_new_contact.get(session_id, 0.0))
            if slot - now <= max_wait:
                self._book(session_id, limits, new_contact, slot)
            return slot - now

    def _book(self, session_id: str, limits: SendLimits, new_contact: bool, slot: float) -> None:
        if limits.interval:
            self._next_slot[session_id] = slot + limits.interval
        if new_contact and limits.new_contact_interval:
            self._next_new_contact[session_id] = slot + limits.new_contact_interval

    def wait(self, session_id: str, new_contact: bool = False) -> float:
        """Seconds until the session's next slot (for a first message to a new number: `new_contact`); 0 when free."""
        with self._lock:
            slot = self._next_slot.get(session_id, 0.0)
            if new_contact:
                slot = max(slot, self._next_new_contact.get(session_id, 0.0))
            return max(0.0, slot - self._clock())

    def try_take(self, session_id: str, limits: SendLimits | None = None, new_contact: bool = False) -> bool:
        """Take the session's slot if it is free now (the API's send-now path)."""
        return self.reserve(session_id, limits or SendLimits(self.interval), new_contact) <= 0

    def take(self, session_id: str, limits: SendLimits | None = None) -> None:
        """Wait for the session's next slot and take it."""
        self.sleep(self.reserve(session_id, limits or SendLimits(self.interval), max_wait=float("inf")))

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)
