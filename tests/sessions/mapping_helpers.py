"""Mapping tests: real neonize events through a real NewClient's handlers, the way Go calls them."""
from __future__ import annotations

from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E
from sqlalchemy import func, select

from hub.sessions import builders
from hub.store import Event
from tests.sessions.neonize_helpers import go_delivers, wait_until

CUSTOMER = "51987654321@s.whatsapp.net"
CUSTOMER_LID = "148562918203395@lid"
GROUP = "120363025246125486@g.us"
ME = "51911122233@s.whatsapp.net"


def recorded(hub, count: int) -> list[dict]:
    """Wait for the session to have `count` events recorded; return their envelopes, oldest first."""
    def events():
        with hub.store.session() as db:
            rows = db.scalars(select(Event).where(Event.session_id == "real").order_by(Event.seq)).all()
            return [row.envelope() for row in rows] if len(rows) >= count else None
    return wait_until(events)


def event_count(hub) -> int:
    with hub.store.session() as db:
        return db.scalar(select(func.count()).select_from(Event).where(Event.session_id == "real"))


def spec(**fields) -> builders.MessageSpec:
    """A message from CUSTOMER in its DM, pushName Ana, unless `fields` say otherwise."""
    fields.setdefault("chat", CUSTOMER)
    fields.setdefault("push_name", "Ana")
    return builders.MessageSpec(**fields)


def deliver(real, event) -> dict:
    """Hand `event` to the session's client as Go would -> the envelope it was recorded as."""
    hub, _, client = real
    before = event_count(hub)
    go_delivers(client, event)
    return recorded(hub, before + 1)[-1]


def deliver_message(real, content: E.Message, **fields) -> dict:
    """One MessageEv (from CUSTOMER unless `fields` say otherwise) -> the recorded envelope."""
    event = builders.message_event(content, spec(**fields))
    envelope = deliver(real, event)
    assert envelope["data"].get("messageId") in (event.Info.ID, None)
    return envelope


def nothing_recorded_for(real, *events) -> None:
    """Each of `events` is ignored: a text message sent after them is the only event recorded."""
    hub, _, client = real
    before = event_count(hub)
    for event in events:
        go_delivers(client, event)
    marker = builders.message_event(builders.text_content("marker"), spec())
    assert deliver(real, marker)["data"]["messageId"] == marker.Info.ID
    assert event_count(hub) == before + 1
