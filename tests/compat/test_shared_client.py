"""The shared WhatsApp client against the hub (tests/compat/js/shared.cjs, axios + a node HTTP callback).

Written from issue 12 and README.md ("Moving from the older services") (the client's docs are not
in this repository): it registers its callback as {url} without events and must then get customers'
messages only (not its own sends, receipts, statuses or QR codes, which a bot that does not check
`type` would answer); it sends with {to, message} and no sessionId while a second, unlinked session
exists; it compares /api/whatsapp/status's state with "CONNECTED".
"""
from __future__ import annotations

from tests.compat.node import require_node, run_client
from tests.integration.hubproc import API_KEY, HubProcess


def test_shared_client_works_unchanged_with_two_sessions(tmp_path):
    require_node()
    with HubProcess(tmp_path) as hub:
        assert hub.post("/api/sessions", json={"sessionId": "principal", "start": True}).status_code == 201
        assert hub.post("/api/sandbox/principal/scan", json={}).status_code == 200
        assert hub.post("/api/sessions", json={"sessionId": "respaldo", "start": True}).status_code == 201
        report = run_client("shared.cjs", hub.url, HUB_KEY=API_KEY)
        assert report["received"] == [["message-received", report["writtenMessageId"]]]
        [sent] = hub.sandbox_sent("principal")
        assert sent["messageId"] == report["sentMessageId"] and hub.sandbox_sent("respaldo") == []
