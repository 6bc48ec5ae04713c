"""The neonize calls of message actions (reaction, edit, revoke) and immediate actions (read, presence).

Each builds its protobuf the way whatsmeow does, through neonize: `build_reaction` (goneonize
BuildReaction → whatsmeow `Client.BuildReaction`: the key's fromMe is false and, in a group, its
participant is the author when the target is someone else's), `edit_message` (neonize
`build_edit`, whatsmeow `BuildEdit`: an editedMessage-wrapped protocolMessage MESSAGE_EDIT) and
`revoke_message` (neonize `build_revoke`, whatsmeow `BuildRevoke`: protocolMessage REVOKE), each
sent with `send_message`. These run in the bridge's pools (never on the gevent hub's thread).
"""
from __future__ import annotations

from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message
from neonize.utils.enum import ChatPresence, ChatPresenceMedia, ReceiptType

from hub.sessions.builders import jid

ACTION_KINDS = ("reaction", "edit", "revoke")
# presence state -> neonize's (ChatPresence, ChatPresenceMedia): "recording" is composing audio.
PRESENCE = {"typing": (ChatPresence.CHAT_PRESENCE_COMPOSING, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT),
            "recording": (ChatPresence.CHAT_PRESENCE_COMPOSING, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_AUDIO),
            "paused": (ChatPresence.CHAT_PRESENCE_PAUSED, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT)}


def send_action(client, chat, message):
    """Send a reaction, edit or revoke of `message.target_id` in `chat` (an OutgoingMessage)."""
    author = jid(message.target_sender) if message.target_sender else client.get_me().JID
    if message.kind == "reaction":
        content = client.build_reaction(chat, author, message.target_id, message.text or "")
        return client.send_message(chat, content)
    if message.kind == "edit":
        return client.edit_message(chat, message.target_id, Message(conversation=message.text or ""))
    return client.revoke_message(chat, author, message.target_id)


def mark_read(client, chat: str, message_ids: list[str], sender: str | None) -> None:
    """Read receipts for `message_ids` in `chat` (goneonize MarkRead; `sender`: their author in a group)."""
    client.mark_read(*message_ids, chat=jid(chat), sender=jid(sender or chat), receipt=ReceiptType.READ)


def send_presence(client, chat: str, state: str) -> None:
    """typing / recording / paused in `chat` (goneonize SendChatPresence)."""
    presence, media = PRESENCE[state]
    client.send_chat_presence(jid(chat), presence, media)
