"""Revokes, edits, own-device protocol messages, status posts, receipts, LIDs, poll votes and
undecryptable messages: real neonize events through a real NewClient's handlers (as Go calls
them) end up as the events of README.md ("Events"), or as nothing when they say nothing to a CRM."""
from __future__ import annotations

import hashlib

import pytest
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E
from sqlalchemy import func, select

from hub.sessions import builders
from hub.sessions.mapping import complete_poll_vote, map_event, selected_options
from hub.store import MediaFile, Message
from tests.sessions.mapping_helpers import (
    CUSTOMER,
    CUSTOMER_LID,
    GROUP,
    ME,
    deliver,
    deliver_message,
    nothing_recorded_for,
    spec,
)

ADMIN = "51955566677@s.whatsapp.net"
OWN_CHAT = ME  # own-device protocol messages arrive from me, in my own chat
ORIGINAL = "3EB0ORIGINAL0000000001"


def image(caption: str = "") -> E.Message:
    return builders.media_content("image", mimetype="image/jpeg", length=4, sha256=hashlib.sha256(b"data").digest(),
                                  direct_path="/v/t62/status", caption=caption)


# -- revokes and edits --------------------------------------------------------------------
def test_revoke_names_the_deleted_message_never_a_new_one(real):
    revoke = builders.revoke_content(ME, ORIGINAL)  # the customer deletes their own message
    envelope = deliver(real, builders.message_event(revoke, spec(edit=builders.EDIT_SENDER_REVOKE)))
    assert envelope["type"] == "message-revoked"
    data = envelope["data"]
    assert (data["messageId"], data["chatId"]) == (ORIGINAL, CUSTOMER)
    assert (data["from"], data["revokedBy"]) == (CUSTOMER, CUSTOMER)


def test_group_admin_revoking_someone_elses_message(real):
    revoke = builders.revoke_content(GROUP, ORIGINAL, participant=f"{CUSTOMER.split('@')[0]}:2@s.whatsapp.net")
    event = builders.message_event(revoke, spec(chat=GROUP, sender=ADMIN, edit=builders.EDIT_ADMIN_REVOKE))
    data = deliver(real, event)["data"]
    assert (data["messageId"], data["chatId"], data["from"], data["revokedBy"]) == (ORIGINAL, GROUP, CUSTOMER, ADMIN)


def test_edit_carries_the_new_text_and_when(real):
    new_text = E.Message(extendedTextMessage=E.ExtendedTextMessage(text="son 3 unidades, no 2"))
    edit = builders.edit_content(ME, ORIGINAL, new_text, timestamp_ms=1795344671250)
    event = builders.message_event(edit, spec(edit=builders.EDIT_MESSAGE))
    assert event.IsEdit and event.Message.HasField("protocolMessage")  # unwrapped, as whatsmeow delivers it
    envelope = deliver(real, event)
    assert envelope["type"] == "message-edited"
    data = envelope["data"]
    assert (data["messageId"], data["chatId"], data["from"]) == (ORIGINAL, CUSTOMER, CUSTOMER)
    assert (data["text"], data["editedAt"]) == ("son 3 unidades, no 2", "2026-11-22T10:51:11.250Z")


def test_edit_of_a_caption_from_the_phone(real):
    edit = builders.edit_content(CUSTOMER, ORIGINAL, image("precio final: 40"))
    envelope = deliver(real, builders.message_event(edit, spec(sender=ME, from_me=True, edit=builders.EDIT_MESSAGE)))
    assert envelope["type"] == "message-edited"
    data = envelope["data"]
    assert (data["text"], data["from"], data["fromMe"]) == ("precio final: 40", ME, True)


def test_revokes_and_edits_are_not_history_rows(real):
    hub = real[0]
    deliver(real, builders.message_event(builders.revoke_content(ME, ORIGINAL), spec()))
    with hub.store.session() as db:
        assert db.scalar(select(func.count()).select_from(Message)) == 0


# -- own-device protocol messages ------------------------------------------------------------
@pytest.mark.parametrize("content", [
    builders.protocol_content(E.ProtocolMessage.HISTORY_SYNC_NOTIFICATION,
                              historySyncNotification=E.HistorySyncNotification(
                                  fileSHA256=b"\x01" * 32, fileLength=1024, directPath="/v/t62.hist",
                                  syncType=E.HistorySyncType.RECENT)),
    builders.protocol_content(E.ProtocolMessage.APP_STATE_SYNC_KEY_SHARE,
                              appStateSyncKeyShare=E.AppStateSyncKeyShare()),
    builders.protocol_content(E.ProtocolMessage.EPHEMERAL_SETTING, ephemeralExpiration=86400),
    builders.protocol_content(E.ProtocolMessage.PEER_DATA_OPERATION_REQUEST_RESPONSE_MESSAGE),
    E.Message(protocolMessage=E.ProtocolMessage(historySyncNotification=E.HistorySyncNotification())),  # no type
], ids=["history-sync", "app-state-keys", "ephemeral-setting", "peer-data", "untyped"])
def test_own_device_protocol_messages_are_ignored(real, content):
    own = builders.message_event(content, spec(chat=OWN_CHAT, sender=ME, from_me=True))
    nothing_recorded_for(real, own)


# -- status posts --------------------------------------------------------------------------
def test_status_post_is_status_received_not_a_group_message(real):
    event = builders.message_event(builders.text_content("¡Oferta hoy!"), spec(chat=builders.STATUS_BROADCAST,
                                                                              sender=CUSTOMER))
    assert event.Info.MessageSource.IsGroup  # whatsmeow marks broadcast chats as groups
    envelope = deliver(real, event)
    assert envelope["type"] == "status-received"
    data = envelope["data"]
    assert (data["messageId"], data["from"], data["type"], data["text"]) == (event.Info.ID, CUSTOMER, "text",
                                                                            "¡Oferta hoy!")
    assert "chatId" not in data and "isGroup" not in data


def test_status_media_is_described_never_downloaded(real):
    hub = real[0]
    event = builders.message_event(image("nuevo local"), spec(chat=builders.STATUS_BROADCAST, sender=CUSTOMER,
                                                              media_type="image"))
    data = deliver(real, event)["data"]
    assert (data["type"], data["text"]) == ("image", "nuevo local")
    assert data["media"] == {"kind": "image", "mimetype": "image/jpeg", "originalName": None, "fileSize": 4}
    with hub.store.session() as db:
        assert db.scalar(select(func.count()).select_from(MediaFile)) == 0
        assert db.scalar(select(func.count()).select_from(Message)) == 0


def test_own_status_posts_and_status_deletions_are_ignored(real):
    own = builders.message_event(builders.text_content("mi estado"), spec(chat=builders.STATUS_BROADCAST, sender=ME,
                                                                         from_me=True))
    deleted = builders.message_event(builders.revoke_content(builders.STATUS_BROADCAST, ORIGINAL),
                                     spec(chat=builders.STATUS_BROADCAST, sender=CUSTOMER))
    nothing_recorded_for(real, own, deleted)


# -- receipts ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["read", "played"])
def test_owner_reading_or_playing_on_the_phone_is_not_message_read(real, kind):
    # whatsmeow: the receipt comes from the owner's own JID, so parseMessageSource sets IsFromMe.
    own_read = builders.receipt_event([ORIGINAL], CUSTOMER, kind, sender=ME, from_me=True)
    nothing_recorded_for(real, own_read)


@pytest.mark.parametrize("kind", ["read-self", "played-self", "retry", "sender", "inactive", "peer_msg", "hist_sync"])
def test_receipts_that_say_nothing_about_what_we_sent_are_ignored(real, kind):
    nothing_recorded_for(real, builders.receipt_event([ORIGINAL], CUSTOMER, kind))


def test_receipt_goneonize_cannot_encode_cannot_be_built():
    with pytest.raises(ValueError, match="server-error"):
        builders.receipt_event([ORIGINAL], CUSTOMER, "server-error")


# -- LIDs ----------------------------------------------------------------------------------
def test_lid_addressed_dm_reports_the_phone_number_from_sender_alt(real):
    data = deliver_message(real, builders.text_content("hola"), chat=CUSTOMER_LID, sender_alt=CUSTOMER)["data"]
    assert (data["chatId"], data["from"]) == (CUSTOMER, CUSTOMER)
    assert (data["chatLid"], data["fromLid"]) == (CUSTOMER_LID, CUSTOMER_LID)


def test_lid_addressed_dm_from_my_phone_reports_the_phone_number_from_recipient_alt(real):
    envelope = deliver_message(real, builders.text_content("te respondo"), chat=CUSTOMER_LID, sender=ME,
                               from_me=True, recipient_alt=CUSTOMER)
    data = envelope["data"]
    assert envelope["type"] == "message-from-me"
    assert (data["chatId"], data["chatLid"], data["from"]) == (CUSTOMER, CUSTOMER_LID, ME)
    assert "fromLid" not in data


def test_lid_and_phone_addressed_messages_share_one_history_chat(real):
    hub = real[0]
    deliver_message(real, builders.text_content("por número"))
    deliver_message(real, builders.text_content("por LID"), chat=CUSTOMER_LID, sender_alt=CUSTOMER)
    with hub.store.session() as db:
        assert set(db.scalars(select(Message.chat_id))) == {CUSTOMER}


def test_lid_participant_in_a_group(real):
    data = deliver_message(real, builders.text_content("hola grupo"), chat=GROUP, sender=CUSTOMER_LID,
                           sender_alt=CUSTOMER)["data"]
    assert (data["chatId"], data["from"], data["fromLid"]) == (GROUP, CUSTOMER, CUSTOMER_LID)
    assert "chatLid" not in data


def test_lid_receipt(real):
    envelope = deliver(real, builders.receipt_event([ORIGINAL], CUSTOMER_LID, "read", sender_alt=CUSTOMER))
    assert envelope["type"] == "message-read"
    assert (envelope["data"]["chatId"], envelope["data"]["chatLid"]) == (CUSTOMER, CUSTOMER_LID)


def test_lid_without_alt_and_without_resolver_stays_the_lid(real):
    data = deliver_message(real, builders.text_content("hola"), chat=CUSTOMER_LID)["data"]
    assert (data["chatId"], data["from"], data["chatLid"], data["fromLid"]) == (CUSTOMER_LID,) * 4


def test_lid_without_alt_is_resolved_by_the_engines_lookup(parsed):
    asked = []

    def lookup(lid):
        asked.append(lid)
        return {CUSTOMER_LID: CUSTOMER}.get(lid)
    event = parsed(builders.message_event(builders.text_content("hola"), spec(chat=CUSTOMER_LID)))
    data = map_event(event, resolve_lid=lookup).data
    assert (data["chatId"], data["from"], data["chatLid"], data["fromLid"]) == (CUSTOMER, CUSTOMER, CUSTOMER_LID,
                                                                              CUSTOMER_LID)
    assert asked == [CUSTOMER_LID]  # one lookup for a DM's chat and sender
    mentions = builders.context_info(quoted_id="3EB0Q", quoted_sender=CUSTOMER_LID, mentions=[CUSTOMER_LID])
    content = builders.text_content("@Ana", context=mentions)
    quoting = parsed(builders.message_event(content, spec(chat=GROUP, sender=ME)))
    data = map_event(quoting, resolve_lid=lookup).data
    assert (data["quoted"]["from"], data["mentions"]) == (CUSTOMER, [CUSTOMER])


@pytest.mark.parametrize("lookup", [lambda lid: None, lambda lid: 1 / 0], ids=["unknown", "lookup-fails"])
def test_lid_the_lookup_cannot_resolve_stays_the_lid(parsed, lookup):
    event = parsed(builders.receipt_event([ORIGINAL], CUSTOMER_LID, "delivered"))
    data = map_event(event, resolve_lid=lookup).data
    assert (data["chatId"], data["from"]) == (CUSTOMER_LID, CUSTOMER_LID)


# -- poll votes ----------------------------------------------------------------------------
def poll_vote_event(poll_id: str = ORIGINAL) -> object:
    key = builders.message_key(GROUP, poll_id, from_me=True, participant=ME)
    content = builders.poll_vote_content(key, payload=b"\x07" * 48)
    return builders.message_event(content, spec(chat=GROUP, sender=CUSTOMER))


def test_poll_vote_is_recorded_as_a_poll_vote(real):
    envelope = deliver(real, poll_vote_event())
    assert envelope["type"] == "poll-vote"
    data = envelope["data"]
    assert (data["pollMessageId"], data["chatId"], data["from"]) == (ORIGINAL, GROUP, CUSTOMER)


def test_poll_vote_draft_asks_the_engine_to_decrypt_the_whole_event(parsed):
    event = parsed(poll_vote_event())
    draft = map_event(event)
    assert (draft.type, draft.decrypt, draft.event) == ("poll-vote", "poll-vote", event)
    # What goneonize's DecryptPollVote hands back: the SHA-256 of each chosen option's name.
    hashes = builders.poll_option_hashes(["Lúcuma", "Fresa"])
    done = complete_poll_vote(draft, hashes, ["Fresa", "Lúcuma", "Chocolate"])
    assert done.data["selectedOptions"] == ["Lúcuma", "Fresa"] and done.decrypt is None
    assert draft.data["selectedOptions"] is None  # the draft itself is left as it was
    failed = complete_poll_vote(draft, None, [], error="no secret for the poll")
    assert (failed.data["selectedOptions"], failed.data["error"]) == (None, "no secret for the poll")


def test_poll_option_hash_nobody_knows_is_its_hex():
    unknown = hashlib.sha256(b"Vainilla").digest()
    assert selected_options([unknown] + builders.poll_option_hashes(["Fresa"]), ["Fresa"]) == [unknown.hex(), "Fresa"]
    assert selected_options([], ["Fresa"]) == []


# -- undecryptable messages ------------------------------------------------------------------
def test_undecryptable_message_tells_the_crm_a_message_came(real):
    event = builders.undecryptable_event(spec(), is_unavailable=True, hide=False)
    envelope = deliver(real, event)
    assert envelope["type"] == "message-received"
    data = envelope["data"]
    assert (data["type"], data["messageId"], data["chatId"], data["from"], data["pushName"]) == (
        "undecryptable", event.Info.ID, CUSTOMER, CUSTOMER, "Ana")
    assert data["undecryptable"] == {"isUnavailable": True, "decryptFailMode": "show"}
    assert data["timestamp"].endswith("Z")


def test_undecryptable_lid_message_in_hide_mode(real):
    data = deliver(real, builders.undecryptable_event(spec(chat=CUSTOMER_LID, sender_alt=CUSTOMER), hide=True))["data"]
    assert (data["chatId"], data["fromLid"]) == (CUSTOMER, CUSTOMER_LID)
    assert data["undecryptable"] == {"isUnavailable": False, "decryptFailMode": "hide"}
