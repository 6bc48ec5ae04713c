"""The simulated WhatsApp's phone side, polls: a customer votes on a poll the session sent (sandbox only)."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from hub.api.common import Model, SessionPath, blueprint, ok
from hub.api.responses import answers, ok_model
from hub.api.sandbox import PHONE_ERRORS, phone_of
from hub.rules import MESSAGE_ID_PATTERN
from hub.sandbox.phone import InboundSpec
from hub.sandbox.phone_messages import vote_content
from hub.sessions.jids import normalise_jid

bp = blueprint("sandbox-polls", "Simulated WhatsApp for sandbox sessions: a customer votes on a poll")
Voted = ok_model("Voted", messageId=str, stored=bool)


class VoteBody(Model):
    model_config = ConfigDict(openapi_extra={"example": {"pollMessageId": "3EB0C767D26A1D8E5A8B", "options": ["Tarde"],
                                                         "from": "51987654321"}})

    poll_message_id: str = Field(alias="pollMessageId", pattern=MESSAGE_ID_PATTERN,
                                 description="The id of a poll the session sent")
    options: list[str] = Field(max_length=12, description="The chosen options' text; [] takes the vote back")
    sender: str = Field(alias="from", description="Phone number or JID of the voter")


@bp.post("/sandbox/<session_id>/vote", responses=answers(Voted, *PHONE_ERRORS))
def vote(path: SessionPath, body: VoteBody):
    """A customer votes (whatsmeow BuildPollVote); the session's listeners get `poll-vote` with the options' text."""
    phone = phone_of(path.session_id)
    voter = normalise_jid(body.sender, "from")
    content = vote_content(phone.network, path.session_id, phone.linked(path.session_id)["phoneJid"],
                           body.poll_message_id, body.options)
    message_id, stored = phone.inbound(path.session_id, InboundSpec(sender=voter, content=content))
    return ok(messageId=message_id, stored=stored)
