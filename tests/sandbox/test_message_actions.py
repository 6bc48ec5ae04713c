"""Unit tests of the action builders and mappings: whatsmeow's BuildMessageKey and getEditAttribute as the simulated
goneonize reproduces them, ChatPresence -> chat-presence, and what actions do to a history row."""
from __future__ import annotations

from datetime import UTC, datetime

from neonize.proto import Neonize_pb2 as N
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

from hub.sandbox.actions import message_key
from hub.sandbox.network import lid_of
from hub.sandbox.phone_actions import edit_attribute
from hub.sessions import builders
from hub.sessions.mapping import map_event
from hub.store.messages import Message

OWN = "51900000001:2@s.whatsapp.net"


def test_message_key_follows_whatsmeow_build_message_key():
    dm, group = builders.jid("51987654321@s.whatsapp.net"), builders.jid("120363000000000001@g.us")
    customer = builders.jid("51987654321@s.whatsapp.net")
    own = message_key(OWN, dm, builders.jid(None), "3EB0AA")  # empty sender: the session's own message
    assert (own.fromMe, own.ID, own.remoteJID, own.participant) == (True, "3EB0AA", "51987654321@s.whatsapp.net", "")
    assert message_key(OWN, dm, builders.jid("51900000001@s.whatsapp.net"), "X").fromMe is True
    assert message_key(OWN, dm, builders.jid(f"{lid_of('51900000001')}@lid"), "X").fromMe is True
    theirs = message_key(OWN, dm, customer, "X")
    assert theirs.fromMe is False and theirs.participant == ""  # a DM: no participant
    in_group = message_key(OWN, group, customer, "X")
    assert in_group.fromMe is False and in_group.participant == "51987654321@s.whatsapp.net"


def test_edit_attribute_follows_whatsmeow_get_edit_attribute():
    chat = "51987654321@s.whatsapp.net"
    assert edit_attribute(builders.edit_content(chat, "X", E.Message(conversation="new"))) == builders.EDIT_MESSAGE
    assert edit_attribute(builders.revoke_content(chat, "X")) == builders.EDIT_SENDER_REVOKE
    assert edit_attribute(builders.revoke_content("1@g.us", "X", participant=chat)) == builders.EDIT_ADMIN_REVOKE
    assert edit_attribute(builders.reaction_content("", "X", chat)) == builders.EDIT_SENDER_REVOKE
    assert edit_attribute(builders.reaction_content("👍", "X", chat)) == ""
    assert edit_attribute(builders.text_content("hola")) == ""


def test_chat_presence_maps_to_typing_recording_and_paused():
    source = builders.source("51987654321@s.whatsapp.net", "51987654321@s.whatsapp.net")
    states = [(N.ChatPresence.COMPOSING, N.ChatPresence.TEXT), (N.ChatPresence.COMPOSING, N.ChatPresence.AUDIO),
              (N.ChatPresence.PAUSED, N.ChatPresence.TEXT)]
    drafts = [map_event(N.ChatPresence(MessageSource=source, State=state, Media=media)) for state, media in states]
    assert [draft.type for draft in drafts] == ["chat-presence"] * 3
    assert [draft.data["state"] for draft in drafts] == ["typing", "recording", "paused"]
    assert drafts[0].data["from"] == drafts[0].data["chatId"] == "51987654321@s.whatsapp.net"


def test_history_row_keeps_the_first_text_and_one_reaction_per_person():
    row = Message(text="uno")
    at = datetime(2026, 11, 30, tzinfo=UTC)
    row.edit("dos", at)
    row.edit("tres", at)
    assert (row.text, row.original_text, row.edited_at) == ("tres", "uno", at)
    row.react("a@s.whatsapp.net", "👍")
    row.react("a@s.whatsapp.net", "❤️")
    row.react("b@s.whatsapp.net", "😂")
    row.react("b@s.whatsapp.net", "")
    assert row.reactions == {"a@s.whatsapp.net": "❤️"}
    row.revoke("a@s.whatsapp.net", at)
    assert row.actions_dict()["revoked"] and row.actions_dict()["revokedBy"] == "a@s.whatsapp.net"
