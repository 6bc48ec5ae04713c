"""Idempotency-Key: a repeated send gets the first one's answer; the same key with other content is a 409."""
from __future__ import annotations

from sqlalchemy import select

from hub.context import HubContext
from hub.errors import BadRequest, Conflict
from hub.outbound.request import SendRequest
from hub.store import Outbound

MAX_KEY_LENGTH = 255


def find_by_key(context: HubContext, request: SendRequest) -> Outbound | None:
    """The send first made with this Idempotency-Key (409 when the key came with other content)."""
    if not request.idempotency_key:
        return None
    if len(request.idempotency_key) > MAX_KEY_LENGTH:
        raise BadRequest(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters.",
                         code="invalid_idempotency_key")
    with context.store.session() as db:
        row = db.scalar(select(Outbound).where(Outbound.idempotency_key == request.idempotency_key))
    if row is not None and row.request_hash != request.fingerprint():
        raise Conflict("This Idempotency-Key was already used for a different request; use a new key.",
                       code="idempotency_key_reused")
    return row
