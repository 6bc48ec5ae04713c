"""The simulated WhatsApp's phone side, message actions: a customer reacts, edits, revokes, reads (sandbox only)."""
from __future__ import annotations

from pydantic import Field

from hub.api.common import Model, SessionPath, blueprint, ok
from hub.api.responses import Ok, answers, ok_model
from hub.api.sandbox import PHONE_ERRORS, phone_of
from hub.rules import MESSAGE_ID_PATTERN
from hub.sessions.jids import normalise_jid

PhoneMessage = answers(ok_model("PhoneMessage", messageId=str), *PHONE_ERRORS)
bp = blueprint("sandbox-actions", "Simulated WhatsApp for sandbox sessions: a customer's reactions, edits, "
                                  "revokes and reads")


class CustomerAction(Model):
    sender: str = Field(alias="from", description="Phone number or JID of the customer")
    chat_id: str | None = Field(None, alias="chatId", description="Group JID, when it happens in a group")

    def who(self) -> tuple[str, str | None]:
        """(the customer's JID, the group's JID or None)."""
        chat = normalise_jid(self.chat_id, "chatId") if self.chat_id else None
        return normalise_jid(self.sender, "from"), chat


class PhoneReactBody(CustomerAction):
    message_id: str = Field(alias="messageId", pattern=MESSAGE_ID_PATTERN)
    emoji: str = Field(max_length=64, description='The reaction; "" removes it')


class PhoneEditBody(CustomerAction):
    message_id: str = Field(alias="messageId", pattern=MESSAGE_ID_PATTERN)
    text: str = Field(min_length=1, max_length=65536)


class PhoneRevokeBody(CustomerAction):
    message_id: str = Field(alias="messageId", pattern=MESSAGE_ID_PATTERN)


class PhoneReadBody(CustomerAction):
    message_ids: list[str] = Field(alias="messageIds", min_length=1, max_length=500)


@bp.post("/sandbox/<session_id>/react", responses=PhoneMessage)
def react(path: SessionPath, body: PhoneReactBody):
    """The customer reacts to a message; answers once the session stored the event."""
    sender, chat = body.who()
    return ok(messageId=phone_of(path.session_id).react(path.session_id, sender, body.message_id, body.emoji, chat))


@bp.post("/sandbox/<session_id>/edit", responses=PhoneMessage)
def edit(path: SessionPath, body: PhoneEditBody):
    """The customer edits one of their messages (message-edited)."""
    sender, chat = body.who()
    return ok(messageId=phone_of(path.session_id).edit(path.session_id, sender, body.message_id, body.text, chat))


@bp.post("/sandbox/<session_id>/revoke", responses=PhoneMessage)
def revoke(path: SessionPath, body: PhoneRevokeBody):
    """The customer deletes one of their messages for everyone (message-revoked)."""
    sender, chat = body.who()
    return ok(messageId=phone_of(path.session_id).revoke(path.session_id, sender, body.message_id, chat))


@bp.post("/sandbox/<session_id>/read", responses=answers(Ok, *PHONE_ERRORS))
def read(path: SessionPath, body: PhoneReadBody):
    """The customer read these messages of the session (message-read)."""
    phone_of(path.session_id).read(path.session_id, body.who()[0], body.message_ids)
    return ok()
