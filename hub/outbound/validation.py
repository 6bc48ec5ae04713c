"""Validating a send: the recipient, the session, the text, the media; a 4xx before anything is stored."""
from __future__ import annotations

from hub.context import HubContext
from hub.errors import BadRequest, NotFound
from hub.outbound.fetch import fetch_media
from hub.outbound.request import SendRequest, ValidatedSend
from hub.sessions.jids import normalise_jid
from hub.store.models import clean_text


def validate(context: HubContext, request: SendRequest) -> ValidatedSend:
    """Check everything (cheap checks first, the media download last); 4xx on bad input."""
    to = normalise_jid(request.to, "to")
    session_id = resolve_session(context, request.session_id)
    text = (request.media.caption if request.media and request.media.caption else None) or request.text
    text = clean_text(text) if text else text  # free text: NULs dropped (PostgreSQL could not store them)
    if request.media is None and not (text and text.strip()):
        raise BadRequest("Give a message text or media (or both).", code="empty_message")
    attachment = fetch_media(context.config, request.media) if request.media else None
    return ValidatedSend(session_id, to, text, attachment)


def resolve_session(context: HubContext, session_id: str | None) -> str:
    """The given session's id (404 if unknown) or, when none is given, the hub's only session's."""
    if session_id:
        return context.sessions.peek(session_id)["sessionId"]
    sessions = context.sessions.list()
    if len(sessions) == 1:
        return sessions[0]["sessionId"]
    if not sessions:
        raise NotFound("The hub has no sessions yet; create one first.", code="session_not_found")
    raise BadRequest(f"sessionId is required: the hub has {len(sessions)} sessions.", code="session_required")
