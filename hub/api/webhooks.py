"""Per-session webhooks, each with its own filter and secret.

Native routes (/api/sessions/<id>/webhooks) add several URLs per session. The older services'
route POST /api/<id>/webhook *sets* the session's one compat webhook: a second POST replaces its
URL and events (the old URL stops receiving). Listing and removing cover both kinds.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.api.common import URL_SCHEMA, Model, SessionPath, blueprint, hub, ok
from hub.api.listeners import EndpointFields
from hub.api.responses import answers, ok_model
from hub.delivery import endpoints
from hub.delivery.endpoints import EndpointSpec
from hub.store.delivery import WEBHOOK_KINDS, EndpointKind

bp = blueprint("webhooks", "Per-session webhooks with event filters")
WebhookAnswer = ok_model("WebhookAnswer", webhook=dict[str, Any])
REGISTERED = answers({200: WebhookAnswer, 201: WebhookAnswer}, 404)
LISTED = answers(ok_model("WebhookList", webhooks=list[dict[str, Any]]), 404)
REMOVED = answers(ok_model("WebhooksRemoved", removed=int), 404)
ROTATED = answers(WebhookAnswer, 404)


class WebhookBody(EndpointFields):
    url: str = Field(max_length=2048, description="http(s) URL to POST the session's events to",
                     json_schema_extra=URL_SCHEMA)

    def spec(self, kind: EndpointKind, session_id: str) -> EndpointSpec:
        return EndpointSpec(kind, self.url, session_id, self.events, self.headers, self.secret, self.ordered)


class WebhookSelector(Model):
    id: str | None = Field(None, max_length=40, description="Remove only this webhook")
    url: str | None = Field(None, max_length=2048, description="Remove only the webhook with this URL")


@bp.post("/sessions/<session_id>/webhooks", responses=REGISTERED)
def add_webhook(path: SessionPath, body: WebhookBody):
    """Add a webhook; the same URL again updates only the fields passed. The secret is shown on creation only."""
    return register(EndpointKind.WEBHOOK, path, body)


@bp.post("/<session_id>/webhook", responses=REGISTERED)
def set_webhook(path: SessionPath, body: WebhookBody):
    """Set the session's one compat webhook: a new URL replaces the previous one.

    The secret is shown on creation only.
    """
    return register(EndpointKind.COMPAT_WEBHOOK, path, body)


@bp.get("/sessions/<session_id>/webhooks", responses=LISTED)
@bp.get("/<session_id>/webhook", responses=LISTED)
def list_webhooks(path: SessionPath):
    """The session's webhooks with their delivery health."""
    return ok(webhooks=endpoints.list_endpoints(hub(), WEBHOOK_KINDS, path.session_id))


@bp.delete("/sessions/<session_id>/webhooks", responses=REMOVED)
@bp.delete("/<session_id>/webhook", responses=REMOVED)
def delete_webhooks(path: SessionPath, query: WebhookSelector):
    """Remove one webhook (?id= or ?url=) or, without either, all of the session's webhooks."""
    return ok(removed=endpoints.remove_webhooks(hub(), path.session_id, query.id, query.url))


@bp.post("/<session_id>/webhook/test",
         responses=answers(ok_model("WebhookTest", eventId=str, deliveries=int), 404, 409))
def test_webhooks(path: SessionPath):
    """Send a signed `test` event to the session's webhooks."""
    return ok(**endpoints.send_test_event(hub(), path.session_id))


class WebhookPath(SessionPath):
    webhook_id: str = Field(max_length=40, description="A webhook's id")


@bp.post("/sessions/<session_id>/webhooks/<webhook_id>/rotate-secret", responses=ROTATED)
@bp.post("/<session_id>/webhook/<webhook_id>/rotate-secret", responses=ROTATED)
def rotate_webhook_secret(path: WebhookPath):
    """Replace the webhook's signing secret with a new one, shown in this answer only."""
    return ok(webhook=endpoints.rotate_secret(hub(), WEBHOOK_KINDS, path.webhook_id, path.session_id))


def register(kind: EndpointKind, path: SessionPath, body: WebhookBody):
    """Create or update a webhook of this kind: 201 when created, 200 when updated."""
    webhook, created = endpoints.register(hub(), body.spec(kind, path.session_id))
    return ok(webhook=webhook), 201 if created else 200
