"""/ws/session/<id> errors carry the message as a string in `data` (the older linking frontends
show `data` as it is), under real gunicorn."""
from __future__ import annotations

import json

import websocket

from tests.integration.hubproc import API_KEY, HubProcess


def test_websocket_error_data_is_the_message_string(tmp_path):
    with HubProcess(tmp_path, HUB_SANDBOX="false") as hub:
        url = f"ws://127.0.0.1:{hub.port}/ws/session/tienda?engine=sandbox&apiKey={API_KEY}"
        ws = websocket.create_connection(url, timeout=10)
        try:
            [message] = [json.loads(ws.recv())]
        finally:
            ws.close()
        assert message["event"] == "error" and isinstance(message["data"], str)
        assert "sandbox" in message["data"].lower()
