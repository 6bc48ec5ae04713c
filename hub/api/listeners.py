"""Listeners (callback URLs for all sessions or one) and the seed-compatible /api/whatsapp/status."""
from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field

from hub.api.common import URL_SCHEMA, Model, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.delivery import endpoints
from hub.delivery.endpoints import EndpointSpec
from hub.delivery.signing import SECRET_PATTERN
from hub.rules import SESSION_ID_PATTERN
from hub.store.delivery import EndpointKind

bp = blueprint("listeners", "Callback URLs that receive signed events", url_prefix="/api/whatsapp")
ListenerAnswer = ok_model("ListenerAnswer", listener=dict[str, Any])


class EndpointFields(Model):
    """What listeners and webhooks share: filter, custom headers, signing secret."""

    events: list[str] | None = Field(None, description="Event types to receive (default: all)",
                                     json_schema_extra=endpoints.EVENTS_SCHEMA)
    headers: dict[str, str] | None = Field(None, description="Extra headers sent with every delivery",
                                           json_schema_extra=endpoints.HEADERS_SCHEMA)
    secret: str | None = Field(None, max_length=128, json_schema_extra={"pattern": SECRET_PATTERN},
                               description="Signing secret (whsec_ + base64 of 16-64 bytes); generated when absent")
    ordered: bool | None = Field(None, description="Deliver one event at a time per session, in seq order "
                                 "(a failing event holds back the later ones); default false, kept when absent")


# The shared-client callers name the URL callbackUrl, url or callback (README.md, "Compatibility routes").
CallbackUrl = Field(alias="callbackUrl", validation_alias=AliasChoices("callbackUrl", "url", "callback"),
                    max_length=2048, description="http(s) URL to POST events to (also accepted as url or callback)",
                    json_schema_extra=URL_SCHEMA)


class ListenerBody(EndpointFields):
    callback_url: str = CallbackUrl
    session_id: str | None = Field(None, alias="sessionId", pattern=SESSION_ID_PATTERN,
                                   description="Only this session's events (default: every session)")

    def spec(self) -> EndpointSpec:
        return EndpointSpec(EndpointKind.LISTENER, self.callback_url, self.session_id, self.events, self.headers,
                            self.secret, self.ordered)


class UnregisterBody(Model):
    # Any string: a URL that is no listener's (valid or not) removes nothing.
    callback_url: str = Field(alias="callbackUrl", validation_alias=AliasChoices("callbackUrl", "url", "callback"),
                              max_length=2048, description="The listener's URL (also accepted as url or callback)")


@bp.post("/register-listener", responses=answers({200: ListenerAnswer, 201: ListenerAnswer}, 404))
def register_listener(body: ListenerBody):
    """Register a callback URL; again, it updates only the fields passed. The secret is shown on creation only.

    Registered without `events`, a listener gets message-received only.
    """
    listener, created = endpoints.register(hub(), body.spec())
    return ok(listener=listener), 201 if created else 200


@bp.post("/unregister-listener", responses=answers(ok_model("ListenerRemoved", removed=int)))
def unregister_listener(body: UnregisterBody):
    """Remove a listener; its pending deliveries stop."""
    return ok(removed=endpoints.unregister_listener(hub(), body.callback_url))


class ListenerPath(Model):
    listener_id: str = Field(max_length=40, description="A listener's id")


@bp.post("/listeners/<listener_id>/rotate-secret", responses=answers(ListenerAnswer, 404))
def rotate_listener_secret(path: ListenerPath):
    """Replace the listener's signing secret with a new one, shown in this answer only."""
    return ok(listener=endpoints.rotate_secret(hub(), (EndpointKind.LISTENER,), path.listener_id))


@bp.get("/listeners", responses=answers(ok_model("ListenerList", listeners=list[dict[str, Any]])))
def list_listeners():
    """Every listener with its delivery health."""
    return ok(listeners=endpoints.list_endpoints(hub(), (EndpointKind.LISTENER,)))
