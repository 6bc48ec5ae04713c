"""Sandbox routes: scan, inbound (text, media, groups, from me), remote logout, sends and receipts."""
from __future__ import annotations

import base64
import time

from hub.sessions.engine import OutgoingMessage


def events(client, kind=None):
    query = f"?type={kind}" if kind else ""
    return client.get(f"/api/events{query}").get_json()["events"]


def test_scan_connects_and_records_status_events(client, sandbox_session):
    statuses = [e["data"]["status"] for e in reversed(events(client, "session-status"))]
    assert statuses[0] == "starting" and "qr" in statuses and statuses[-1] == "connected"
    assert client.get("/api/sessions/shop").get_json()["session"]["jid"].endswith("@s.whatsapp.net")
    assert events(client, "qr")[0]["data"]["qr"].startswith("2@")


def test_scan_when_not_showing_qr_409(client, sandbox_session):
    assert client.post("/api/sandbox/shop/scan", json={}).status_code == 409


def test_inbound_text_is_stored_as_event(client, sandbox_session):
    reply = client.post("/api/sandbox/shop/inbound", json={"from": "51 999-111-222", "text": "hola", "pushName": "Ana"})
    assert reply.status_code == 200
    event = events(client, "message-received")[0]
    assert event["sandbox"] is True and event["sessionId"] == "shop"
    assert event["id"].startswith("evt_") and isinstance(event["seq"], int)
    data = event["data"]
    assert data["messageId"] == reply.get_json()["messageId"]
    fields = ("from", "chatId", "pushName", "text", "type", "fromMe", "isGroup")
    assert tuple(data[name] for name in fields) == \
        ("51999111222@s.whatsapp.net", "51999111222@s.whatsapp.net", "Ana", "hola", "text", False, False)


def test_inbound_group_and_from_me(client, sandbox_session):
    client.post("/api/sandbox/shop/inbound",
                json={"from": "51999111222", "text": "hi all", "chatId": "120363000000000001@g.us"})
    group = events(client, "message-received")[0]["data"]
    assert group["isGroup"] is True and group["chatId"] == "120363000000000001@g.us"
    assert group["from"] == "51999111222@s.whatsapp.net"
    client.post("/api/sandbox/shop/inbound", json={"from": "51999111222", "text": "sent from my phone", "fromMe": True})
    mine = events(client, "message-from-me")[0]["data"]
    assert mine["fromMe"] is True and mine["chatId"] == "51999111222@s.whatsapp.net"


def test_inbound_media_carries_media_description(client, sandbox_session):
    pdf = b"%PDF-1.4 tiny"
    reply = client.post("/api/sandbox/shop/inbound", json={
        "from": "51999111222", "text": "la factura",
        "media": {"base64": base64.b64encode(pdf).decode(), "mimetype": "application/pdf", "filename": "f.pdf"}})
    assert reply.status_code == 200
    data = events(client, "message-received")[0]["data"]
    assert data["type"] == "document" and data["text"] == "la factura"
    assert data["media"]["mimetype"] == "application/pdf"


def test_inbound_bad_input_changes_nothing(client, sandbox_session):
    before = len(events(client))
    cases = [({"text": "no sender"}, 400), ({"from": "abc", "text": "x"}, 400), ({"from": "51999111222"}, 400),
             ({"from": "51999111222", "media": {"base64": "***", "mimetype": "image/png"}}, 400),
             ({"from": "51999111222", "text": 5}, 400), ({"from": "51999111222", "text": "x", "fromMe": "yes"}, 400)]
    for body, status in cases:
        assert client.post("/api/sandbox/shop/inbound", json=body).status_code == status, body
    assert len(events(client)) == before


def test_inbound_on_disconnected_or_non_sandbox_session(client):
    client.post("/api/sessions", json={"sessionId": "idle", "engine": "sandbox"})
    assert client.post("/api/sandbox/idle/inbound", json={"from": "51999111222", "text": "x"}).status_code == 409
    client.post("/api/sessions", json={"sessionId": "real", "engine": "neonize"})
    response = client.post("/api/sandbox/real/scan", json={})
    assert response.status_code == 409 and response.get_json()["error"] == "not_sandbox"


def test_remote_logout_deletes_credentials(client, sandbox_session, hub):
    session = client.post("/api/sandbox/shop/logout").get_json()["session"]
    assert session["status"] == "logged_out" and "logged_out" in session["lastError"]
    assert not hub.sessions.has_credentials("shop")
    assert events(client, "session-status")[0]["data"]["reason"].startswith("logged_out")


def test_send_is_recorded_and_receipts_follow(client, hub, sandbox_session):
    result = hub.sessions.engine_of("shop").send("51999111222@s.whatsapp.net", OutgoingMessage(text="hola"))
    sent = client.get("/api/sandbox/shop/sent").get_json()["messages"]
    assert sent[-1]["messageId"] == result.message_id and sent[-1]["text"] == "hola"
    deadline = time.time() + 5
    while time.time() < deadline and not events(client, "message-read"):
        time.sleep(0.05)
    delivered, read = events(client, "message-delivered")[0]["data"], events(client, "message-read")[0]["data"]
    assert delivered["messageIds"] == [result.message_id] == read["messageIds"]
    assert read["chatId"] == "51999111222@s.whatsapp.net"


def test_receipts_for_a_burst_come_batched_per_chat_like_whatsapp(client, hub, sandbox_session):
    engine, chats = hub.sessions.engine_of("shop"), ["51999111222@s.whatsapp.net", "51999333444@s.whatsapp.net"]
    sent = {chat: [engine.send(chat, OutgoingMessage(text=f"pedido {n}")).message_id for n in range(6)]
            for chat in chats}
    deadline = time.time() + 5
    while time.time() < deadline and sum(len(e["data"]["messageIds"]) for e in events(client, "message-read")) < 12:
        time.sleep(0.05)
    for kind in ("message-delivered", "message-read"):
        for chat in chats:
            receipts = [e["data"]["messageIds"] for e in events(client, kind) if e["data"]["chatId"] == chat]
            assert sorted(sum(receipts, [])) == sorted(sent[chat])  # every id once, only this chat's
            assert len(receipts) <= 2  # a burst within one tick (or two, at a tick's edge), not 6 events


def test_scan_and_logout_need_no_body(app, client):
    """curl -XPOST without -d (the README quick start) sends no body at all."""
    client.post("/api/sessions", json={"sessionId": "bare", "engine": "sandbox", "start": True})
    raw = app.test_client()
    response = raw.post("/api/sandbox/bare/scan", headers={"X-API-Key": "test-key"})
    assert response.status_code == 200, response.get_json()
    assert raw.post("/api/sandbox/bare/logout", headers={"X-API-Key": "test-key"}).status_code == 200


def test_missing_body_names_the_required_field(app):
    response = app.test_client().post("/api/sessions", headers={"X-API-Key": "test-key"})
    assert response.status_code == 400 and "sessionId" in response.get_json()["message"]


def test_scan_of_a_stopped_session_409_at_once(client):
    """Nothing will show a QR: the answer comes now, not after the scan's wait for a starting session."""
    assert client.post("/api/sessions", json={"sessionId": "desk", "engine": "sandbox"}).status_code == 201
    started = time.monotonic()
    reply = client.post("/api/sandbox/desk/scan", json={})
    assert reply.status_code == 409 and reply.get_json()["error"] == "not_waiting_for_scan"
    assert time.monotonic() - started < 2


def test_ban_seconds_may_be_a_whole_json_number(client, sandbox_session):
    """JSON Schema's integer includes 600.0 (the document says integer); 600.5 is still refused."""
    assert client.post("/api/sandbox/shop/ban", json={"seconds": 600.5}).status_code == 400
    reply = client.post("/api/sandbox/shop/ban", json={"seconds": 600.0})
    assert reply.status_code == 200 and reply.get_json()["session"]["status"] == "disconnected"
