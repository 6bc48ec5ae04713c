"""Short-lived, single-use WebSocket tickets, so the API key never travels in a URL.

Browsers cannot set headers on a WebSocket, so the dashboard used to put the key in the query
string, where proxies and access logs keep it. A ticket is `<expiry>.<nonce>.<signature>`,
signed with a key derived from the API keys (every worker can check it without shared state);
a ticket can be used once per worker process, and only until it expires (~30 s). A ticket
issued to a scoped key carries the key's id (signed with the rest): its socket sees what the key sees.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time

TICKET_SECONDS = 30
HOLDER_MARK = "~"  # between a ticket's nonce (URL-safe base64: never '~') and its holder's key id


class TicketBook:
    """Issues tickets and accepts each one once, until it expires."""

    def __init__(self, api_keys: list[str], lifetime: float = TICKET_SECONDS):
        self._key = hashlib.sha256(b"hub-ws-ticket\0" + "\0".join(sorted(api_keys)).encode()).digest()
        self._lifetime = lifetime
        self._used: dict[str, float] = {}  # nonce -> expiry
        self._lock = threading.Lock()

    def issue(self, now: float | None = None, holder: str = "") -> tuple[str, float]:
        """A new ticket and the Unix time it expires at; `holder` is a scoped key's id ("" for an administrator)."""
        expires = int((now or time.time()) + self._lifetime)
        payload = f"{expires}.{secrets.token_urlsafe(16)}{HOLDER_MARK + holder if holder else ''}"
        return f"{payload}.{self._sign(payload)}", float(expires)

    def redeem(self, ticket: str, now: float | None = None) -> bool:
        """Whether the ticket is genuine, unexpired and not used before (it is used up now)."""
        now = now or time.time()
        expires, _, rest = ticket.partition(".")
        nonce, _, signature = rest.partition(".")
        if not (expires.isdigit() and nonce and hmac.compare_digest(signature, self._sign(f"{expires}.{nonce}"))):
            return False
        with self._lock:
            self._used = {used: until for used, until in self._used.items() if until >= now}
            if int(expires) < now or nonce in self._used:
                return False
            self._used[nonce] = int(expires)
        return True

    @staticmethod
    def holder_of(ticket: str) -> str:
        """The scoped key id a (redeemed) ticket was issued to; "" for an administrator's."""
        nonce = ticket.split(".")[1] if ticket.count(".") == 2 else ""
        return nonce.partition(HOLDER_MARK)[2]

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
