"""The builders produce what goneonize 0.5.2 hands Python (the simulated WhatsApp relies on it)."""
from __future__ import annotations

from neonize.proto import Neonize_pb2 as N
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

from hub.sessions import builders

CUSTOMER = "51987654321@s.whatsapp.net"


def test_message_info_as_encode_message_info_writes_it():
    spec = builders.MessageSpec(chat=CUSTOMER, timestamp=1795344671.5)
    event = builders.message_event(builders.text_content("hola"), spec)
    info = event.Info
    assert info.Timestamp == 1795344671500  # time.UnixMilli
    assert (builders.jid(CUSTOMER).User, info.MessageSource.Sender.User) == ("51987654321", "51987654321")
    assert info.MessageSource.SenderAlt.IsEmpty and not info.MessageSource.IsGroup
    assert N.Message.FromString(event.SerializeToString()) == event  # raises EncodeError without a required field


def test_broadcast_and_group_chats_are_groups_as_parse_message_source_says():
    for chat, is_group in [(builders.STATUS_BROADCAST, True), ("120363025246125486@g.us", True),
                           ("1764094322@broadcast", True), (CUSTOMER, False), ("148562918203395@lid", False)]:
        assert builders.MessageSpec(chat=chat, sender=CUSTOMER).source().IsGroup is is_group, chat


def test_edits_arrive_unwrapped_with_is_edit_and_raw_equal_to_message():
    edit = builders.edit_content(CUSTOMER, "3EB0ORIGINAL", builders.text_content("nuevo"))
    assert edit.HasField("editedMessage")  # BuildEdit's wire form
    event = builders.message_event(edit, builders.MessageSpec(chat=CUSTOMER, edit=builders.EDIT_MESSAGE))
    assert event.IsEdit and event.Info.Edit == "1"
    assert event.Message.protocolMessage.editedMessage.conversation == "nuevo"
    assert event.Raw == event.Message  # goneonize fills both with the unwrapped message


def test_unwrap_raw_sets_the_flags_and_keeps_the_message_secret():
    poll = builders.poll_creation_content("¿Sí?", ["sí", "no"])
    inner = E.Message(pollCreationMessage=poll.pollCreationMessage)
    wrapped = E.Message(viewOnceMessageV2=E.FutureProofMessage(message=inner),
                        messageContextInfo=poll.messageContextInfo)
    message, flags = builders.unwrap_raw(wrapped)
    assert flags == {"IsViewOnceV2": True} and message.pollCreationMessage.name == "¿Sí?"
    assert message.messageContextInfo.messageSecret == poll.messageContextInfo.messageSecret
    assert not wrapped.viewOnceMessageV2.message.HasField("messageContextInfo")  # the input is left alone
    event = builders.message_event(wrapped, builders.MessageSpec(chat=CUSTOMER))
    assert (event.IsViewOnce, event.IsViewOnceV2, event.IsEphemeral) == (True, True, False)


def test_receipt_types_as_encode_receipts_maps_them():
    assert builders.receipt_event(["a"], CUSTOMER, "played-self").Type == N.Receipt.SERVER_ERROR  # goneonize's mix-up
    assert builders.receipt_event(["a"], CUSTOMER, "read", from_me=True).MessageSource.IsFromMe
    assert builders.receipt_event(["a"], CUSTOMER).Type == N.Receipt.DELIVERED


def test_poll_vote_key_and_hashes_as_whatsmeow_builds_them():
    key = builders.message_key("120363025246125486@g.us", "3EB0POLL", from_me=False, participant=CUSTOMER)
    vote = builders.poll_vote_content(key, payload=b"cipher").pollUpdateMessage
    assert vote.pollCreationMessageKey.participant == CUSTOMER
    assert (vote.vote.encPayload, len(vote.vote.encIV)) == (b"cipher", 12)
    # The FIPS 180-2 test vector: a vote carries SHA-256("abc") for an option named "abc".
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert builders.poll_option_hashes(["abc"])[0].hex() == digest
