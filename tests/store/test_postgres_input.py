"""NUL characters and over-long values on PostgreSQL (which refuses both): never a 500, never a lost message.

API input: over-long fields are a 400 naming the field; NULs are stripped from free text. WhatsApp-side
data (here through the sandbox phone) is stored with NULs stripped and values cut to their columns,
and its event is recorded and delivered. Real gunicorn on a throwaway cluster (tests/postgres.py).
"""
from __future__ import annotations

import base64
import json

import pytest

from tests.integration.hubproc import HubProcess
from tests.postgres import create_database
from tests.receivers import Receiver

LONG_MIMETYPE = "application/" + "x" * 288  # 300 characters; the column holds 128


@pytest.fixture(scope="module")
def hub(postgres, tmp_path_factory):  # noqa: F811
    """A gunicorn hub on a fresh PostgreSQL database, with a connected sandbox session 'shop'."""
    with HubProcess(tmp_path_factory.mktemp("hub"), HUB_DATABASE_URL=create_database(postgres)) as hub:
        assert hub.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True}).ok
        assert hub.post("/api/sandbox/shop/scan", json={}).ok
        yield hub


@pytest.fixture
def receiver(hub):
    """A listener for every event, registered on the hub (and removed after the test)."""
    with Receiver() as receiver:
        registered = hub.post("/api/whatsapp/register-listener", json={"callbackUrl": receiver.url, "events": ["all"]})
        assert registered.status_code in (200, 201)
        yield receiver
        hub.post("/api/whatsapp/unregister-listener", json={"callbackUrl": receiver.url})


def delivered(hub, receiver, event_type: str) -> list[dict]:
    return hub.wait_for(lambda: [e for e in receiver.events() if e["type"] == event_type], timeout=15)


def test_whatsapp_side_nul_and_over_long_values_are_stored_cut_and_delivered(hub, receiver):
    answer = hub.post("/api/sandbox/shop/inbound", json={
        "from": "51987654321", "text": "hola\u0000 mundo", "pushName": "Ana\u0000",
        "media": {"base64": base64.b64encode(b"%PDF-1.4").decode(), "mimetype": LONG_MIMETYPE,
                  "filename": "factura\u0000.pdf"}})
    assert answer.status_code == 200, answer.text
    [event] = delivered(hub, receiver, "message-received")
    assert event["data"]["text"] == "hola mundo" and "\u0000" not in json.dumps(event)
    assert event["data"]["media"]["mimetype"] == LONG_MIMETYPE[:128]
    [message] = [m for m in hub.get("/api/messages/shop").json()["messages"] if m["direction"] == "in"]
    assert message["text"] == "hola mundo" and message["media"]["mimetype"] == LONG_MIMETYPE[:128]
    assert hub.get("/api/events?type=message-received").json()["events"][0]["id"] == event["id"]


def test_api_text_with_nul_is_sent_without_it(hub, receiver):
    answer = hub.post("/api/whatsapp/send", json={"to": "51987654321", "message": "su pedido\u0000 está listo"})
    assert answer.status_code == 200, answer.text
    delivered(hub, receiver, "message-sent")
    assert hub.sandbox_sent("shop")[-1]["text"] == "su pedido está listo"
    history = hub.get("/api/messages/shop").json()["messages"]
    assert [m["text"] for m in history if m["outboundId"] == answer.json()["id"]] == ["su pedido está listo"]


@pytest.mark.parametrize("body,field", [
    ({"to": "51987654321", "media": {"base64": "JVBERi0=", "mimetype": LONG_MIMETYPE}}, "mimetype"),
    ({"to": "51987654321", "media": {"base64": "JVBERi0=", "mimetype": "application/pdf", "filename": "a" * 300}},
     "filename"),
    ({"to": "51987654321", "message": "x" * 70000}, "message"),
    ({"to": "5" * 300, "message": "hola"}, "to"),
])
def test_api_input_too_long_is_a_400_naming_the_field(hub, body, field):
    answer = hub.post("/api/whatsapp/send", json=body)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["message"]


@pytest.mark.parametrize("path", [
    "/api/messages/shop?chatId=%00", "/api/messages/shop?chatId=51987654321%00", "/api/events?sessionId=%00",
    "/api/deliveries?sessionId=%00&endpointId=ep%00", "/api/deliveries/dlv%00x", "/api/outbound/out%00",
    "/api/sessions/sh%00op", "/api/webhooks/shop/wh%00", "/api/messages/shop?chatId=" + "5" * 300,
])
def test_nul_or_long_query_values_are_never_a_500(hub, path):
    answer = hub.get(path)
    assert answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.json()["success"] is (answer.status_code == 200)


def test_a_receiver_answering_with_nul_bytes_does_not_stall_deliveries(hub):
    with Receiver(lambda n, request: (200, {}, b"ok\x00\x00 thanks")) as receiver:
        listener = hub.post("/api/whatsapp/register-listener", json={"callbackUrl": receiver.url}).json()
        try:
            assert hub.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": "hola"}).ok
            endpoint = listener.get("listener", listener).get("id")
            deliveries = hub.wait_for(lambda: [d for d in hub.get(f"/api/deliveries?endpointId={endpoint}").json()
                                               ["deliveries"] if d["status"] == "delivered"], timeout=15)
            attempts = hub.get(f"/api/deliveries/{deliveries[0]['id']}").json()["delivery"]["attemptLog"]
            assert attempts[0]["response"] == "ok thanks"
        finally:
            hub.post("/api/whatsapp/unregister-listener", json={"callbackUrl": receiver.url})
