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
    assert client.get("/api/status/nope").status_code == 404


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
