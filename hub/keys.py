"""Scoped API keys: create (shown once), list, delete, and the caller a presented key stands for.

Only administrators manage keys. A scoped key's listeners are filed under its id, so deleting the
key removes them too: a revoked integration stops receiving its sessions' events at once.
"""
from __future__ import annotations

import hmac
import threading
import time

from sqlalchemy import select

from hub.caller import Caller, current_caller
from hub.context import HubContext
from hub.delivery.endpoints import remove_key_listeners
from hub.errors import BadRequest, NotFound
from hub.rates import RateLimit, parse_rate_limit
from hub.store import ApiKey, Session
from hub.store.keys import KEY_PREFIX, key_hash

KEY_CACHE_SECONDS = 2.0  # how long another process may still accept a key deleted elsewhere
KEY_CACHE_SIZE = 10_000


class KeyCache:
    """The callers of recently seen scoped keys, by hash, for a few seconds.

    A lookup costs about as much as the rest of a small request; keys are read far more often than
    they change. The process that deletes a key forgets it at once, the others within
    KEY_CACHE_SECONDS. Unknown keys are never cached (a flood of guesses cannot fill it).
    """

    def __init__(self, seconds: float = KEY_CACHE_SECONDS):
        self._seconds = seconds
        self._by_hash: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Caller | None:
        """The cached caller of this key hash, None when absent or stale."""
        entry = self._by_hash.get(digest)
        return entry[0] if entry is not None and entry[1] > time.monotonic() else None

    def put(self, digest: str, caller: Caller) -> None:
        with self._lock:
            if len(self._by_hash) >= KEY_CACHE_SIZE:
                self._by_hash.clear()
            self._by_hash[digest] = (caller, time.monotonic() + self._seconds)

    def forget(self, key_id: str) -> None:
        """Drop a deleted key (this process refuses it from now on)."""
        with self._lock:
            self._by_hash = {digest: entry for digest, entry in self._by_hash.items() if entry[0].key_id != key_id}


def create_key(context: HubContext, name: str, sessions: list[str], rate_limit: str | None) -> dict:
    """A new key limited to `sessions` (which must exist); the answer is the only place the key is shown."""
    current_caller().require_admin("create API keys")
    rate_limit = normalise_rate_limit(rate_limit, context.config.rate_limit)
    with context.store.session() as db:
        known = set(db.scalars(select(Session.id).where(Session.id.in_(sessions))))
        unknown = [session_id for session_id in sessions if session_id not in known]
        if unknown:
            raise BadRequest(f"No session named {', '.join(map(repr, unknown))}: a key can only be limited to "
                             f"sessions that exist.", code="unknown_session", sessions=unknown)
        row, key = ApiKey.issue(name, sessions, rate_limit)
        db.add(row)
        db.flush()
        return {**row.to_dict(), "key": key}


def normalise_rate_limit(text: str | None, ceiling: RateLimit | None) -> str | None:
    """The key's rate limit in its canonical spelling ('50/s burst 100'); 400 if malformed or above HUB_RATE_LIMIT."""
    if text is None:
        return None
    try:
        limit = parse_rate_limit(text)
    except ValueError as exc:
        raise BadRequest(f"rateLimit: {exc}.", code="invalid_rate_limit") from None
    if ceiling is not None and not limit.within(ceiling):
        raise BadRequest(f"rateLimit: {limit} is above the hub's maximum, HUB_RATE_LIMIT={ceiling}; a key's own "
                         f"limit may only be stricter.", code="rate_limit_above_maximum", maximum=str(ceiling))
    return str(limit)


def list_keys(context: HubContext) -> list[dict]:
    """Every scoped key, oldest first, without secrets."""
    current_caller().require_admin("list API keys")
    with context.store.session() as db:
        return [row.to_dict() for row in db.scalars(select(ApiKey).order_by(ApiKey.created_at))]


def delete_key(context: HubContext, key_id: str) -> dict:
    """Revoke a key at once (every process looks keys up per request) and remove its listeners."""
    current_caller().require_admin("delete API keys")
    with context.store.session() as db:
        row = db.get(ApiKey, key_id)
        if row is None:
            raise NotFound(f"API key '{key_id}' does not exist.", code="key_not_found")
        db.delete(row)
        remove_key_listeners(db, key_id)
        view = row.to_dict()
    context.keys.forget(key_id)
    return view


def caller_for_key(context: HubContext, key: str) -> Caller | None:
    """The scoped caller of a presented key, or None when no scoped key matches.

    Looked up by hash: an attacker's guess changes the whole SHA-256, so the lookup's timing tells
    nothing about a stored key; the final comparison is constant-time all the same.
    """
    if not key.startswith(KEY_PREFIX):
        return None
    digest = key_hash(key)
    caller = context.keys.get(digest)
    if caller is not None:
        return caller
    with context.store.session() as db:
        row = db.scalar(select(ApiKey).where(ApiKey.hash == digest))
        if row is None or not hmac.compare_digest(row.hash, digest):
            return None
        caller = row.caller()
    context.keys.put(digest, caller)
    return caller


def caller_for_id(context: HubContext, key_id: str) -> Caller | None:
    """The scoped caller of the key with this id (a WebSocket ticket's holder), None once it was deleted."""
    with context.store.session() as db:
        row = db.get(ApiKey, key_id)
        return None if row is None else row.caller()
