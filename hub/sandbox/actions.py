"""The simulated goneonize's message-action calls (a mixin of `Goneonize`): BuildReaction, SendChatPresence.

Edits and revokes need no function here: neonize builds them in Python (`build_edit`,
`build_revoke`) and sends them with SendMessage, which routes them like any message.
"""
from __future__ import annotations

import time

from neonize.proto import Neonize_pb2 as N
from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

from hub.sandbox.network import lid_of
from hub.sessions import builders
from hub.sessions.mapping import jid_str

CHAT_PRESENCE_CODE = 19  # neonize's number for ChatPresenceEv
NOT_CONNECTED = "websocket not connected"  # whatsmeow's ErrNotConnected

USER_SERVERS = ("s.whatsapp.net", "lid", "msgr")  # whatsmeow's DefaultUserServer, HiddenUserServer, MessengerServer


def message_key(own_device: str | None, chat, sender, message_id: str) -> MessageKey:
    """whatsmeow `Client.BuildMessageKey`: fromMe unless `sender` is someone else; in a group, their JID."""
    key = MessageKey(fromMe=True, ID=message_id, remoteJID=jid_str(chat))
    own = (own_device or "").split(":")[0].split("@")[0]
    if not sender.IsEmpty and sender.User not in (own, lid_of(own) if own.isdigit() else ""):
        key.fromMe = False
        if chat.Server not in USER_SERVERS:
            key.participant = jid_str(sender)
    return key


class MessageActions:
    """goneonize's BuildReaction and SendChatPresence over the simulated network."""

    def BuildReaction(self, uuid, chat, chat_size, sender, sender_size, message_id, reaction):
        """goneonize `BuildReaction` → BuildMessageReturnFunction (whatsmeow `Client.BuildReaction`)."""
        chat_jid = N.JID.FromString(bytes(chat[:chat_size]))
        sender_jid = N.JID.FromString(bytes(sender[:sender_size]))
        connection = self._client(uuid)
        key = message_key(connection.device if connection else None, chat_jid, sender_jid, message_id.decode())
        content = E.Message(reactionMessage=E.ReactionMessage(key=key, text=reaction.decode(),
                                                              senderTimestampMS=int(time.time() * 1000)))
        return N.BuildMessageReturnFunction(Message=content).SerializeToString()

    def SendChatPresence(self, uuid, jid, jid_size, state, media):
        """goneonize `SendChatPresence` (whatsmeow `<chatstate>`): the other side's online devices get a
        ChatPresence event (whatsmeow events.ChatPresence); nothing is queued for offline ones."""
        connection = self.clients.get(uuid.decode())
        if connection is None or not connection.connected:
            return NOT_CONNECTED.encode()
        chat = N.JID.FromString(bytes(jid[:jid_size]))
        self._on_hub(self._chat_presence, connection, jid_str(chat), int(state), int(media))
        return b""

    def _chat_presence(self, connection, chat: str, state: int, media: int) -> None:
        sender = connection.device.split(":")[0].split("@")[0] + "@s.whatsapp.net"
        # SendChatPresence takes indexes into goneonize's utils.ChatPresence(Media) (0-based); the event's
        # protobuf enums start at 1 (COMPOSING/PAUSED, TEXT/AUDIO).
        event = N.ChatPresence(MessageSource=builders.source(sender, sender), State=state + 1, Media=media + 1)
        for device in self.network.devices_of(chat.split("@")[0]):
            online = self.network.online.get(device["jid"])
            if online is not None and online is not connection:
                online.deliver(CHAT_PRESENCE_CODE, event.SerializeToString(), None)


def action_summary(message) -> dict | None:
    """The phone side's record of an edit or revoke it received (None for other messages)."""
    if message.HasField("editedMessage"):
        message = message.editedMessage.message
    if not message.HasField("protocolMessage"):
        return None
    protocol = message.protocolMessage
    key = {"messageId": protocol.key.ID, "fromMe": protocol.key.fromMe, "chat": protocol.key.remoteJID,
           "participant": protocol.key.participant or None}
    if protocol.type == E.ProtocolMessage.MESSAGE_EDIT:
        return {"kind": "edit", "text": protocol.editedMessage.conversation or None, "key": key}
    if protocol.type == E.ProtocolMessage.REVOKE:
        return {"kind": "revoke", "text": None, "key": key}
    return None
