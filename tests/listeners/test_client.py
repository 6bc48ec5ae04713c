"""listeners.client.verify agrees with the reference `standardwebhooks` package, and the
delivery server turns verification results into the HTTP statuses the hub acts on."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks import Webhook

from listeners.client import SignatureError, new_secret, verify
from listeners.receiver import DeliveryServer

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_HEADERS = {"Webhook-Id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "Webhook-Timestamp": "1614265330",
                  "Webhook-Signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}


def signed(secret: str, body: bytes, webhook_id: str = "evt_1", at: float | None = None) -> dict:
    """Headers signed by the reference implementation."""
    at = time.time() if at is None else at
    signature = Webhook(secret).sign(webhook_id, datetime.fromtimestamp(at, UTC), body.decode())
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(at)), "webhook-signature": signature}


def test_verify_accepts_the_reference_test_vector():
    assert verify(VECTOR_SECRET, VECTOR_BODY, VECTOR_HEADERS, now=1614265330) == {"test": 2432232314}


def test_verify_accepts_what_standardwebhooks_signs_and_rejects_tampering():
    secret, body = new_secret(), b'{"id": "evt_1", "type": "message-received"}'
    headers = signed(secret, body)
    assert verify(secret, body, headers)["type"] == "message-received"
    assert Webhook(secret).verify(body, headers)  # our secrets are valid for the reference too
    with pytest.raises(SignatureError):
        verify(secret, body.replace(b"received", b"read"), headers)
    with pytest.raises(SignatureError):
        verify(new_secret(), body, headers)
    with pytest.raises(SignatureError):
        verify(secret, body, {**headers, "webhook-id": "evt_2"})


def test_verify_rejects_stale_timestamps_and_missing_headers():
    secret, body = new_secret(), b"{}"
    with pytest.raises(SignatureError, match="timestamp"):
        verify(secret, body, signed(secret, body, at=time.time() - 600))
    with pytest.raises(SignatureError, match="missing"):
        verify(secret, body, {"webhook-id": "evt_1"})


def test_verify_accepts_any_of_several_signatures():
    secret, body = new_secret(), b'{"ok": true}'
    headers = signed(secret, body)
    headers["webhook-signature"] = "v1,bm90LWl0 " + headers["webhook-signature"]
    assert verify(secret, body, headers) == {"ok": True}


@pytest.fixture
def server():
    received = []
    secret = new_secret()

    def on_event(event, webhook_id):
        if event.get("boom"):
            raise RuntimeError("handler failed")
        received.append((webhook_id, event))

    server = DeliveryServer("127.0.0.1", 0, "/webhook", secret, on_event)
    server.serve_in_background()
    server.received = received
    yield server
    server.shutdown()
    server.server_close()


def post(server, body: bytes, headers: dict, path: str = "/webhook") -> int:
    url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    return requests.post(url, data=body, headers=headers, timeout=5).status_code


def test_delivery_server_statuses(server):
    body = json.dumps({"id": "evt_9", "type": "qr"}).encode()
    assert post(server, body, signed(server.secret, body, "evt_9")) == 200
    assert server.received == [("evt_9", {"id": "evt_9", "type": "qr"})]
    assert post(server, body, signed(new_secret(), body)) == 401
    assert post(server, b"not json", signed(server.secret, b"not json")) == 400
    assert post(server, body, signed(server.secret, body), path="/other") == 404
    failing = b'{"boom": true}'
    assert post(server, failing, signed(server.secret, failing)) == 500  # the hub retries it
    assert len(server.received) == 1
