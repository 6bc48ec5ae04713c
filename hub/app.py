"""create_app(config=None): config, store, services, blueprints, error handlers. Starts nothing."""
from __future__ import annotations

from flask import redirect
from flask_openapi3 import Info, OpenAPI

from hub import auth, calls, delivery, sandbox
from hub.api.errors import register_error_handlers, validation_error_response
from hub.api.responses import Error, finish_document
from hub.cluster import broadcast
from hub.cluster.node import Node, node_id_for
from hub.cluster.notify import Listener
from hub.config import Config
from hub.contacts import service as contacts
from hub.context import HubContext
from hub.delivery.fanout import Targets
from hub.events import EventBus, EventLog
from hub.keys import KeyCache
from hub.media import downloads
from hub.metrics import HubMetrics
from hub.outbound.pacing import Pacer
from hub.ratelimit.buckets import buckets_for
from hub.sessions.manager import SessionManager
from hub.store import Store

SECURITY_SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "bearer": {"type": "http", "scheme": "bearer"},
    "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "apiKey"},
}


def build_context(config: Config) -> HubContext:
    """Wire the services together (no threads, no connections)."""
    store = Store(config.database_url)
    bus = EventBus()
    events = EventLog(store, bus)
    node = Node(node_id_for(config), clustered=False, lease_ttl=config.lease_ttl)
    sessions = SessionManager(config, store, events, node)
    targets = Targets(store)
    delivery.install(events, sessions, targets)
    downloads.install(sessions)
    listener = Listener(config.database_url)
    sandbox.install(sessions, listener)
    context = HubContext(config=config, store=store, bus=bus, events=events, sessions=sessions, targets=targets,
                         pacer=Pacer(config.send_interval), metrics=HubMetrics(store, node),
                         limiter=buckets_for(store.engine), node=node, keys=KeyCache(),
                         listener=listener)
    calls.install(context)
    contacts.install(context)
    broadcast.install(context)
    return context


class HubOpenAPI(OpenAPI):
    """flask-openapi3's app; its document finished by hub/api/responses.py (bodies that may be left out)."""

    def generate_spec_json(self):
        super().generate_spec_json()
        finish_document(self.spec_json)


def create_app(config: Config | None = None) -> OpenAPI:
    """Build the Flask app. Migrates the schema; connects nothing, starts nothing."""
    config = (config or Config.from_env()).with_api_key_file()
    app = HubOpenAPI(__name__, info=Info(title="WhatsApp hub", version="1.0.0"),
                     security_schemes=SECURITY_SCHEMES, doc_prefix="/api-docs",
                     validation_error_status=400, validation_error_model=Error,
                     validation_error_callback=validation_error_response)
    app.config.update(JSON_SORT_KEYS=False)
    app.json.sort_keys = False
    context = build_context(config)
    context.store.migrate()
    app.extensions["hub"] = context
    register_error_handlers(app)
    auth.init_app(app)  # the key check, the body check, the scope check
    from hub import api, socket_io, ws
    from hub.web import views

    api.register(app)
    ws.init_app(app)
    app.register_blueprint(views.bp)
    app.add_url_rule("/openapi.json", "openapi_json", lambda: app.api_doc)
    app.add_url_rule("/api-docs", "api_docs", lambda: redirect("/api-docs/swagger"))
    socket_io.install(app)
    if config.proxies:  # outermost, so that Socket.IO sees the client's address too
        app.wsgi_app = auth.ForwardedByProxies(app.wsgi_app, config.proxies, config.proxy_addresses)
    return app

