"""LID ↔ phone mappings WhatsApp reveals in events are stored, and later events from the LID alone
show the phone JID (also after a restart: the mapping is in the database)."""
from __future__ import annotations

from hub.sandbox.network import MESSAGE_CODE
from hub.sessions import builders
from hub.sessions.lids import LidStore

LID = "246813579024680@lid"  # a LID the simulated servers do not know: only the event reveals it
PHONE = "51911222333@s.whatsapp.net"


def arrive(hub, text: str, sender_alt: str | None = None) -> None:
    """A message from LID reaches the session through the simulated servers (acknowledged once stored)."""
    simulator = hub.sessions.simulator()
    device = simulator.phone.linked("shop")
    event = builders.message_event(builders.text_content(text), builders.MessageSpec(
        chat=LID, sender=LID, sender_alt=sender_alt, push_name="Ana"))
    seq = simulator.network.enqueue(device["jid"], MESSAGE_CODE, event.Info.ID, event.SerializeToString())
    assert simulator.network.wait_acked(seq, 10)


def received(client) -> list[dict]:
    events = client.get("/api/events", query_string={"type": "message-received"}).get_json()["events"]
    return [event["data"] for event in events]


def test_a_mapping_from_an_event_is_used_for_later_events_and_kept(client, hub, sandbox_session):
    arrive(hub, "primero", sender_alt=PHONE)
    arrive(hub, "segundo")
    by_text = {data["text"]: data for data in received(client)}
    assert by_text["primero"]["from"] == PHONE and by_text["primero"]["fromLid"] == LID
    assert by_text["segundo"]["from"] == PHONE and by_text["segundo"]["chatId"] == PHONE
    assert by_text["segundo"]["fromLid"] == LID
    assert LidStore(hub.store).phone_of(LID) == PHONE  # in the database, not only in memory


def test_without_any_mapping_the_lid_stays(client, hub, sandbox_session):
    arrive(hub, "solo")
    data = received(client)[0]
    assert data["from"] == LID and data["fromLid"] == LID


def test_a_send_to_a_number_goes_to_its_known_lid(client, hub, sandbox_session):
    arrive(hub, "hola", sender_alt=PHONE)
    reply = client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "+51 911 222 333", "message": "Buenas"})
    assert reply.status_code == 200
    [sent] = client.get("/api/sandbox/shop/sent").get_json()["messages"]
    assert sent["to"] == LID  # the chat WhatsApp keeps under the LID
    messages = client.get("/api/messages/shop").get_json()["messages"]
    assert {message["chatId"] for message in messages} == {PHONE}  # one conversation, by phone number


def test_a_number_without_a_known_lid_is_sent_to_as_is(client, hub, sandbox_session):
    assert LidStore(hub.store).send_address("51911000000@s.whatsapp.net") == "51911000000@s.whatsapp.net"
    assert LidStore(hub.store).send_address("1203-4@g.us") == "1203-4@g.us"
