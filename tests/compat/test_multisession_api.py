"""The multi-session production API's web clients against the hub.

Written from issue 12 and README.md ("Moving from the older services") (the service's docs are not
in this repository): the hub runs with the service's key in API_KEY (no HUB_API_KEY); its web
clients use socket.io-client (tests/compat/js/multisession.cjs) over WebSocket and long-polling:
refused with the error shape without a valid key, `subscribe` to a session that does not exist yet
is an `error` event and the connection stays, then every event arrives under its type name. Its
linking page opens /ws/session/<id> and shows an error's `data` as text (checked with
websocket-client: node 20 has no WebSocket client of its own).
"""
from __future__ import annotations

import json

import websocket

from tests.compat.node import require_node, run_client
from tests.integration.hubproc import HubProcess

KEY = "multi-session-key-91b2"


def test_socket_io_web_clients_follow_sessions(tmp_path):
    require_node()
    with HubProcess(tmp_path, HUB_API_KEY="", API_KEY=KEY) as hub:
        report = run_client("multisession.cjs", hub.url, API_KEY=KEY)
        for transport in ("websocket", "polling"):
            seen = report[transport]
            assert seen["statuses"][-1] == "connected" and "starting" in seen["statuses"], seen
            assert seen["received"] == [["tienda", report["writtenMessageId"]]]
            assert seen["sent"] == [report["sentMessageId"]]


def test_linking_page_gets_error_messages_as_text(tmp_path):
    with HubProcess(tmp_path, HUB_API_KEY="", API_KEY=KEY, HUB_SANDBOX="false") as hub:
        ws = websocket.create_connection(f"ws://127.0.0.1:{hub.port}/ws/session/tienda?engine=sandbox&apiKey={KEY}",
                                         timeout=10)
        try:
            message = json.loads(ws.recv())
        finally:
            ws.close()
        assert message["event"] == "error" and isinstance(message["data"], str) and message["data"]
