"""What a customer's phone sends besides text and media: a location, a contact card, a poll, a reply
quoting a message, mentions, and a vote on a poll the session sent.

Each is built as WhatsApp delivers it: the reply's ContextInfo as whatsmeow / neonize
(`_make_quoted_message`) fill it, the poll as whatsmeow `BuildPollCreation`, the vote as whatsmeow
`BuildPollVote` (a pollUpdateMessage whose payload the session's DecryptPollVote reads).
"""
from __future__ import annotations

from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E
from sqlalchemy import select

from hub.errors import BadRequest, NotFound
from hub.sandbox.network import Network
from hub.sessions import builders
from hub.sessions.compose import location_message
from hub.store.sandbox import SandboxSent


def standalone_content(location: dict | None, contact: dict | None, poll: dict | None) -> E.Message | None:
    """The location, contact card or poll a customer sends (hub/outbound/kinds.py checked them), if any."""
    if location:
        return location_message(location)
    if contact:
        return E.Message(contactMessage=E.ContactMessage(displayName=contact["name"], vcard=contact["vcard"]))
    if poll:
        return builders.poll_creation_content(poll["question"], poll["options"], poll["selectableCount"])
    return None


def customer_context(network: Network, session_id: str, own_jid: str, sender: str, reply_to: str | None,
                     mentions: list[str]) -> E.ContextInfo | None:
    """The ContextInfo of a customer's reply and mentions: a message the session sent is quoted with its
    content and the session's number as participant; any other id as the customer's own message."""
    if not reply_to and not mentions:
        return None
    if not reply_to:
        return builders.context_info(mentions=mentions)
    quoted = sent_content(network, session_id, reply_to)
    author = own_jid if quoted is not None else sender
    return builders.context_info(quoted_id=reply_to, quoted_sender=author, quoted=quoted, mentions=mentions)


def sent_content(network: Network, session_id: str, message_id: str) -> E.Message | None:
    """The content of a message the session sent, as its recipient received it (None when it did not)."""
    with network.store.session() as db:
        payload = db.scalar(select(SandboxSent.payload).where(SandboxSent.client == session_id,
                                                              SandboxSent.message_id == message_id).limit(1))
    return E.Message.FromString(payload) if payload is not None else None


def vote_content(network: Network, session_id: str, own_jid: str, poll_id: str, options: list[str]) -> E.Message:
    """whatsmeow BuildPollVote on the customer's phone for a poll the session sent: the poll's key
    (getKeyFromInfo: the chat is the session's number, not from the voter) and the chosen options'
    SHA-256 hashes in the vote; [] takes a vote back."""
    poll = _poll_of(sent_content(network, session_id, poll_id), poll_id)
    names = [option.optionName for option in poll.options]
    unknown = [option for option in options if option not in names]
    if unknown or len(set(options)) != len(options):
        raise BadRequest(f"options must be different options of the poll ({', '.join(names)}).", code="invalid_vote")
    if poll.selectableOptionsCount and len(options) > poll.selectableOptionsCount:
        raise BadRequest(f"This poll takes at most {poll.selectableOptionsCount} option(s).", code="invalid_vote")
    vote = E.PollVoteMessage(selectedOptions=builders.poll_option_hashes(options))
    key = builders.message_key(own_jid, poll_id, from_me=False)
    return builders.poll_vote_content(key, payload=vote.SerializeToString())


def _poll_of(content: E.Message | None, poll_id: str):
    if content is None or not content.HasField("pollCreationMessage"):
        raise NotFound(f"The session sent no poll with id '{poll_id}'.", code="poll_not_found")
    return content.pollCreationMessage


def add_extras(phone, session_id: str, spec, extras: dict) -> None:
    """Set `spec.content` / `spec.context` from a phone-side request's location, contact, poll, replyTo and
    mentions (checked by the send API's rules: hub/outbound/kinds.py)."""
    from hub.outbound import kinds

    given = [name for name in kinds.STANDALONE_KINDS if extras.get(name)]
    if len(given) > 1 or (given and (spec.text or spec.media)):
        raise BadRequest("One message is one of: text and/or media, a location, a contact, a poll.",
                         code="conflicting_content")
    checked = {name: kinds.READERS[name](extras[name]) for name in given}
    spec.content = standalone_content(checked.get("location"), checked.get("contact"), checked.get("poll"))
    reply_to = extras.get("replyTo")
    if reply_to and not kinds.MESSAGE_ID.match(reply_to):
        raise BadRequest("replyTo is not a WhatsApp message id.", code="invalid_reply_to")
    mentions = kinds.mentioned(extras.get("mentions") or [])
    spec.context = customer_context(phone.network, session_id, phone.linked(session_id)["phoneJid"], spec.sender,
                                    reply_to, mentions)
