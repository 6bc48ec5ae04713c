"""Per-session webhooks (several URLs per session, each with its own filter and secret)."""
from __future__ import annotations

from pydantic import Field

from hub.api.common import Model, SessionPath, blueprint, hub, ok
from hub.api.listeners import EndpointFields
from hub.delivery import endpoints
from hub.delivery.endpoints import EndpointSpec

bp = blueprint("webhooks", "Per-session webhooks with event filters")


class WebhookBody(EndpointFields):
    url: str = Field(max_length=2048, description="http(s) URL to POST the session's events to")

    def spec(self, session_id: str) -> EndpointSpec:
        return EndpointSpec("webhook", self.url, session_id, self.events, self.headers, self.secret, self.ordered)


class WebhookSelector(Model):
    id: str | None = Field(None, max_length=40, description="Remove only this webhook")
    url: str | None = Field(None, max_length=2048, description="Remove only the webhook with this URL")


@bp.post("/<session_id>/webhook")
def set_webhook(path: SessionPath, body: WebhookBody):
    """Add a webhook; the same URL again updates only the fields passed. The secret is shown on creation only."""
    webhook, created = endpoints.register(hub(), body.spec(path.session_id))
    return ok(webhook=webhook), 201 if created else 200


@bp.get("/<session_id>/webhook")
def list_webhooks(path: SessionPath):
    """The session's webhooks with their delivery health."""
    return ok(webhooks=endpoints.list_endpoints(hub(), "webhook", path.session_id))


@bp.delete("/<session_id>/webhook")
def delete_webhooks(path: SessionPath, query: WebhookSelector):
    """Remove one webhook (?id= or ?url=) or, without either, all of the session's webhooks."""
    return ok(removed=endpoints.remove_webhooks(hub(), path.session_id, query.id, query.url))


@bp.post("/<session_id>/webhook/test")
def test_webhooks(path: SessionPath):
    """Send a signed `test` event to the session's webhooks."""
    return ok(**endpoints.send_test_event(hub(), path.session_id))


class WebhookPath(SessionPath):
    webhook_id: str = Field(max_length=40, description="A webhook's id")


@bp.post("/<session_id>/webhook/<webhook_id>/rotate-secret")
def rotate_webhook_secret(path: WebhookPath):
    """Replace the webhook's signing secret with a new one, shown in this answer only."""
    return ok(webhook=endpoints.rotate_secret(hub(), "webhook", path.webhook_id, path.session_id))
