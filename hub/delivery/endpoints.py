"""Listener and webhook endpoints: register (idempotent per URL), list with health, remove, test."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session as DbSession

from hub.caller import current_caller
from hub.context import HubContext
from hub.delivery import signing
from hub.delivery.fanout import TEST_EVENT, matching_endpoints
from hub.errors import BadRequest, Conflict, NotFound
from hub.events import EVENT_TYPES
from hub.store import Delivery, Endpoint, Session
from hub.store.delivery import UNFINISHED, WEBHOOK_KINDS, DeliveryStatus, EndpointKind
from hub.store.models import SessionStatus
from hub.urlguard import validate_url

EVENT_FILTERS = ("all",) + EVENT_TYPES
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
# The hub sets these itself; a custom header must not replace the signature or the framing.
RESERVED_HEADERS = ("content-type", "content-length", "host", "transfer-encoding", "connection", "user-agent")
MAX_HEADERS = 20
MAX_HEADER_VALUE = 1024
# The two rules below for the OpenAPI document (normalise_events and normalise_headers check them).
EVENTS_SCHEMA = {"items": {"enum": list(EVENT_FILTERS)}}
HEADERS_SCHEMA = {"maxProperties": MAX_HEADERS, "propertyNames": {
    "pattern": HEADER_NAME.pattern,
    "not": {"anyOf": [{"pattern": "^[Ww][Ee][Bb][Hh][Oo][Oo][Kk]-"}, {"enum": list(RESERVED_HEADERS)}]}},
    "additionalProperties": {"type": "string", "maxLength": MAX_HEADER_VALUE, "pattern": "^[^\r\n\x00]*$"}}
# The hub's overall state is its best session's, in this order (/api/whatsapp/status).
OVERALL_STATES = (SessionStatus.CONNECTED, SessionStatus.QR, SessionStatus.STARTING, SessionStatus.DISCONNECTED)


def normalise_events(events: list[str] | None) -> list[str]:
    """The event filter: known type names (or 'all', the default), without duplicates."""
    if not events:
        return ["all"]
    unknown = [name for name in events if name not in EVENT_FILTERS]
    if unknown:
        raise BadRequest(f"Unknown event type(s): {', '.join(unknown)}. Valid: {', '.join(EVENT_FILTERS)}.",
                         code="invalid_event_type", validEvents=list(EVENT_FILTERS))
    return ["all"] if "all" in events else list(dict.fromkeys(events))


def normalise_headers(headers: dict[str, str] | None) -> dict[str, str]:
    """Custom headers, lower-cased; refuses invalid names/values and the ones the hub sets."""
    headers = headers or {}
    if len(headers) > MAX_HEADERS:
        raise BadRequest(f"At most {MAX_HEADERS} custom headers.", code="invalid_headers")
    clean = {}
    for name, value in headers.items():
        lowered = name.lower()
        if not HEADER_NAME.match(name) or any(ch in value for ch in "\r\n\0") or len(value) > MAX_HEADER_VALUE:
            raise BadRequest(f"Header '{name}' is not a valid HTTP header (a token name, a one-line value "
                             f"of at most 1024 characters).", code="invalid_headers")
        if lowered.startswith("webhook-") or lowered in RESERVED_HEADERS:
            raise BadRequest(f"Header '{name}' is set by the hub and cannot be overridden.",
                             code="reserved_header")
        clean[lowered] = value
    return clean


def check_secret(secret: str | None) -> str | None:
    """A given secret must be in Standard Webhooks form (whsec_ + base64 key)."""
    if secret is None:
        return None
    try:
        signing.secret_key(secret)
    except ValueError as exc:
        raise BadRequest(f"secret is invalid: {exc}.", code="invalid_secret") from None
    return secret


def require_session(db: DbSession, session_id: str | None) -> None:
    if session_id is not None and db.get(Session, session_id) is None:
        raise NotFound(f"Session '{session_id}' does not exist.", code="session_not_found")


# The filter of an endpoint registered without `events`. A shared-client bot registered without
# events expects customers' messages only, not its own sends, receipts or QR codes (README.md, "Compatibility routes").
DEFAULT_EVENTS = {EndpointKind.LISTENER: ["message-received"]}


@dataclass(frozen=True)
class EndpointSpec:
    """A listener or webhook as the caller asks for it (checked by `register`)."""

    kind: EndpointKind
    url: str
    session_id: str | None = None  # a listener for one session only; a webhook's session
    events: list[str] | None = None  # default: DEFAULT_EVENTS of the kind, else all
    headers: dict[str, str] | None = None
    secret: str | None = None  # default: generated
    # One event at a time per session, in seq order; None keeps the endpoint's setting (off for a
    # new one), so older clients that re-register at start-up do not switch it off.
    ordered: bool | None = None


def register(context: HubContext, spec: EndpointSpec) -> tuple[dict, bool]:
    """Create the endpoint, or update (and re-enable) the one with this URL; (Endpoint JSON, created).

    The secret is in the answer only when the endpoint is created: re-registering a URL never reveals
    it. On re-registration only what the caller passes changes (events, headers, secret); what it
    leaves out keeps its value.
    """
    kind, session_id, caller = spec.kind, spec.session_id, current_caller()
    field = "callbackUrl" if kind == EndpointKind.LISTENER else "url"
    url = validate_url(spec.url, context.config.block_private_urls, field)
    secret = check_secret(spec.secret)
    # A scoped key's listeners are its own (filed under its id): the same URL registered by an
    # administrator or by another key is a different listener, invisible to this key.
    key = (session_id or "") if kind in WEBHOOK_KINDS else (caller.key_id or "")
    with context.store.session() as db:
        require_session(db, session_id)
        if kind == EndpointKind.COMPAT_WEBHOOK:  # the session's one compat webhook: a new URL replaces the old one
            _delete_endpoints(db, Endpoint.kind == kind, Endpoint.session_id == session_id, Endpoint.url != url)
        endpoint = db.scalar(select(Endpoint).where(Endpoint.kind == kind, Endpoint.session_key == key,
                                                    Endpoint.url == url))
        created = endpoint is None
        if created:
            scope = None if caller.is_admin or kind in WEBHOOK_KINDS else sorted(caller.sessions)
            endpoint = Endpoint(kind=kind, url=url, session_key=key, scope=scope,
                                secret=secret or signing.generate_secret())
            db.add(endpoint)
        if spec.events is None:  # a new endpoint gets its kind's default filter; an existing one keeps its own
            events = DEFAULT_EVENTS.get(kind, ["all"]) if created else endpoint.events
        else:
            events = normalise_events(spec.events)
        headers = endpoint.headers if spec.headers is None and not created else normalise_headers(spec.headers)
        endpoint.configure(events, headers, secret, session_id, spec.ordered)
        db.flush()
        return public_view(db, endpoint, reveal_secret=created), created


def rotate_secret(context: HubContext, kinds: tuple[str, ...], endpoint_id: str, session_id: str | None = None) -> dict:
    """Give the endpoint a new generated secret; the answer is the only place it is shown."""
    with context.store.session() as db:
        require_session(db, session_id)
        endpoint = db.get(Endpoint, endpoint_id)
        other_session = session_id is not None and endpoint is not None and endpoint.session_id != session_id
        if endpoint is None or endpoint.kind not in kinds or other_session or not visible(endpoint):
            raise NotFound(f"No {kinds[0]} '{endpoint_id}'.", code=f"{kinds[0]}_not_found")
        endpoint.secret = signing.generate_secret()
        db.flush()
        return public_view(db, endpoint, reveal_secret=True)


def visible(endpoint: Endpoint) -> bool:
    """Whether the caller sees this endpoint: administrators all, a scoped key its listeners and sessions' webhooks."""
    keys = current_caller().endpoint_keys
    return keys is None or endpoint.session_key in keys


def seen_by_caller() -> tuple:
    """SQL conditions limiting endpoints to the ones the caller sees (none for an administrator)."""
    keys = current_caller().endpoint_keys
    return () if keys is None else (Endpoint.session_key.in_(keys),)


def mask(value: str) -> str:
    """A custom header value as listings show it: enough to recognise, never enough to use."""
    return f"{value[:3]}…(masked)" if len(value) >= 12 else "***"


def public_view(db: DbSession, endpoint: Endpoint, reveal_secret: bool = False,
                health: dict | None = None) -> dict:
    """The Endpoint JSON the API answers: header values masked, the secret only when `reveal_secret`."""
    health = health if health is not None else health_of(db, [endpoint.id])[endpoint.id]
    view = endpoint.to_dict(health, reveal_secret=reveal_secret)
    view["headers"] = {name: mask(value) for name, value in view["headers"].items()}
    return view


def health_of(db: DbSession, endpoint_ids: list[str]) -> dict[str, dict]:
    """{endpoint id: {pending, dead}} in one grouped query."""
    counts = {endpoint_id: {"pending": 0, "dead": 0} for endpoint_id in endpoint_ids}
    pending = func.sum(case((Delivery.status.in_(UNFINISHED), 1), else_=0))
    dead = func.sum(case((Delivery.status == DeliveryStatus.DEAD, 1), else_=0))
    rows = db.execute(select(Delivery.endpoint_id, pending, dead)
                      .where(Delivery.endpoint_id.in_(endpoint_ids)).group_by(Delivery.endpoint_id))
    for endpoint_id, pending_count, dead_count in rows:
        counts[endpoint_id] = {"pending": int(pending_count or 0), "dead": int(dead_count or 0)}
    return counts


def list_endpoints(context: HubContext, kinds: tuple[str, ...], session_id: str | None = None) -> list[dict]:
    """Endpoints of these kinds (a session's webhooks when `session_id`), oldest first, with health."""
    with context.store.session() as db:
        require_session(db, session_id)
        statement = select(Endpoint).where(Endpoint.kind.in_(kinds), *seen_by_caller()).order_by(Endpoint.created_at)
        if session_id is not None:
            statement = statement.where(Endpoint.session_id == session_id)
        endpoints = list(db.scalars(statement))
        health = health_of(db, [endpoint.id for endpoint in endpoints])
        return [public_view(db, endpoint, health=health[endpoint.id]) for endpoint in endpoints]


def unregister_listener(context: HubContext, url: str) -> int:
    """Remove the listener with this callback URL (and its deliveries); returns how many."""
    with context.store.session() as db:
        return _delete_endpoints(db, Endpoint.kind == EndpointKind.LISTENER, Endpoint.url == url.strip(),
                                 *seen_by_caller())


def remove_webhooks(context: HubContext, session_id: str, endpoint_id: str | None = None,
                    url: str | None = None) -> int:
    """Remove one webhook of a session (by id or URL), or all of them; returns how many."""
    conditions = [Endpoint.kind.in_(WEBHOOK_KINDS), Endpoint.session_id == session_id]
    if endpoint_id:
        conditions.append(Endpoint.id == endpoint_id)
    if url:
        conditions.append(Endpoint.url == url.strip())
    with context.store.session() as db:
        require_session(db, session_id)
        return _delete_endpoints(db, *conditions)


def remove_session_webhooks(db: DbSession, session_id: str) -> None:
    """SessionManager.on_delete callback: a deleted session's webhooks go with it."""
    _delete_endpoints(db, Endpoint.kind.in_(WEBHOOK_KINDS), Endpoint.session_id == session_id)


def remove_key_listeners(db: DbSession, key_id: str) -> None:
    """A deleted scoped key's listeners go with it (they were filed under its id)."""
    _delete_endpoints(db, Endpoint.kind == EndpointKind.LISTENER, Endpoint.session_key == key_id)


def _delete_endpoints(db: DbSession, *conditions) -> int:
    """Delete matching endpoints; their deliveries and attempts cascade (pending ones stop)."""
    ids = db.scalars(select(Endpoint.id).where(*conditions)).all()
    if ids:
        db.execute(delete(Endpoint).where(Endpoint.id.in_(ids)))
    return len(ids)


def send_test_event(context: HubContext, session_id: str) -> dict:
    """Record a signed `test` event for the session's webhooks; {eventId, deliveries}."""
    with context.store.session() as db:
        require_session(db, session_id)
        count = len(matching_endpoints(db, TEST_EVENT, session_id))
    if not count:
        raise Conflict(f"Session '{session_id}' has no enabled webhook to test; add one with "
                       f"POST /api/{session_id}/webhook.", code="no_webhooks")
    envelope = context.events.record(TEST_EVENT, session_id, {
        "message": "Test event from the WhatsApp hub: if you can read this, your receiver works."})
    with context.store.session() as db:
        count = db.scalar(select(func.count()).select_from(Delivery).where(Delivery.event_id == envelope["id"]))
    return {"eventId": envelope["id"], "deliveries": count}


def whatsapp_status(context: HubContext) -> dict:
    """The seed `/api/whatsapp/status` shape: overall connection state, listeners, sessions."""
    sessions = context.sessions.list()
    statuses = {session["status"] for session in sessions}
    state = next((s for s in OVERALL_STATES if s in statuses),
                 "no_sessions" if not sessions else SessionStatus.DISCONNECTED)
    with context.store.session() as db:
        listeners = db.scalar(select(func.count()).select_from(Endpoint)
                              .where(Endpoint.kind == EndpointKind.LISTENER, Endpoint.enabled, *seen_by_caller()))
    return {"connected": SessionStatus.CONNECTED in statuses, "state": state, "listeners": listeners,
            "sessions": sessions}
