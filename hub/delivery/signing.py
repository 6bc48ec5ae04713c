"""Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256(key, id.ts.body)>`.

The secret is `whsec_` + base64 of the key bytes, exactly as the `standardwebhooks` package
expects, so a receiver verifies with `Webhook(secret).verify(body, headers)`.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from functools import lru_cache

PREFIX = "whsec_"
KEY_BYTES = 24


def generate_secret() -> str:
    """A new random secret in `whsec_` form."""
    return PREFIX + base64.b64encode(os.urandom(KEY_BYTES)).decode()


_B64 = "[A-Za-z0-9+/]"
_B64_TAIL = f"(?:{_B64}{{2}}==|{_B64}{{3}}=)"  # the last 1 or 2 bytes
# secret_key's rule for the OpenAPI document: whsec_ + canonical base64 of 16 to 64 bytes.
SECRET_PATTERN = (f"^{PREFIX}(?:(?:{_B64}{{4}}){{5}}{_B64_TAIL}|(?:{_B64}{{4}}){{6,20}}{_B64_TAIL}?"
                  f"|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$")


@lru_cache(maxsize=1024)
def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret; ValueError when it is not one."""
    if not secret.startswith(PREFIX):
        raise ValueError("a signing secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after 'whsec_' is not valid base64") from None
    if not 16 <= len(key) <= 64:
        raise ValueError("the key must be 16 to 64 bytes (24 are generated)")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one message."""
    signed = b"%s.%d.%s" % (message_id.encode(), timestamp, body)
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secret: str, message_id: str, body: bytes, timestamp: int | None = None) -> dict:
    """The three Standard Webhooks headers, signed now (or at `timestamp`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message_id, timestamp, body)}
