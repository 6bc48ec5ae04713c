"""The Baileys API for billing, pointed at the hub unchanged (tests/compat/js/billing.cjs, axios).

Its calls are written from what issue 12 and README.md ("Moving from the older services") say of it
(the service's own docs are not in this repository): start-session, qr, status, the per-session
webhook its CRM reads (set, then moved to a new URL), send-pdf without a file name, send and
send-document. The CRM is a real HTTP receiver here; it must get the customer's messages and, as
the older service reported them, the API's own sends as `message-from-me`.
"""
from __future__ import annotations

from tests.compat.node import require_node, run_client
from tests.integration.hubproc import API_KEY, HubProcess
from tests.receivers import Receiver


def test_billing_client_works_unchanged(tmp_path):
    require_node()
    with HubProcess(tmp_path) as hub, Receiver() as crm_old, Receiver() as crm:
        report = run_client("billing.cjs", hub.url, HUB_KEY=API_KEY, CRM_OLD_URL=crm_old.url, CRM_URL=crm.url)
        # The PDF goes through the queue (202), so it may leave before or after the other two.
        assert sorted(report["sentFileNames"], key=str) == ["Comprobante.pdf", "F001-881.pdf", None]
        events = hub.wait_for(lambda: len(crm.events()) >= 4 and crm.events())
        from_me = [event["data"] for event in events if event["type"] == "message-from-me"]
        assert {data["messageId"] for data in from_me} >= {report["textMessageId"], report["documentMessageId"]}
        assert all(data["fromMe"] and data["source"] == "api" for data in from_me) and len(from_me) == 3
        assert [event["data"]["text"] for event in events if event["type"] == "message-received"] == ["recibido"]
        assert [event["data"]["text"] for event in crm_old.events()] == ["hola, ¿mi boleta?"]
