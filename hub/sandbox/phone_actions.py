"""The phone side's message actions (a mixin of `Phone`): a customer reacts, edits, revokes, votes, reads.

Each arrives at the sandbox session as WhatsApp delivers it: the content whatsmeow's builders make
(BuildReaction, BuildEdit, BuildRevoke, BuildPollVote), with the Info.Edit attribute the servers
set (whatsmeow getEditAttribute), or a read receipt (whatsmeow MarkRead on the customer's phone).
"""
from __future__ import annotations

from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E
from sqlalchemy import select

from hub.sessions import builders
from hub.store.sandbox import SandboxSent


def edit_attribute(content) -> str:
    """whatsmeow `getEditAttribute`: "1" an edit, "7" a sender's revoke (or a reaction's removal), "8" an admin's."""
    if content.HasField("editedMessage") and content.editedMessage.HasField("message"):
        return edit_attribute(content.editedMessage.message)
    if content.HasField("protocolMessage") and content.protocolMessage.HasField("key"):
        protocol = content.protocolMessage
        if protocol.type == E.ProtocolMessage.REVOKE:
            return builders.EDIT_SENDER_REVOKE if protocol.key.fromMe else builders.EDIT_ADMIN_REVOKE
        if protocol.type == E.ProtocolMessage.MESSAGE_EDIT and protocol.HasField("editedMessage"):
            return builders.EDIT_MESSAGE
    if content.HasField("reactionMessage") and not content.reactionMessage.text:
        return builders.EDIT_SENDER_REVOKE
    return ""


class PhoneActions:
    """What a customer does to messages in their chat with a sandbox session."""

    def react(self, session_id: str, sender: str, message_id: str, emoji: str, chat: str | None = None) -> str:
        """The customer reacts to a message of the chat ("" removes the reaction)."""
        own_message = not self.sent_by_session(session_id, message_id)  # else the customer's own message
        where = chat or self.linked(session_id)["phoneJid"]
        participant = None if own_message or not chat else self.linked(session_id)["phoneJid"]
        content = builders.reaction_content(emoji, message_id, where, from_me=own_message, participant=participant)
        return self._act(session_id, sender, chat, content)

    def edit(self, session_id: str, sender: str, message_id: str, text: str, chat: str | None = None) -> str:
        """The customer edits one of their messages (whatsmeow BuildEdit)."""
        where = chat or self.linked(session_id)["phoneJid"]
        content = builders.edit_content(where, message_id, E.Message(conversation=text))
        return self._act(session_id, sender, chat, content)

    def revoke(self, session_id: str, sender: str, message_id: str, chat: str | None = None) -> str:
        """The customer deletes one of their messages for everyone (whatsmeow BuildRevoke)."""
        where = chat or self.linked(session_id)["phoneJid"]
        return self._act(session_id, sender, chat, builders.revoke_content(where, message_id))

    def read(self, session_id: str, sender: str, message_ids: list[str]) -> None:
        """The customer read these messages of the session: a read receipt reaches the session."""
        device = self.linked(session_id)
        self.network.receipt(device["jid"], sender, message_ids, "read")

    def sent_by_session(self, session_id: str, message_id: str) -> bool:
        """Whether the session sent `message_id` (the servers' record of what it sent)."""
        with self.network.store.session() as db:
            return db.scalar(select(SandboxSent.seq).where(SandboxSent.client == session_id,
                                                           SandboxSent.message_id == message_id).limit(1)) is not None

    def _act(self, session_id: str, sender: str, chat: str | None, content) -> str:
        message_id, _ = self.deliver_from(session_id, sender, chat, content, edit_attribute(content))
        return message_id
