"""How a compat webhook (the one POST /api/<sessionId>/webhook sets) receives the API's own sends.

The older services reported every message their number sent, the API's included, as
`message-from-me` (their CRMs log the whole conversation from it). The hub records an API send
as `message-sent`; a compat webhook gets it as `message-from-me` with the message fields a
from-me event has (chatId, fromMe, text), plus `source: "api"` and the send's `outboundId`.
A compat webhook whose filter names `message-sent` itself gets the event unchanged.
"""
from __future__ import annotations

import json

from hub.store.delivery import EndpointKind

_SENT = b'"type":"message-sent"'  # envelopes are encoded compactly (Event.encode)


def delivered_body(kind: str, events, body: bytes) -> bytes:
    """The body this endpoint gets: the envelope itself, or an API send renamed for a compat webhook."""
    if kind != EndpointKind.COMPAT_WEBHOOK or _SENT not in body or "message-sent" in events:
        return body
    envelope = json.loads(body)
    if envelope["type"] != "message-sent":
        return body
    return json.dumps(as_from_me(envelope), separators=(",", ":"), ensure_ascii=False).encode()


def as_from_me(envelope: dict) -> dict:
    """A message-sent envelope as the older services reported it: a message-from-me."""
    data = envelope["data"]
    renamed = {"messageId": data.get("messageId"), "chatId": data["to"], "to": data["to"], "fromMe": True,
               "isGroup": data["to"].endswith("@g.us"), "type": data.get("type"), "text": data.get("text"),
               "timestamp": envelope["timestamp"], "source": "api", "outboundId": data["outboundId"]}
    return {**envelope, "type": "message-from-me", "data": renamed}
