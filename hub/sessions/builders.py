"""Build real neonize protobuf events without a network (the simulated WhatsApp and the tests use them).

Every builder produces what goneonize 0.5.2 hands Python for the whatsmeow event it names: the
event classes are proto2 messages with required fields, and `SerializeToString()` (which raises
EncodeError when one is missing) proves each built event is complete, exactly as `proto.Marshal`
on the Go side would have produced it. Each docstring names the whatsmeow / goneonize function
or protobuf that defines the shape.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass

from neonize.proto import Neonize_pb2 as N
from neonize.proto.waCommon import WACommon_pb2 as C
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

MEDIA_FIELDS = {"image": "imageMessage", "video": "videoMessage", "audio": "audioMessage",
                "document": "documentMessage", "sticker": "stickerMessage"}
STATUS_BROADCAST = "status@broadcast"
# whatsmeow's parseMessageSource: a chat on these servers is a group (IsGroup true).
GROUP_SERVERS = ("g.us", "broadcast")
# whatsmeow types.EditAttribute (MessageInfo.Edit).
EDIT_MESSAGE, EDIT_SENDER_REVOKE, EDIT_ADMIN_REVOKE = "1", "7", "8"
# goneonize's EncodeReceipts (utils/encoder.go), whatsmeow type string -> the enum it sends.
# Its sharp edges are kept: "played-self" arrives as SERVER_ERROR, and "server-error" has no
# case at all (Type stays nil, proto.Marshal fails, goneonize's event loop ends): not buildable.
RECEIPT_TYPES = {"delivered": N.Receipt.DELIVERED, "sender": N.Receipt.SENDER, "retry": N.Receipt.RETRY,
                 "read": N.Receipt.READ, "read-self": N.Receipt.READ_SELF, "played": N.Receipt.PLAYED,
                 "played-self": N.Receipt.SERVER_ERROR, "inactive": N.Receipt.INACTIVE,
                 "peer_msg": N.Receipt.PEER_MSG, "hist_sync": N.Receipt.HISTORY_SYNC}
# whatsmeow's events.Message.UnwrapRaw: wrapper field -> the flag of neonize.Message it sets.
UNWRAPPED_FLAGS = (("deviceSentMessage", None), ("botInvokeMessage", None), ("ephemeralMessage", "IsEphemeral"),
                   ("viewOnceMessage", "IsViewOnce"), ("viewOnceMessageV2", "IsViewOnceV2"),
                   ("viewOnceMessageV2Extension", "IsViewOnceV2Extension"),
                   ("lottieStickerMessage", "IsLottieSticker"), ("documentWithCaptionMessage", "IsDocumentWithCaption"),
                   ("editedMessage", "IsEdit"))


def jid(address: str | None, device: int = 0) -> N.JID:
    """'123@s.whatsapp.net' -> JID (goneonize's EncodeJidProto); None or '' -> the empty JID."""
    if not address:
        return N.JID(User="", RawAgent=0, Device=0, Integrator=0, Server="", IsEmpty=True)
    user, _, server = address.partition("@")
    return N.JID(User=user, RawAgent=0, Device=device, Integrator=0, Server=server or "s.whatsapp.net",
                 IsEmpty=False)


def new_message_id() -> str:
    """An id shaped like WhatsApp's (3EB0 + 18 hex digits)."""
    return "3EB0" + os.urandom(9).hex().upper()


def source(chat: str, sender: str, *, from_me: bool = False, is_group: bool | None = None,
           sender_alt: str | None = None, recipient_alt: str | None = None,
           broadcast_list_owner: str | None = None) -> N.MessageSource:
    """whatsmeow's types.MessageSource (goneonize EncodeMessageSource).

    `is_group` defaults to whatsmeow's rule (the chat is on g.us or broadcast, so contacts' status
    posts in status@broadcast are "group" messages). `sender_alt` is the sender's other address (the
    phone JID when the sender is a LID, or the reverse); `recipient_alt` the chat's other address in
    DMs sent by the session's own devices.
    """
    if is_group is None:
        is_group = chat.partition("@")[2] in GROUP_SERVERS
    return N.MessageSource(Chat=jid(chat), Sender=jid(sender), IsFromMe=from_me, IsGroup=is_group,
                           SenderAlt=jid(sender_alt), RecipientAlt=jid(recipient_alt),
                           BroadcastListOwner=jid(broadcast_list_owner))


@dataclass(frozen=True)
class MessageSpec:
    """Where a message comes from and its whatsmeow types.MessageInfo attributes.

    `timestamp` is in Unix seconds (now when None); `edit` is whatsmeow's EditAttribute
    (EDIT_MESSAGE for edits, EDIT_SENDER_REVOKE / EDIT_ADMIN_REVOKE for revokes).
    """

    chat: str
    sender: str | None = None  # None: the chat itself (a direct message)
    from_me: bool = False
    is_group: bool | None = None
    sender_alt: str | None = None
    recipient_alt: str | None = None
    push_name: str = ""
    message_id: str | None = None
    timestamp: float | None = None
    media_type: str = ""
    edit: str = ""

    def source(self) -> N.MessageSource:
        return source(self.chat, self.sender or self.chat, from_me=self.from_me, is_group=self.is_group,
                      sender_alt=self.sender_alt, recipient_alt=self.recipient_alt)

    def info(self) -> N.MessageInfo:
        """goneonize's EncodeMessageInfo: Timestamp in milliseconds (time.UnixMilli)."""
        seconds = self.timestamp if self.timestamp is not None else time.time()
        return N.MessageInfo(MessageSource=self.source(), ID=self.message_id or new_message_id(), ServerID=0,
                             Type="media" if self.media_type else "text", Pushname=self.push_name,
                             Timestamp=int(seconds * 1000), Category="", Multicast=False,
                             MediaType=self.media_type, Edit=self.edit)


def unwrap_raw(raw: E.Message) -> tuple[E.Message, dict]:
    """whatsmeow's events.Message.UnwrapRaw: (the unwrapped message, the Is* flags it sets)."""
    message, flags = raw, {}
    for wrapper, flag in UNWRAPPED_FLAGS:
        if message.HasField(wrapper) and getattr(message, wrapper).HasField("message"):
            message = getattr(message, wrapper).message
            if flag:
                flags[flag] = True
    if message is not raw and raw.HasField("messageContextInfo") and not message.HasField("messageContextInfo"):
        message = E.Message.FromString(message.SerializeToString())  # a copy: `raw` stays as given
        message.messageContextInfo.CopyFrom(raw.messageContextInfo)
    return message, flags


def message_event(content: E.Message, spec: MessageSpec) -> N.Message:
    """A MessageEv as goneonize's EncodeEventTypesMessage hands it over.

    `content` is the raw waE2E Message as sent (e.g. BuildEdit's EditedMessage wrapper);
    whatsmeow unwraps it first (UnwrapRaw), and goneonize puts the unwrapped message in both
    `Message` and `Raw`.
    """
    message, flags = unwrap_raw(content)
    fields = {name: flags.get(name, False) for name in ("IsEphemeral", "IsViewOnce", "IsViewOnceV2",
                                                         "IsViewOnceV2Extension", "IsDocumentWithCaption",
                                                         "IsLottieSticker", "IsEdit")}
    if fields["IsViewOnceV2Extension"] or fields["IsViewOnceV2"]:
        fields["IsViewOnce"] = True
    return N.Message(Info=spec.info(), Message=message, Raw=message, UnavailableRequestID="", RetryCount=0,
                     **fields)


def undecryptable_event(spec: MessageSpec, *, is_unavailable: bool = False,
                        hide: bool = False) -> N.UndecryptableMessage:
    """An UndecryptableMessageEv (goneonize EncodeUndecryptableMessageEvent; whatsmeow's
    UnavailableType is not carried by neonize's proto). `hide`: DecryptFailMode "hide"."""
    mode = N.UndecryptableMessage.DECRYPT_FAIL_HIDE if hide else N.UndecryptableMessage.DECRYPT_FAIL_SHOW
    return N.UndecryptableMessage(Info=spec.info(), IsUnavailable=is_unavailable, DecryptFailMode=mode)


# -- message contents (waE2E.Message) ----------------------------------------------------
def context_info(*, quoted_id: str | None = None, quoted_sender: str | None = None,
                 quoted: E.Message | None = None, mentions: tuple[str, ...] | list[str] = (),
                 remote_jid: str | None = None) -> E.ContextInfo:
    """waE2E.ContextInfo of a reply (stanzaID, participant, quotedMessage) and/or @-mentions."""
    info = E.ContextInfo(mentionedJID=list(mentions))
    if quoted_id:
        info.stanzaID = quoted_id
        info.participant = quoted_sender or ""
        if quoted is not None:
            info.quotedMessage.CopyFrom(quoted)
    if remote_jid:
        info.remoteJID = remote_jid
    return info


def text_content(text: str, *, context: E.ContextInfo | None = None) -> E.Message:
    """Plain text (`conversation`), or an extendedTextMessage when it quotes or mentions (the
    only text form with a contextInfo, as WhatsApp clients send it)."""
    if context is None:
        return E.Message(conversation=text)
    return E.Message(extendedTextMessage=E.ExtendedTextMessage(text=text, contextInfo=context))


def media_content(kind: str, *, mimetype: str, length: int, sha256: bytes, direct_path: str,
                  caption: str = "", filename: str = "", context: E.ContextInfo | None = None) -> E.Message:
    """An image/video/audio/document/sticker message pointing at `direct_path` (waE2E.ImageMessage, ...)."""
    fields = dict(mimetype=mimetype, fileLength=length, fileSHA256=sha256, URL="https://mmg.whatsapp.net" + direct_path,
                  directPath=direct_path, mediaKey=os.urandom(32), fileEncSHA256=os.urandom(32))
    if kind in ("image", "video", "document") and caption:
        fields["caption"] = caption
    if kind == "document":
        fields["fileName"] = filename
    if context is not None:
        fields["contextInfo"] = context
    return E.Message(**{MEDIA_FIELDS[kind]: fields})


def message_key(chat: str, message_id: str, *, from_me: bool = True, participant: str | None = None) -> C.MessageKey:
    """waCommon.MessageKey as whatsmeow's BuildMessageKey / getKeyFromInfo build it
    (`participant`: the original sender, for someone else's message in a group)."""
    key = C.MessageKey(remoteJID=chat, fromMe=from_me, ID=message_id)
    if participant:
        key.participant = participant
    return key


def reaction_content(emoji: str, message_id: str, chat: str, *, from_me: bool = True,
                     participant: str | None = None) -> E.Message:
    """whatsmeow's BuildReaction (an empty `emoji` removes the reaction)."""
    key = message_key(chat, message_id, from_me=from_me, participant=participant)
    return E.Message(reactionMessage=E.ReactionMessage(key=key, text=emoji,
                                                       senderTimestampMS=int(time.time() * 1000)))


def enc_reaction_content(target: C.MessageKey, *, payload: bytes | None = None,
                         iv: bytes | None = None) -> E.Message:
    """whatsmeow's EncryptReaction result (waE2E.EncReactionMessage): the emoji is inside the
    ciphertext, which goneonize 0.5.2 exports no function to decrypt."""
    return E.Message(encReactionMessage=E.EncReactionMessage(
        targetMessageKey=target, encPayload=payload if payload is not None else os.urandom(32),
        encIV=iv if iv is not None else os.urandom(12)))


def revoke_content(chat: str, message_id: str, *, participant: str | None = None) -> E.Message:
    """whatsmeow's BuildRevoke: protocolMessage{REVOKE, key}. `participant` names the original
    sender when a group admin revokes someone else's message (Info.Edit "8")."""
    key = message_key(chat, message_id, from_me=participant is None, participant=participant)
    return E.Message(protocolMessage=E.ProtocolMessage(type=E.ProtocolMessage.REVOKE, key=key))


def edit_content(chat: str, message_id: str, new_content: E.Message, *,
                 timestamp_ms: int | None = None) -> E.Message:
    """whatsmeow's BuildEdit: editedMessage{protocolMessage{MESSAGE_EDIT, key, editedMessage}}."""
    protocol = E.ProtocolMessage(type=E.ProtocolMessage.MESSAGE_EDIT, key=message_key(chat, message_id),
                                 editedMessage=new_content,
                                 timestampMS=timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    return E.Message(editedMessage=E.FutureProofMessage(message=E.Message(protocolMessage=protocol)))


def protocol_content(kind: int, **fields) -> E.Message:
    """Any other protocolMessage (e.g. HISTORY_SYNC_NOTIFICATION, APP_STATE_SYNC_KEY_SHARE with their
    payload fields): what the session's own phone sends its linked devices (whatsmeow handleProtocolMessage)."""
    return E.Message(protocolMessage=E.ProtocolMessage(type=kind, **fields))


def poll_creation_content(question: str, options: list[str], selectable: int = 1, *,
                          version: int = 1) -> E.Message:
    """whatsmeow's BuildPollCreation (`selectable` 0 = any number; `version` 1, 2 or 3 picks
    pollCreationMessage / V2 / V3), with the messageSecret votes are encrypted with."""
    poll = E.PollCreationMessage(name=question, selectableOptionsCount=selectable,
                                 options=[E.PollCreationMessage.Option(optionName=name) for name in options])
    field = "pollCreationMessage" if version == 1 else f"pollCreationMessageV{version}"
    return E.Message(**{field: poll}, messageContextInfo=E.MessageContextInfo(messageSecret=os.urandom(32)))


def poll_option_hashes(names: list[str]) -> list[bytes]:
    """whatsmeow's HashPollOptions: SHA-256 of each option name (what a vote carries)."""
    return [hashlib.sha256(name.encode()).digest() for name in names]


def poll_vote_content(poll: C.MessageKey, *, payload: bytes, iv: bytes | None = None) -> E.Message:
    """whatsmeow's BuildPollVote / EncryptPollVote: pollUpdateMessage{pollCreationMessageKey, vote}.
    `poll` is the poll's key (getKeyFromInfo: participant set in groups); `payload` the encrypted
    PollVoteMessage, which only DecryptPollVote (with the poll's messageSecret) can read."""
    vote = E.PollEncValue(encPayload=payload, encIV=iv if iv is not None else os.urandom(12))
    return E.Message(pollUpdateMessage=E.PollUpdateMessage(pollCreationMessageKey=poll, vote=vote,
                                                           senderTimestampMS=int(time.time() * 1000)))


def button_reply_content(button_id: str, text: str, *, context: E.ContextInfo | None = None) -> E.Message:
    """A tap on a buttons message's button (waE2E.ButtonsResponseMessage, DISPLAY_TEXT)."""
    reply = E.ButtonsResponseMessage(selectedButtonID=button_id, selectedDisplayText=text,
                                     type=E.ButtonsResponseMessage.DISPLAY_TEXT)
    if context is not None:
        reply.contextInfo.CopyFrom(context)
    return E.Message(buttonsResponseMessage=reply)


def list_reply_content(row_id: str, title: str, *, description: str = "",
                       context: E.ContextInfo | None = None) -> E.Message:
    """A row picked from a list message (waE2E.ListResponseMessage, SINGLE_SELECT)."""
    reply = E.ListResponseMessage(title=title, description=description, listType=E.ListResponseMessage.SINGLE_SELECT,
                                  singleSelectReply=E.ListResponseMessage.SingleSelectReply(selectedRowID=row_id))
    if context is not None:
        reply.contextInfo.CopyFrom(context)
    return E.Message(listResponseMessage=reply)


def template_reply_content(selected_id: str, text: str, *, index: int = 0,
                           context: E.ContextInfo | None = None) -> E.Message:
    """A tap on a template message's quick-reply button (waE2E.TemplateButtonReplyMessage)."""
    reply = E.TemplateButtonReplyMessage(selectedID=selected_id, selectedDisplayText=text, selectedIndex=index)
    if context is not None:
        reply.contextInfo.CopyFrom(context)
    return E.Message(templateButtonReplyMessage=reply)


def interactive_reply_content(body: str, *, name: str, params_json: str,
                              context: E.ContextInfo | None = None) -> E.Message:
    """A native-flow reply to an interactive message (waE2E.InteractiveResponseMessage:
    body text + nativeFlowResponseMessage{name, paramsJSON})."""
    flow = E.InteractiveResponseMessage.NativeFlowResponseMessage(name=name, paramsJSON=params_json, version=1)
    reply = E.InteractiveResponseMessage(body=E.InteractiveResponseMessage.Body(text=body),
                                         nativeFlowResponseMessage=flow)
    if context is not None:
        reply.contextInfo.CopyFrom(context)
    return E.Message(interactiveResponseMessage=reply)


# -- receipts and lifecycle ----------------------------------------------------------------
def receipt_event(message_ids: list[str], chat: str, kind: str = "delivered", *, sender: str | None = None,
                  from_me: bool = False, sender_alt: str | None = None, timestamp: int | None = None) -> N.Receipt:
    """A ReceiptEv (goneonize EncodeReceipts, Timestamp in Unix seconds). `kind` is whatsmeow's
    ReceiptType string (see RECEIPT_TYPES); `from_me`: the session's own read on another device."""
    if kind not in RECEIPT_TYPES:
        raise ValueError(f"goneonize 0.5.2 cannot encode a {kind!r} receipt (its event loop would end)")
    return N.Receipt(MessageSource=source(chat, sender or chat, from_me=from_me, sender_alt=sender_alt),
                     MessageIDs=message_ids, Timestamp=timestamp or int(time.time()), Type=RECEIPT_TYPES[kind])


def connected_event() -> N.Connected:
    return N.Connected(status=True)


def pair_success_event(device_jid: str, business_name: str = "") -> N.PairStatus:
    return N.PairStatus(ID=jid(device_jid), BusinessName=business_name, Platform="sandbox",
                        Status=N.PairStatus.SUCCESS, Error="")


def logged_out_event(reason: int = N.LOGGED_OUT, on_connect: bool = False) -> N.LoggedOut:
    return N.LoggedOut(OnConnect=on_connect, Reason=reason)
