"""Build real neonize protobuf events without a network (the sandbox and the tests use them).

The event classes are proto2 messages with required fields; `serializable()` proves each
built event is complete, exactly as the Go side would have produced it.
"""
from __future__ import annotations

import os
import time

from neonize.proto import Neonize_pb2 as N
from neonize.proto.waCommon import WACommon_pb2 as C
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

MEDIA_FIELDS = {"image": "imageMessage", "video": "videoMessage", "audio": "audioMessage",
                "document": "documentMessage", "sticker": "stickerMessage"}


def jid(address: str | None) -> N.JID:
    """'123@s.whatsapp.net' -> JID; None or '' -> the empty JID."""
    if not address:
        return N.JID(User="", RawAgent=0, Device=0, Integrator=0, Server="", IsEmpty=True)
    user, _, server = address.partition("@")
    return N.JID(User=user, RawAgent=0, Device=0, Integrator=0, Server=server or "s.whatsapp.net",
                 IsEmpty=False)


def new_message_id() -> str:
    """An id shaped like WhatsApp's (3EB0 + 18 hex digits)."""
    return "3EB0" + os.urandom(9).hex().upper()


def source(chat: str, sender: str, from_me: bool = False, is_group: bool = False) -> N.MessageSource:
    return N.MessageSource(Chat=jid(chat), Sender=jid(sender), IsFromMe=from_me, IsGroup=is_group,
                           SenderAlt=jid(None), RecipientAlt=jid(None), BroadcastListOwner=jid(None))


def message_event(content: E.Message, chat: str, sender: str, *, push_name: str = "",
                  from_me: bool = False, is_group: bool = False, message_id: str | None = None,
                  timestamp: int | None = None, media_type: str = "") -> N.Message:
    """A MessageEv as whatsmeow delivers it."""
    info = N.MessageInfo(MessageSource=source(chat, sender, from_me, is_group),
                         ID=message_id or new_message_id(), ServerID=0,
                         Type="media" if media_type else "text", Pushname=push_name,
                         Timestamp=timestamp or int(time.time()), Category="", Multicast=False,
                         MediaType=media_type, Edit="")
    return N.Message(Info=info, Message=content, IsEphemeral=False, IsViewOnce=False,
                     IsViewOnceV2=False, IsViewOnceV2Extension=False, IsDocumentWithCaption=False,
                     IsLottieSticker=False, IsEdit=False, UnavailableRequestID="", RetryCount=0)


def text_content(text: str) -> E.Message:
    return E.Message(conversation=text)


def media_content(kind: str, *, mimetype: str, length: int, sha256: bytes, direct_path: str,
                  caption: str = "", filename: str = "") -> E.Message:
    """An image/video/audio/document/sticker message pointing at `direct_path`."""
    fields = dict(mimetype=mimetype, fileLength=length, fileSHA256=sha256, URL="https://mmg.whatsapp.net" + direct_path,
                  directPath=direct_path, mediaKey=os.urandom(32), fileEncSHA256=os.urandom(32))
    if kind in ("image", "video", "document") and caption:
        fields["caption"] = caption
    if kind == "document":
        fields["fileName"] = filename
    return E.Message(**{MEDIA_FIELDS[kind]: fields})


def receipt_event(message_ids: list[str], chat: str, kind: str = "delivered",
                  timestamp: int | None = None) -> N.Receipt:
    """A delivered/read receipt from `chat` for messages we sent."""
    receipt_type = N.Receipt.DELIVERED if kind == "delivered" else N.Receipt.READ
    return N.Receipt(MessageSource=source(chat, chat), MessageIDs=message_ids,
                     Timestamp=timestamp or int(time.time()), Type=receipt_type)


def connected_event() -> N.Connected:
    return N.Connected(status=True)


def pair_success_event(device_jid: str, business_name: str = "") -> N.PairStatus:
    return N.PairStatus(ID=jid(device_jid), BusinessName=business_name, Platform="sandbox",
                        Status=N.PairStatus.SUCCESS, Error="")


def logged_out_event(reason: int = N.LOGGED_OUT, on_connect: bool = False) -> N.LoggedOut:
    return N.LoggedOut(OnConnect=on_connect, Reason=reason)


def reaction_content(emoji: str, message_id: str, chat: str) -> E.Message:
    key = C.MessageKey(remoteJID=chat, fromMe=True, ID=message_id)
    return E.Message(reactionMessage=E.ReactionMessage(key=key, text=emoji,
                                                       senderTimestampMS=int(time.time() * 1000)))


def serializable(event) -> bytes:
    """The wire bytes (raises EncodeError if a required field is missing)."""
    return event.SerializeToString()
