"""Contacts and calls on the real hub (gunicorn + gevent worker) with sandbox sessions:
a 50-number check with 3 absent, a cached look-up, the not_on_whatsapp refusal, a rejected call."""
from __future__ import annotations

import pytest

from tests.integration.hubproc import HubProcess

ABSENT = {"51955000007", "51955000023", "51955000041"}


@pytest.fixture
def hub(tmp_path):
    with HubProcess(tmp_path, HUB_CONTACT_CACHE_TTL="2s") as hub:
        assert hub.post("/api/sessions", json={"sessionId": "caja", "engine": "sandbox", "start": True}).ok
        assert hub.post("/api/sandbox/caja/scan", json={}).status_code == 200
        yield hub


def test_check_of_50_numbers_of_which_3_do_not_exist_then_sends_refused(hub):
    for phone in ABSENT:
        assert hub.request("PUT", f"/api/sandbox/contacts/{phone}", json={"exists": False}).ok
    phones = [f"+51 955 {n:06d}" for n in range(50)]
    response = hub.post("/api/sessions/caja/contacts/check", json={"phones": phones})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [row["input"] for row in results] == phones
    absent = {row["jid"].split("@")[0] for row in results if not row["exists"]}
    assert absent == ABSENT
    assert all(row["lid"].endswith("@lid") for row in results if row["exists"])

    refused = hub.post("/api/whatsapp/send", json={"sessionId": "caja", "to": "51955000007", "message": "Factura"})
    assert refused.status_code == 400 and refused.json()["error"] == "not_on_whatsapp"
    sent = hub.post("/api/whatsapp/send", json={"sessionId": "caja", "to": "51955000008", "message": "Factura"})
    assert sent.status_code == 200
    forced = hub.post("/api/whatsapp/send", json={"sessionId": "caja", "to": "+51 955 000 007", "message": "Factura",
                                                  "force": True})
    assert forced.status_code == 200
    # The check revealed 51955000008's LID: the message goes to the chat WhatsApp keeps under it.
    lid = next(row["lid"] for row in results if row["jid"] == "51955000008@s.whatsapp.net")
    assert [m["to"] for m in hub.get("/api/sandbox/caja/sent").json()["messages"]] == [
        lid, "51955000007@s.whatsapp.net"]
    chats = {message["chatId"] for message in hub.get("/api/messages/caja").json()["messages"]}
    assert chats == {"51955000008@s.whatsapp.net", "51955000007@s.whatsapp.net"}  # by phone, not LID


def test_lookup_is_cached_for_the_ttl(hub):
    assert hub.request("PUT", "/api/sandbox/contacts/51955100001",
                       json={"pushName": "Ana", "about": "Ventas", "isBusiness": True}).ok
    first = hub.get("/api/sessions/caja/contacts/51955100001")
    assert first.status_code == 200, first.text
    assert first.json()["contact"]["pushName"] == "Ana" and first.json()["contact"]["isBusiness"] is True
    served = hub.get("/api/sandbox/contacts/51955100001").json()["served"]
    assert served["GetUserInfo"] == 1
    for _ in range(5):
        assert hub.get("/api/sessions/caja/contacts/51955100001").json() == first.json()
    assert hub.get("/api/sandbox/contacts/51955100001").json()["served"] == served  # WhatsApp not asked
    hub.wait_for(lambda: hub.get("/api/sessions/caja/contacts/51955100001").ok
                 and hub.get("/api/sandbox/contacts/51955100001").json()["served"]["GetUserInfo"] == 2, timeout=6)


def test_a_call_is_rejected_and_the_caller_gets_the_message(hub):
    settings = {"rejectCalls": True, "rejectCallMessage": "No atendemos llamadas: escríbenos."}
    assert hub.request("PATCH", "/api/sessions/caja", json={"settings": settings}).status_code == 200
    call = hub.post("/api/sandbox/caja/call", json={"from": "+51 955 200 001", "video": True}).json()["call"]

    def rejected():
        calls = hub.get("/api/sandbox/caja/calls").json()["calls"]
        return calls and calls[0]["state"] == "rejected"
    hub.wait_for(rejected, timeout=10)  # the caller's phone saw the rejection
    hub.wait_for(lambda: hub.get("/api/sandbox/caja/sent").json()["messages"], timeout=10)
    message = hub.get("/api/sandbox/caja/sent").json()["messages"][0]
    events = hub.get("/api/events", params={"type": "call-received"}).json()["events"]
    assert [event["data"]["callId"] for event in events] == [call["callId"]]
    data = events[0]["data"]
    # The call revealed the caller's LID: the message reaches the chat WhatsApp keeps under it.
    assert message["to"] == data["fromLid"] and message["text"] == settings["rejectCallMessage"]
    sent = hub.get("/api/events", params={"type": "message-sent"}).json()["events"]
    assert sent[0]["data"]["to"] == "51955200001@s.whatsapp.net"
    assert data["from"] == "51955200001@s.whatsapp.net" and data["isVideo"] is True and data["rejected"] is True
    assert data["isGroup"] is False and data["fromLid"].endswith("@lid")


def test_without_reject_calls_the_call_is_only_reported(hub):
    hub.post("/api/sandbox/caja/call", json={"from": "51955200002"})
    hub.wait_for(lambda: hub.get("/api/events", params={"type": "call-received"}).json()["events"], timeout=10)
    data = hub.get("/api/events", params={"type": "call-received"}).json()["events"][0]["data"]
    assert data["rejected"] is False and data["isVideo"] is False
    assert hub.get("/api/sandbox/caja/calls").json()["calls"][0]["state"] == "offered"
    assert hub.get("/api/sandbox/caja/sent").json()["messages"] == []
