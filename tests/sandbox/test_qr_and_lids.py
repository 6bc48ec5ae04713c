"""QR lifetimes as WhatsApp's, and LIDs resolved to phone numbers through the session's store."""
from __future__ import annotations

import time
from datetime import datetime

import pytest

from hub.app import create_app
from hub.config import Config
from hub.sessions import builders
from tests.conftest import ApiClient


@pytest.fixture
def quick_qr_client(tmp_path):
    app = create_app(Config.for_tests(tmp_path, sandbox_qr_seconds=1.5))
    yield ApiClient(app.test_client())
    app.extensions["hub"].sessions.stop_all()


def parse(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_the_first_qr_lives_the_configured_time_and_each_later_one_a_third(quick_qr_client):
    client = quick_qr_client
    client.post("/api/sessions", json={"sessionId": "lobby", "engine": "sandbox", "start": True})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events = client.get("/api/events", query_string={"type": "qr"}).get_json()["events"]
        if len(events) >= 2:
            break
        time.sleep(0.05)
    first, second = sorted(events, key=lambda e: e["seq"])[:2]
    assert parse(first["data"]["expiresAt"]) - parse(first["timestamp"]) == pytest.approx(1.5, abs=0.2)
    assert parse(second["data"]["expiresAt"]) - parse(second["timestamp"]) == pytest.approx(0.5, abs=0.2)
    assert first["data"]["qr"] != second["data"]["qr"]


def test_a_lid_without_its_phone_number_is_resolved_through_the_store(client, hub, sandbox_session):
    other = hub.sessions.simulator().phone
    client.post("/api/sessions", json={"sessionId": "friend", "engine": "sandbox", "start": True})
    client.post("/api/sandbox/friend/scan", json={"phone": "51911222333"})
    lid = other.linked("friend")["lid"]
    event = builders.message_event(builders.text_content("hola"), builders.MessageSpec(chat=lid, sender=lid))
    hub.sessions.on_event("shop", event)  # WhatsApp addressed the chat by LID and gave no phone number
    received = client.get("/api/events", query_string={"type": "message-received"}).get_json()["events"][0]["data"]
    assert received["from"] == "51911222333@s.whatsapp.net" and received["fromLid"] == lid


def test_a_poll_vote_is_decrypted_through_the_library_and_names_its_options(client, hub, sandbox_session):
    from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

    from tests.sessions.neonize_helpers import go_delivers

    customer = "51999111222@s.whatsapp.net"
    poll = builders.message_event(builders.poll_creation_content("¿Cuándo?", ["lunes", "martes", "miércoles"]),
                                  builders.MessageSpec(chat=customer, sender=customer))
    client_ = hub.sessions.engine_of("shop").prepare().client
    go_delivers(client_, poll)
    vote = E.PollVoteMessage(selectedOptions=builders.poll_option_hashes(["martes", "miércoles"]))
    key = builders.message_key(customer, poll.Info.ID, from_me=False)
    go_delivers(client_, builders.message_event(builders.poll_vote_content(key, payload=vote.SerializeToString()),
                                                builders.MessageSpec(chat=customer, sender=customer)))
    votes = client.get("/api/events", query_string={"type": "poll-vote"}).get_json()["events"]
    assert votes[0]["data"]["pollMessageId"] == poll.Info.ID
    assert votes[0]["data"]["selectedOptions"] == ["martes", "miércoles"]
