"""The example listeners' HTTP server: it checks the declared Content-Length before reading any body."""
from __future__ import annotations

import json
import socket

import pytest

from hub.delivery.signing import signature_headers
from listeners.client import new_secret
from listeners.receiver import DeliveryServer


@pytest.fixture
def server():
    received = []
    secret = new_secret()
    server = DeliveryServer("127.0.0.1", 0, "/webhook", secret, lambda event, _id: received.append(event),
                            max_body=1024)
    server.serve_in_background()
    server.received, server.secret = received, secret
    yield server
    server.shutdown()
    server.server_close()


def raw_post(server, headers: str, body: bytes = b"") -> int:
    """The status of one POST sent byte for byte (the server must answer without waiting for a body)."""
    with socket.create_connection(server.server_address, timeout=5) as connection:
        connection.sendall(f"POST /webhook HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode() + body)
        return int(connection.recv(1024).split()[1])


@pytest.mark.parametrize("headers,status", [
    ("Content-Length: 1000000000000\r\n", 413),  # never sent: reading it would hang until the timeout
    ("Content-Length: 1025\r\n", 413),
    ("", 411),
    ("Content-Length: -1\r\n", 400),
    ("Content-Length: 12abc\r\n", 400),
])
def test_a_missing_invalid_or_too_large_length_is_refused_before_reading(server, headers, status):
    assert raw_post(server, headers) == status
    assert server.received == []


def test_a_signed_delivery_within_the_limit_is_accepted(server):
    body = json.dumps({"id": "evt_1", "type": "test", "data": {}}).encode()
    headers = "".join(f"{name}: {value}\r\n" for name, value in signature_headers(server.secret, "evt_1", body).items())
    assert raw_post(server, headers + f"Content-Length: {len(body)}\r\n", body) == 200
    assert server.received[0]["id"] == "evt_1"
