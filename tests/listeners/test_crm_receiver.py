"""`python -m listeners.crm_receiver` against a real hub on the sandbox."""
from __future__ import annotations

import json
import sqlite3
import time

import requests

from tests.listeners.helpers import delivery_of, endpoint_of, event_id_of, replay_and_wait


def stored_events(path) -> list[dict]:
    try:
        with sqlite3.connect(path) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM events ORDER BY received_at")]
    except sqlite3.OperationalError:  # not created yet
        return []


def stored_contacts(path) -> list[dict]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT phone, jid, name, lid FROM contacts ORDER BY phone")]


def test_crm_keeps_contacts_with_name_phone_and_lid(tmp_path):
    from listeners.crm_receiver import CrmStore

    store = CrmStore(str(tmp_path / "crm.db"))
    ana = {"from": "51922000333@s.whatsapp.net", "pushName": "Ana", "fromLid": "123456789012345@lid"}
    store.add({"id": "evt_1", "type": "message-received", "data": ana})
    store.add({"id": "evt_2", "type": "call-received", "data": {"from": ana["from"]}})  # no name: kept
    store.add({"id": "evt_3", "type": "message-received", "data": {"from": "999888777666555@lid"}})
    store.add({"id": "evt_4", "type": "message-from-me", "data": {"from": "51900000000@s.whatsapp.net",
                                                                  "fromMe": True, "pushName": "Me"}})
    assert store.contacts() == [{"phone": "51922000333", "jid": ana["from"], "name": "Ana",
                                 "lid": "123456789012345@lid"}]
    assert stored_contacts(tmp_path / "crm.db") == store.contacts()


def test_crm_stores_each_verified_event_once(live_hub, run_listener, tmp_path):
    database = tmp_path / "crm.db"
    crm = run_listener("listeners.crm_receiver", live_hub, SESSION_ID="shop", CRM_DB=str(database),
                       CRM_EVENTS="message-received,message-from-me")
    webhook = live_hub.wait_for(lambda: endpoint_of(live_hub, crm.url, kind="webhook"), timeout=15)
    assert webhook["events"] == ["message-received", "message-from-me"]

    reply = live_hub.post("/api/sandbox/shop/inbound", json={"from": "51922000222", "pushName": "Ana",
                                                            "text": "Quiero 3 cajas"})
    message_id = reply.json()["messageId"]
    [row] = live_hub.wait_for(lambda: stored_events(database))
    assert (row["type"], row["session_id"], row["text"]) == ("message-received", "shop", "Quiero 3 cajas")
    assert row["sender"] == "51922000222@s.whatsapp.net"
    assert json.loads(row["envelope"])["data"]["messageId"] == message_id

    # A forged delivery is refused and stored nowhere.
    forged = json.dumps({"id": "evt_forged", "type": "message-received", "data": {}}).encode()
    headers = {"webhook-id": "evt_forged", "webhook-timestamp": str(int(time.time())),
               "webhook-signature": "v1,bm90IHRoZSByaWdodCBzaWduYXR1cmUgYXQgYWxs"}
    assert requests.post(crm.url, data=forged, headers=headers, timeout=5).status_code == 401

    # A replayed delivery is acknowledged but stored once.
    delivery = delivery_of(live_hub, webhook["id"], event_id_of(live_hub, message_id))
    replay_and_wait(live_hub, delivery["id"])
    assert [row["id"] for row in stored_events(database)] == [delivery["eventId"]]

    # The sender is kept as a contact (name, phone; the LID when WhatsApp used one).
    assert stored_contacts(database) == [{"phone": "51922000222", "jid": "51922000222@s.whatsapp.net",
                                          "name": "Ana", "lid": None}]

    crm.stop()
    live_hub.delete("/api/shop/webhook", params={"url": crm.url})


def conversation(path, message_id: str) -> dict | None:
    try:
        with sqlite3.connect(path) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM messages WHERE message_id = ?", (message_id,)).fetchone()
            return dict(row) if row else None
    except sqlite3.OperationalError:
        return None


def test_crm_mirrors_edits_deletions_and_reactions(live_hub, run_listener, tmp_path):
    database = tmp_path / "crm.db"
    crm = run_listener("listeners.crm_receiver", live_hub, SESSION_ID="shop", CRM_DB=str(database))
    live_hub.wait_for(lambda: endpoint_of(live_hub, crm.url, kind="webhook"), timeout=15)
    customer = "51922000333"
    said = live_hub.post("/api/sandbox/shop/inbound", json={"from": customer, "text": "Quiero 3"}).json()["messageId"]
    answer = live_hub.post("/api/whatsapp/send", json={"sessionId": "shop", "to": customer,
                                                       "message": "Listo"}).json()["messageId"]
    live_hub.wait_for(lambda: conversation(database, said) and conversation(database, answer))

    live_hub.post("/api/sandbox/shop/edit", json={"from": customer, "messageId": said, "text": "Quiero 4"})
    live_hub.post("/api/sandbox/shop/react", json={"from": customer, "messageId": answer, "emoji": "🙏"})
    live_hub.post(f"/api/sessions/shop/messages/{said}/reaction", json={"emoji": "👍"})
    live_hub.delete(f"/api/sessions/shop/messages/{answer}")
    live_hub.wait_for(lambda: conversation(database, answer)["revoked"]
                      and json.loads(conversation(database, said)["reactions"]))
    edited, revoked = conversation(database, said), conversation(database, answer)
    assert (edited["text"], edited["original_text"], edited["from_me"]) == ("Quiero 4", "Quiero 3", 0)
    assert json.loads(edited["reactions"]) == {"me": "👍"}
    assert revoked["revoked"] == 1 and revoked["from_me"] == 1
    assert json.loads(revoked["reactions"]) == {f"{customer}@s.whatsapp.net": "🙏"}
    crm.stop()
    live_hub.delete("/api/shop/webhook", params={"url": crm.url})


def stored_messages(path) -> list[dict]:
    try:
        with sqlite3.connect(path) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM messages ORDER BY rowid")]
    except sqlite3.OperationalError:  # not created yet
        return []


def test_crm_imports_the_history_of_a_newly_linked_number_once(live_hub, run_listener, tmp_path):
    """A session with syncHistory links: WhatsApp's history sync (40 messages in 4 chats) becomes the
    CRM's conversations, each message once; a live message lands in the same table."""
    database = tmp_path / "crm.db"
    assert live_hub.post("/api/sessions", json={"sessionId": "archive"}).status_code == 201
    assert live_hub.request("PATCH", "/api/sessions/archive",
                            json={"settings": {"syncHistory": True}}).status_code == 200
    crm = run_listener("listeners.crm_receiver", live_hub, SESSION_ID="archive", CRM_DB=str(database))
    live_hub.wait_for(lambda: endpoint_of(live_hub, crm.url, kind="webhook", session_id="archive"), timeout=15)
    assert live_hub.post("/api/sessions/archive/connect").status_code == 200
    scan = live_hub.post("/api/sandbox/archive/scan", json={"phone": "51955511122",
                                                            "history": {"chats": 4, "messages": 40}})
    assert scan.status_code == 200, scan.text
    history = live_hub.wait_for(lambda: len(rows := stored_messages(database)) >= 40 and rows, timeout=30)
    assert len(history) == 40 and {row["from_me"] for row in history} == {0, 1}
    assert len({row["chat_id"] for row in history}) == 4
    events = live_hub.get("/api/events", params={"sessionId": "archive", "type": "message-history",
                                                 "limit": 100}).json()["events"]
    assert sorted(row["message_id"] for row in history) == sorted(e["data"]["messageId"] for e in events)

    live_hub.post("/api/sandbox/archive/inbound", json={"from": "51922000222", "text": "en vivo"})
    rows = live_hub.wait_for(lambda: len(rows := stored_messages(database)) == 41 and rows)
    assert (rows[-1]["from_me"], rows[-1]["text"]) == (0, "en vivo")
