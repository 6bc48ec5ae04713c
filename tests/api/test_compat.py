"""The seeds' route shapes, each with the request body the original clients send."""
from __future__ import annotations

import base64
import hashlib

from hub.outbound import queue
from tests.outbound.helpers import PDF, PNG, FileServer, outbound_count, sent

PDF64 = base64.b64encode(PDF).decode()


def test_send_text(client, sandbox_session):
    reply = client.post("/api/send/shop", json={"to": "51987654321", "message": "Hola desde el sistema"})
    assert reply.status_code == 200
    assert reply.get_json() == {"success": True, "id": reply.get_json()["id"], "status": "sent",
                                "messageId": sent(client)[0]["messageId"]}
    assert sent(client)[0]["text"] == "Hola desde el sistema"


def test_send_document_with_a_data_url(client, sandbox_session):
    body = {"to": "51987654321", "documentData": "data:application/pdf;base64," + PDF64,
            "filename": "Cotizacion-12.pdf", "message": "Su cotización"}
    assert client.post("/api/send-document/shop", json=body).status_code == 200
    [document] = sent(client)
    assert document == {**document, "kind": "document", "filename": "Cotizacion-12.pdf", "text": "Su cotización",
                        "mimetype": "application/pdf", "sha256": hashlib.sha256(PDF).hexdigest()}


def test_send_document_with_plain_base64_and_bad_base64(client, hub, sandbox_session):
    body = {"to": "51987654321", "documentData": PDF64, "filename": "lista.pdf"}
    assert client.post("/api/send-document/shop", json=body).status_code == 200
    assert sent(client)[0]["mimetype"] == "application/pdf"
    bad = client.post("/api/send-document/shop", json={**body, "documentData": "%%%"})
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_base64"
    assert outbound_count(hub) == 1


def test_send_pdf_is_accepted_with_202_and_sent_by_the_queue(client, hub, sandbox_session):
    body = {"sessionId": "shop", "to": "51987654321", "pdfBase64": PDF64, "fileName": "Boleta-B001-77.pdf"}
    reply = client.post("/api/send-pdf", json=body)
    assert reply.status_code == 202
    answer = reply.get_json()
    assert answer["success"] is True and "Boleta-B001-77.pdf" in answer["message"] and answer["status"] == "queued"
    queue.drain(hub, "shop")
    [document] = sent(client)
    assert document["filename"] == "Boleta-B001-77.pdf" and document["kind"] == "document"
    unnamed = client.post("/api/send-pdf", json={"sessionId": "shop", "to": "51987654321", "pdfBase64": PDF64})
    assert unnamed.status_code == 202 and "Comprobante.pdf" in unnamed.get_json()["message"]
    queue.drain(hub, "shop")
    assert [document["filename"] for document in sent(client)] == ["Boleta-B001-77.pdf", "Comprobante.pdf"]
    missing = client.post("/api/send-pdf", json={"sessionId": "shop", "to": "51987654321"})
    assert missing.status_code == 400 and "pdfBase64" in missing.get_json()["message"]


def test_send_message_with_number_and_text(client, sandbox_session):
    assert client.post("/api/send-message", json={"sessionId": "shop", "number": "51987654321",
                                                  "text": "Recordatorio de reserva"}).status_code == 200
    assert client.post("/api/send-message", json={"sessionId": "shop", "to": "51987654321@c.us",
                                                  "message": "Otra"}).status_code == 200
    assert [(m["to"], m["text"]) for m in sent(client)] == [("51987654321@s.whatsapp.net", "Recordatorio de reserva"),
                                                            ("51987654321@s.whatsapp.net", "Otra")]


def test_send_media_by_url_and_by_object(client, sandbox_session):
    server = FileServer({"/promo.png": (200, "image/png", PNG)})
    try:
        by_url = client.post("/api/send-media", json={"sessionId": "shop", "to": "51987654321",
                                                      "mediaUrl": server.url("/promo.png"), "caption": "Promo"})
    finally:
        server.close()
    by_object = client.post("/api/send-media", json={"sessionId": "shop", "to": "51987654321", "media": {
        "base64": PDF64, "mimetype": "application/pdf", "filename": "menu.pdf"}})
    assert by_url.status_code == by_object.status_code == 200
    image, document = sent(client)
    assert (image["kind"], image["text"], image["size"]) == ("image", "Promo", len(PNG))
    assert (document["kind"], document["filename"]) == ("document", "menu.pdf")


def test_start_session_then_qr_then_status(client):
    started = client.post("/api/start-session", json={"sessionId": "ventas", "engine": "sandbox"})
    assert started.status_code == 200
    assert started.get_json() == {**started.get_json(), "sessionId": "ventas", "status": "qr", "state": "UNPAIRED",
                                  "connected": False}
    qr = client.get("/api/qr/ventas").get_json()
    assert qr["qr"].startswith("2@") and qr["qrImage"].startswith("data:image/png;base64,")
    client.post("/api/sandbox/ventas/scan", json={})
    after = client.get("/api/qr/ventas").get_json()
    assert after["qr"] is None and after["state"] == "CONNECTED"
    status = client.get("/api/status/ventas").get_json()
    assert status == {**status, "sessionId": "ventas", "clientId": "ventas", "connected": True, "state": "CONNECTED",
                      "session_exists_on_disk": True, "auto_reconnecting": False}


def test_status_reconnects_a_linked_session_that_is_down(client, hub, sandbox_session):
    client.post("/api/sessions/shop/stop")
    status = client.get("/api/status/shop").get_json()
    assert status["session_exists_on_disk"] is True and status["auto_reconnecting"] is True
    assert client.get("/api/sessions/shop").get_json()["session"]["status"] == "connected"


def test_status_of_an_unknown_session_is_200_not_connected(client, hub):
    reply = client.get("/api/status/nueva")
    assert reply.status_code == 200
    assert reply.get_json() == {**reply.get_json(), "success": True, "sessionId": "nueva", "connected": False,
                                "exists": False, "session_exists_on_disk": False, "auto_reconnecting": False}
    assert not hub.sessions.exists("nueva")  # asking does not create it


def test_connect_creates_and_starts(client, hub):
    object.__setattr__(hub.config, "engine", "sandbox")
    reply = client.get("/api/connect/caja")
    assert reply.status_code == 200 and reply.get_json()["status"] == "qr"


def test_delete(client, sandbox_session):
    reply = client.delete("/api/delete/shop")
    assert reply.status_code == 200 and reply.get_json()["sessionId"] == "shop"
    assert client.get("/api/sessions/shop").status_code == 404
    assert client.delete("/api/delete/shop").status_code == 404


def test_sessions_list_has_what_compat_clients_read(client, sandbox_session):
    body = client.get("/api/sessions").get_json()
    [session] = body["sessions"]
    assert session == {**session, "sessionId": "shop", "status": "connected", "connected": True}


def test_messages_history(client, sandbox_session):
    client.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": "hola"})
    messages = client.get("/api/messages/shop").get_json()["messages"]
    assert [(m["direction"], m["text"], m["from"]) for m in messages] == [("in", "hola", "51987654321@s.whatsapp.net")]


def test_whatsapp_send_with_just_to_and_message(client, sandbox_session):
    reply = client.post("/api/whatsapp/send", json={"to": "51987654321", "message": "Listo"})
    assert reply.status_code == 200 and reply.get_json()["messageId"] == sent(client)[0]["messageId"]


def test_whatsapp_status_state_is_in_capitals(client, sandbox_session):
    status = client.get("/api/whatsapp/status").get_json()
    assert (status["state"], status["status"], status["connected"]) == ("CONNECTED", "connected", True)
    client.post("/api/sessions/shop/stop")
    assert client.get("/api/whatsapp/status").get_json()["state"] == "DISCONNECTED"


def test_register_listener_takes_url_or_callback_and_defaults_to_messages(client):
    for name, url in (("callbackUrl", "http://127.0.0.1:3013/a"), ("url", "http://127.0.0.1:3013/b"),
                      ("callback", "http://127.0.0.1:3013/c")):
        reply = client.post("/api/whatsapp/register-listener", json={name: url})
        assert reply.status_code == 201, reply.get_json()
        assert reply.get_json()["listener"]["events"] == ["message-received"]
    everything = client.post("/api/whatsapp/register-listener", json={"url": "http://127.0.0.1:3013/d",
                                                                      "events": ["all"]})
    assert everything.get_json()["listener"]["events"] == ["all"]
    again = client.post("/api/whatsapp/register-listener", json={"url": "http://127.0.0.1:3013/d"})
    assert again.status_code == 200 and again.get_json()["listener"]["events"] == ["all"]  # the default is for new ones
    assert client.post("/api/whatsapp/unregister-listener", json={"url": "http://127.0.0.1:3013/b"}).get_json() == {
        "success": True, "removed": 1}
    assert client.post("/api/whatsapp/unregister-listener", json={"callback": "http://127.0.0.1:3013/c"}).get_json()[
        "removed"] == 1
    left = client.get("/api/whatsapp/listeners").get_json()["listeners"]
    assert [listener["url"] for listener in left] == ["http://127.0.0.1:3013/a", "http://127.0.0.1:3013/d"]


def test_compat_webhook_post_replaces_the_previous_one(client, sandbox_session):
    first = client.post("/api/shop/webhook", json={"url": "http://127.0.0.1:4001/crm"})
    assert first.status_code == 201
    second = client.post("/api/shop/webhook", json={"url": "http://127.0.0.1:4002/crm", "events": ["message-received"]})
    assert second.status_code == 201
    native = client.post("/api/sessions/shop/webhooks", json={"url": "http://127.0.0.1:4003/other"})
    assert native.status_code == 201
    listed = client.get("/api/shop/webhook").get_json()["webhooks"]
    assert [(w["url"], w["kind"], w["events"]) for w in listed] == [
        ("http://127.0.0.1:4002/crm", "compat-webhook", ["message-received"]),
        ("http://127.0.0.1:4003/other", "webhook", ["all"])]
    client.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": "hola"})
    deliveries = client.get("/api/deliveries", query_string={"eventType": "message-received"}).get_json()["deliveries"]
    assert sorted(d["url"] for d in deliveries) == ["http://127.0.0.1:4002/crm", "http://127.0.0.1:4003/other"]


def sessions_named(client, *names):
    for name in names:
        created = client.post("/api/sessions", json={"sessionId": name, "engine": "sandbox", "start": True})
        assert created.status_code == 201


def test_send_without_session_picks_the_only_connected_one(client, sandbox_session):
    sessions_named(client, "caja")  # waiting for its QR: not connected
    reply = client.post("/api/whatsapp/send", json={"to": "51987654321", "message": "Listo"})
    assert reply.status_code == 200 and reply.get_json()["messageId"] == sent(client, "shop")[0]["messageId"]
    client.post("/api/sandbox/caja/scan", json={})
    ambiguous = client.post("/api/whatsapp/send", json={"to": "51987654321", "message": "Listo"})
    assert ambiguous.status_code == 400 and ambiguous.get_json()["error"] == "session_required"
    assert "HUB_DEFAULT_SESSION" in ambiguous.get_json()["message"]


def test_default_session_setting_wins_and_a_missing_one_is_named(tmp_path):
    from hub.app import create_app
    from hub.config import Config
    from tests.conftest import ApiClient

    app = create_app(Config.for_tests(tmp_path, default_session="caja"))
    client = ApiClient(app.test_client())
    try:
        sessions_named(client, "shop")
        client.post("/api/sandbox/shop/scan", json={})
        missing = client.post("/api/whatsapp/send", json={"to": "51987654321", "message": "Listo"})
        assert missing.status_code == 400 and missing.get_json()["error"] == "default_session_missing"
        assert "HUB_DEFAULT_SESSION" in missing.get_json()["message"]
        sessions_named(client, "caja")
        client.post("/api/sandbox/caja/scan", json={})
        reply = client.post("/api/whatsapp/send", json={"to": "51987654321", "message": "Listo"})
        assert reply.status_code == 200 and [m["text"] for m in sent(client, "caja")] == ["Listo"]
        assert sent(client, "shop") == []
    finally:
        app.extensions["hub"].sessions.stop_all()
        app.extensions["hub"].store.dispose()
