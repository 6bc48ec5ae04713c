"""A small client of the hub's public HTTP API, and Standard Webhooks signature verification.

    hub = HubClient("http://127.0.0.1:3000", api_key)
    listener = hub.register_listener("http://10.0.0.5:3013/webhook", events=["message-received"])
    hub.send("+51 987 654 321", "Hola", session_id="tienda_lima")
    event = verify(listener["secret"], body, headers)   # in the receiver; raises SignatureError

Only `requests` and the standard library: copy this file into any project.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping
from urllib.parse import quote

import requests

SECRET_PREFIX = "whsec_"
TIMESTAMP_TOLERANCE = 300  # seconds a delivery's timestamp may differ from our clock


class HubApiError(Exception):
    """The hub answered with an error: `status`, `code` (snake_case) and its message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class SignatureError(Exception):
    """A delivery's signature is missing, wrong, or too old: reject it (401)."""


def new_secret() -> str:
    """A fresh signing secret in the `whsec_<base64>` form the hub accepts."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


def _secret_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the signing secret is not whsec_<base64>") from None


def _expected_signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> bytes:
    signed = webhook_id.encode() + b"." + timestamp.encode() + b"." + body
    return hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None,
           tolerance: float = TIMESTAMP_TOLERANCE) -> dict:
    """Check a delivery the way the `standardwebhooks` package does; return the parsed event."""
    lowered = {key.lower(): value for key, value in headers.items()}
    webhook_id, timestamp = lowered.get("webhook-id"), lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (webhook_id and timestamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not timestamp.isdigit() or abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        raise SignatureError("the webhook-timestamp is invalid or too far from now (replayed?)")
    expected = _expected_signature(secret, webhook_id, timestamp, body)
    for candidate in signatures.split():  # "v1,<sig> v1,<sig>" while a secret is being rotated
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), base64.b64encode(expected)):
            return json.loads(body)
    raise SignatureError("no signature matches: wrong secret or altered body")


class HubClient:
    """The hub's listener, webhook and send API (`X-API-Key` on every call)."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 15):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["X-API-Key"] = api_key

    def call(self, method: str, path: str, **kwargs) -> dict:
        """One API call; the JSON body, or HubApiError with the hub's error code."""
        response = self.http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {"error": "not_json", "message": response.text[:200]}
        if response.status_code >= 400:
            raise HubApiError(response.status_code, body.get("error", "http_error"), body.get("message", ""))
        return body

    def register_listener(self, callback_url: str, events: list[str] | None = None,
                          session_id: str | None = None, secret: str | None = None,
                          headers: dict | None = None) -> dict:
        """Register (or update) a listener; the answer holds its full `secret`."""
        body = _without_none(callbackUrl=callback_url, events=events, sessionId=session_id,
                             secret=secret, headers=headers)
        return self.call("POST", "/api/whatsapp/register-listener", json=body)["listener"]

    def unregister_listener(self, callback_url: str) -> int:
        """Remove a listener; how many were removed."""
        return self.call("POST", "/api/whatsapp/unregister-listener", json={"callbackUrl": callback_url})["removed"]

    def listeners(self) -> list[dict]:
        return self.call("GET", "/api/whatsapp/listeners")["listeners"]

    def set_webhook(self, session_id: str, url: str, events: list[str] | None = None,
                    secret: str | None = None, headers: dict | None = None) -> dict:
        """Add (or update) a session webhook; the answer holds its full `secret`."""
        body = _without_none(url=url, events=events, secret=secret, headers=headers)
        return self.call("POST", f"/api/sessions/{session_id}/webhooks", json=body)["webhook"]

    def webhooks(self, session_id: str) -> list[dict]:
        return self.call("GET", f"/api/sessions/{session_id}/webhooks")["webhooks"]

    def send(self, to: str, message: str | None = None, session_id: str | None = None,
             media: dict | None = None, idempotency_key: str | None = None, reply_to: str | None = None) -> dict:
        """Send (or queue) a message, quoting `reply_to`; a retry with the same `idempotency_key` never sends twice."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = _without_none(to=to, message=message, sessionId=session_id, media=media, replyTo=reply_to)
        return self.call("POST", "/api/whatsapp/send", json=body, headers=headers)

    def mark_read(self, session_id: str, chat_id: str, message_ids: list[str] | None = None) -> dict:
        """Read receipts for the chat's unread messages, or these ones (needs a connected session)."""
        body = _without_none(messageIds=message_ids)
        return self.call("POST", f"/api/sessions/{quote(session_id)}/chats/{quote(chat_id)}/read", json=body)

    def presence(self, session_id: str, chat_id: str, state: str) -> dict:
        """Show `typing`, `recording` or `paused` in a chat (needs a connected session)."""
        return self.call("POST", f"/api/sessions/{quote(session_id)}/chats/{quote(chat_id)}/presence",
                         json={"state": state})


def _without_none(**fields) -> dict:
    return {key: value for key, value in fields.items() if value is not None}
