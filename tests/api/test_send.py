"""POST /api/whatsapp/send on the sandbox: send now, queue, idempotency, media, bad input."""
from __future__ import annotations

import base64
import hashlib
import time

import pytest

from hub.app import create_app
from hub.config import Config
from hub.outbound import queue, settle
from hub.sessions.engine import EngineError
from hub.store import Outbound
from tests.conftest import ApiClient
from tests.outbound.helpers import PDF, PNG, FileServer, events, outbound_count, sent


def send(client, headers=None, **body):
    return client.post("/api/whatsapp/send", json=body, headers=headers or {})


def test_connected_send_answers_200_with_the_whatsapp_id_and_records_it(client, hub, sandbox_session):
    reply = send(client, sessionId="shop", to="+51 (987) 654-321", message="Su pedido está listo")
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["status"] == "sent" and body["id"].startswith("out_")
    [message] = sent(client)
    assert message == {**message, "messageId": body["messageId"], "to": "51987654321@s.whatsapp.net",
                       "text": "Su pedido está listo", "kind": "text"}
    [event] = events(client, "message-sent")
    assert event["data"] == {"outboundId": body["id"], "messageId": body["messageId"],
                             "to": "51987654321@s.whatsapp.net", "type": "text", "text": "Su pedido está listo"}
    state = client.get(f"/api/outbound/{body['id']}").get_json()["outbound"]
    assert state["status"] == "sent" and state["attempts"] == 1 and state["sentAt"]
    assert client.get(f"/api/whatsapp/send/{body['id']}").get_json()["outbound"] == state


def test_session_id_is_optional_when_the_hub_has_one_session(client, sandbox_session):
    assert send(client, to="51987654321", message="hola").status_code == 200
    client.post("/api/sessions", json={"sessionId": "second", "engine": "sandbox", "start": True})
    client.post("/api/sandbox/second/scan", json={})  # two connected sessions: which one is ambiguous
    reply = send(client, to="51987654321", message="hola")
    assert reply.status_code == 400 and reply.get_json()["error"] == "session_required"


def test_disconnected_send_is_queued_then_drained_in_order_when_connected(client, hub):
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True})
    ids = [send(client, sessionId="shop", to="51987654321", message=f"m{n}").get_json()["id"] for n in range(3)]
    assert [client.get(f"/api/outbound/{i}").get_json()["outbound"]["status"] for i in ids] == ["queued"] * 3
    assert queue.drain(hub, "shop") == 0  # still waiting for the QR scan
    client.post("/api/sandbox/shop/scan", json={})
    assert queue.drain(hub, "shop") == 3
    assert [m["text"] for m in sent(client)] == ["m0", "m1", "m2"]
    assert [e["data"]["outboundId"] for e in events(client, "message-sent")] == ids


def test_a_new_send_waits_behind_queued_ones_to_keep_the_order(client, hub, sandbox_session):
    first = send(client, sessionId="shop", to="51987654321", message="first", **{"async": True})
    assert first.status_code == 202 and first.get_json()["status"] == "queued"
    second = send(client, sessionId="shop", to="51987654321", message="second")
    assert second.status_code == 202 and sent(client) == []
    queue.drain(hub, "shop")
    assert [m["text"] for m in sent(client)] == ["first", "second"]


def test_same_idempotency_key_returns_the_first_result_and_never_sends_twice(client, hub, sandbox_session):
    key = {"Idempotency-Key": "invoice-881"}
    first = send(client, key, sessionId="shop", to="51987654321", message="Factura 881")
    again = send(client, key, sessionId="shop", to="51987654321", message="Factura 881")
    assert again.status_code == first.status_code == 200
    assert again.get_json() == first.get_json()
    assert len(sent(client)) == 1 and outbound_count(hub) == 1
    other = send(client, key, sessionId="shop", to="51987654321", message="Factura 882")
    assert other.status_code == 409 and other.get_json()["error"] == "idempotency_key_reused"
    assert len(sent(client)) == 1


def test_idempotent_retry_of_a_queued_send_is_still_one_message(client, hub, sandbox_session):
    key = {"Idempotency-Key": "k-queued"}
    first = send(client, key, to="51987654321", message="x", **{"async": True}).get_json()
    assert send(client, key, to="51987654321", message="x", **{"async": True}).get_json() == first
    queue.drain(hub, "shop")
    after = send(client, key, to="51987654321", message="x", **{"async": True})
    assert after.status_code == 200 and after.get_json()["status"] == "sent"
    assert len(sent(client)) == 1


def test_document_by_base64_and_data_url_with_file_name_and_caption(client, sandbox_session):
    pdf64 = base64.b64encode(PDF).decode()
    reply = send(client, to="51987654321", message="Su factura",
                 media={"base64": pdf64, "mimetype": "application/pdf", "filename": "F001-881.pdf"})
    assert reply.status_code == 200
    reply = send(client, to="51987654321", media={"dataUrl": "data:image/png;base64," + base64.b64encode(PNG).decode(),
                                                  "caption": "foto"})
    assert reply.status_code == 200
    document, image = sent(client)
    assert document == {**document, "kind": "document", "filename": "F001-881.pdf", "text": "Su factura",
                        "mimetype": "application/pdf", "sha256": hashlib.sha256(PDF).hexdigest()}
    assert image == {**image, "kind": "image", "mimetype": "image/png", "text": "foto", "size": len(PNG)}


def test_media_by_url_is_downloaded_and_sent(client, sandbox_session):
    server = FileServer({"/files/menu.pdf": (200, "application/pdf", PDF)})
    try:
        reply = send(client, to="51987654321", media={"url": server.url("/files/menu.pdf")})
        failed = send(client, to="51987654321", media={"url": server.url("/files/gone.pdf")})
    finally:
        server.close()
    assert reply.status_code == 200, reply.get_json()
    [message] = sent(client)
    assert message["filename"] == "menu.pdf" and message["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert failed.status_code == 400 and failed.get_json()["error"] == "media_download_failed"


BAD_REQUESTS = [
    ({"sessionId": "shop", "message": "hola"}, 400, "validation_error"),
    ({"sessionId": "shop", "to": "hola", "message": "x"}, 400, "invalid_recipient"),
    ({"sessionId": "shop", "to": "123@example.com", "message": "x"}, 400, "invalid_recipient"),
    ({"sessionId": "shop", "to": "51987654321"}, 400, "empty_message"),
    ({"sessionId": "shop", "to": "51987654321", "message": "   "}, 400, "empty_message"),
    ({"sessionId": "shop", "to": "51987654321", "media": {"base64": "not base64!"}}, 400, "invalid_base64"),
    ({"sessionId": "shop", "to": "51987654321", "media": {"url": "file:///etc/passwd"}}, 400, "invalid_media_url"),
    ({"sessionId": "shop", "to": "51987654321", "media": {"url": "http://127.0.0.1:9/x.pdf"}}, 400,
     "media_download_failed"),
    ({"sessionId": "shop", "to": "51987654321", "media": {}}, 400, "invalid_media"),
    ({"sessionId": "shop", "to": "51987654321", "media": {"url": "http://a/x", "base64": "AA=="}}, 400,
     "invalid_media"),
    ({"sessionId": "nope", "to": "51987654321", "message": "x"}, 404, "session_not_found"),
    ({"sessionId": "shop", "to": "51987654321", "message": 5}, 400, "validation_error"),
]


@pytest.mark.parametrize("body,status,code", BAD_REQUESTS)
def test_bad_input_is_a_clear_4xx_and_nothing_is_queued_or_sent(client, hub, sandbox_session, body, status, code):
    reply = send(client, **body)
    assert (reply.status_code, reply.get_json()["error"]) == (status, code)
    assert reply.get_json()["message"]
    assert outbound_count(hub) == 0 and sent(client) == []


def test_a_file_over_the_limit_is_413_and_not_queued(tmp_path):
    app = create_app(Config.for_tests(tmp_path, max_media_mb=0.001))
    client = ApiClient(app.test_client())
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"})
    reply = send(client, to="51987654321", media={"base64": base64.b64encode(b"x" * 2000).decode()})
    assert reply.status_code == 413 and reply.get_json()["error"] == "payload_too_large"
    assert outbound_count(app.extensions["hub"]) == 0
    app.extensions["hub"].store.dispose()


def test_engine_errors_retry_later_then_fail_with_message_failed(client, hub, sandbox_session, monkeypatch):
    engine = hub.sessions.engine_of("shop")

    def broken(to, message):
        raise EngineError("upload failed")

    monkeypatch.setattr(engine, "send", broken)
    reply = send(client, to="51987654321", message="x")
    assert reply.status_code == 202
    state = client.get(f"/api/outbound/{reply.get_json()['id']}").get_json()["outbound"]
    assert state["status"] == "queued" and state["attempts"] == 1 and state["error"] == "upload failed"
    assert queue.drain(hub, "shop") == 0  # not due yet: retries wait (2 s, 4 s, ...)
    for _ in range(settle.MAX_ATTEMPTS - 1):
        with hub.store.session() as db:  # make the retry due now
            db.query(Outbound).update({"next_attempt_at": Outbound.created_at})
        queue.drain(hub, "shop")
    state = client.get(f"/api/outbound/{reply.get_json()['id']}").get_json()["outbound"]
    assert state["status"] == "failed" and state["attempts"] == settle.MAX_ATTEMPTS
    [event] = events(client, "message-failed")
    assert event["data"]["outboundId"] == state["id"] and "upload failed" in event["data"]["error"]


def test_queued_messages_older_than_the_max_age_fail(tmp_path):
    app = create_app(Config.for_tests(tmp_path, outbound_max_age=0.05))
    client, context = ApiClient(app.test_client()), app.extensions["hub"]
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"})
    outbound_id = send(client, to="51987654321", message="late").get_json()["id"]
    time.sleep(0.1)
    assert queue.expire(context) == 1
    assert client.get(f"/api/outbound/{outbound_id}").get_json()["outbound"]["status"] == "failed"
    [event] = events(client, "message-failed")
    assert event["data"]["outboundId"] == outbound_id and "HUB_OUTBOUND_MAX_AGE" in event["data"]["error"]
    context.store.dispose()


def test_receipts_become_events_and_move_the_history_status(client, sandbox_session):
    message_id = send(client, to="51987654321", message="x").get_json()["messageId"]
    deadline = time.monotonic() + 5
    while not events(client, "message-read") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert events(client, "message-delivered")[0]["data"]["messageIds"] == [message_id]
    assert events(client, "message-read")[0]["data"]["messageIds"] == [message_id]
    [row] = client.get("/api/messages/shop").get_json()["messages"]
    assert row["messageId"] == message_id and row["status"] == "read"


def test_unknown_outbound_id_is_404(client):
    reply = client.get("/api/outbound/out_01ABCDEFGHJKMNPQRSTVWXYZ01")
    assert reply.status_code == 404 and reply.get_json()["error"] == "outbound_not_found"
    assert client.get("/api/outbound/../etc").status_code == 404


def test_media_url_to_a_private_address_is_refused_when_private_urls_are_blocked(tmp_path):
    server = FileServer({"/files/menu.pdf": (200, "application/pdf", PDF)})
    app = create_app(Config.for_tests(tmp_path, block_private_urls=True))
    client = ApiClient(app.test_client())
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"})
    try:
        reply = send(client, to="51987654321", media={"url": server.url("/files/menu.pdf")})
    finally:
        server.close()
    assert reply.status_code == 400 and reply.get_json()["error"] == "url_not_allowed"
    assert "HUB_BLOCK_PRIVATE_URLS" in reply.get_json()["message"]
    assert outbound_count(app.extensions["hub"]) == 0
    app.extensions["hub"].store.dispose()
