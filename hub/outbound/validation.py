"""Validating a send: the recipient, the session, the text, the media; a 4xx before anything is stored."""
from __future__ import annotations

from hub.contacts import service as contacts
from hub.context import HubContext
from hub.errors import BadRequest, NotFound
from hub.media import inspect
from hub.outbound.fetch import fetch_media
from hub.outbound.kinds import standalone_kind, structured
from hub.outbound.request import SendRequest, ValidatedSend
from hub.sessions.jids import normalise_jid
from hub.store.models import clean_text


def validate(context: HubContext, request: SendRequest) -> ValidatedSend:
    """Check everything (cheap checks first, the media download last); 4xx on bad input."""
    to = normalise_jid(request.to, "to")
    session_id = resolve_session(context, request.session_id)
    if not request.force and contacts.found_absent(context, session_id, to):
        raise BadRequest(f"{to.split('@')[0]} is not on WhatsApp (a contact check found it in the last 24 h); "
                         'send with "force": true to queue it anyway.', code="not_on_whatsapp")
    text = (request.media.caption if request.media and request.media.caption else None) or request.text
    text = clean_text(text) if text else text  # free text: NULs dropped (PostgreSQL could not store them)
    if request.media is None and not (text and text.strip()) and not standalone_kind(request):
        raise BadRequest("Give a message text or media (or both), or a location, contact or poll.",
                         code="empty_message")
    content = structured(context, request, session_id, to, text)
    attachment = fetch_media(context.config, request.media) if request.media else None
    if attachment is not None:
        attachment = inspect.sendable(attachment, request.media.voice, request.media.sticker)
    return ValidatedSend(session_id, to, text, attachment, content or None)


def resolve_session(context: HubContext, session_id: str | None) -> str:
    """The given session (404 if unknown) or, when none is given, the default one (README.md, "Sending")."""
    if session_id:
        return context.sessions.peek(session_id)["sessionId"]
    return default_session(context)


def default_session(context: HubContext) -> str:
    """HUB_DEFAULT_SESSION, else the only session, else the only connected one; 400 otherwise."""
    configured = context.config.default_session
    if configured:
        if not context.sessions.exists(configured):
            raise BadRequest(f"HUB_DEFAULT_SESSION names session '{configured}', which does not exist: "
                             f"create it, fix the setting, or give sessionId.", code="default_session_missing")
        return configured
    sessions = context.sessions.list()
    if not sessions:
        raise NotFound("The hub has no sessions yet; create one first.", code="session_not_found")
    connected = [session for session in sessions if session["connected"]]
    for candidates in (sessions, connected):
        if len(candidates) == 1:
            return candidates[0]["sessionId"]
    raise BadRequest(f"sessionId is required: the hub has {len(sessions)} sessions and {len(connected)} of "
                     f"them connected (or set HUB_DEFAULT_SESSION).", code="session_required")


def default_session_warnings(context: HubContext) -> list[str]:
    """A start-up warning when HUB_DEFAULT_SESSION names a session that does not exist."""
    configured = context.config.default_session
    if configured and not context.sessions.exists(configured):
        return [f"HUB_DEFAULT_SESSION={configured!r} names no existing session: sends without sessionId "
                f"will answer 400 default_session_missing until it exists."]
    return []
