"""API-key check: X-API-Key, Authorization: Bearer, or ?apiKey=. Keys are compared in constant time.

Public routes are an explicit list of Flask endpoints, never a path prefix: a prefix such as
`/api/health` also matched `/api/healthbot/webhook`, every route of a session named `healthbot`.
Unknown paths (no endpoint) need a key too, so nothing answers 404 vs 401 differently for a guess.

WebSockets also accept a single-use `?ticket=` (hub/tickets.py) instead of the key, and refuse a
browser whose Origin is not this hub (another site's page must not ride a user's ticket or key).
Behind a proxy, X-Forwarded-For is honoured only from the proxies' own addresses
(HUB_PROXY_ADDRESSES): a client that reaches the hub directly cannot claim a trusted address.
"""
from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from hub.api.errors import error_response
from hub.tickets import TicketBook

# Endpoints anyone may call: health, media files, the API docs and their assets, the dashboard
# shell and its static files (every data call the dashboard makes needs a key).
PUBLIC_ENDPOINTS = frozenset({
    "health.health", "media.uploaded_file",
    "openapi_json", "api_docs", "openapi.openapi", "openapi.doc_url", "openapi.static",
    "swagger.swagger", "swagger.static", "swagger.oauth2-redirect",
    "web.index", "web.dashboard", "web.static", "static",
})

WEBSOCKET_ENDPOINTS = frozenset({"__flask_sock.events_socket", "__flask_sock.session_socket"})


def presented_key() -> str | None:
    """The key the caller sent, from whichever place it used."""
    key = request.headers.get("X-API-Key")
    if key:
        return key
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.args.get("apiKey") or None


def key_is_valid(key: str, accepted: list[str]) -> bool:
    """Constant-time comparison against every accepted key (no early exit on a match)."""
    given = key.encode()
    matches = [hmac.compare_digest(given, candidate.encode()) for candidate in accepted]
    return any(matches)


def is_trusted_address(address: str | None, networks: list) -> bool:
    """Whether the client address belongs to HUB_TRUSTED_NETWORKS."""
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def is_public_endpoint(endpoint: str | None) -> bool:
    """Whether the matched route is one of the public endpoints (unmatched paths are not)."""
    return endpoint in PUBLIC_ENDPOINTS


def origin_allowed(origin: str | None, host: str, public_url: str) -> bool:
    """A WebSocket's Origin: none (not a browser), or the host name of this hub or of HUB_PUBLIC_URL.

    Host names only: a proxy forwards `Host` without the port the browser used.
    """
    if origin is None:
        return True
    name = urlsplit(origin).hostname
    return bool(name) and name in (urlsplit(f"//{host}").hostname, urlsplit(public_url).hostname)


def refused_origin():
    """403 for a WebSocket opened by another site's page (None when the Origin is fine)."""
    config = current_app.extensions["hub"].config
    if origin_allowed(request.headers.get("Origin"), request.host, config.public_url):
        return None
    return error_response(403, "origin_not_allowed", "WebSockets are accepted only from the hub's own pages.")


def refused_ticket(ticket: str):
    """403 unless the ticket is genuine, unexpired and unused (None: it authenticates the socket)."""
    if current_app.extensions["ws_tickets"].redeem(ticket):
        return None
    return error_response(403, "invalid_ticket", "The ticket is unknown, expired or already used; "
                                                 "get a new one from POST /api/ws-ticket.")


def check_api_key():
    """before_request hook: 401 without a key, 403 with a wrong one (WebSockets: Origin, then ticket or key)."""
    if request.method == "OPTIONS" or is_public_endpoint(request.endpoint):
        return None
    if request.endpoint in WEBSOCKET_ENDPOINTS:
        refused = refused_origin()
        if refused is not None or "ticket" in request.args:
            return refused or refused_ticket(request.args["ticket"])
    config = current_app.extensions["hub"].config
    if is_trusted_address(request.remote_addr, config.trusted_networks):
        return None
    key = presented_key()
    if key is None:
        return error_response(401, "unauthorized",
                              "An API key is required: send it as X-API-Key, "
                              "Authorization: Bearer <key>, or ?apiKey=<key>.")
    if not key_is_valid(key, config.api_keys):
        return error_response(403, "forbidden", "The API key is not valid.")
    return None


class ForwardedByProxies:
    """WSGI middleware: X-Forwarded-* headers count only when the direct peer is one of the proxies."""

    def __init__(self, app, proxies: int, addresses: list):
        self.direct, self.addresses = app, addresses
        self.forwarded = ProxyFix(app, x_for=proxies, x_proto=proxies, x_host=proxies)

    def __call__(self, environ, start_response):
        via_proxy = is_trusted_address(environ.get("REMOTE_ADDR"), self.addresses)
        return (self.forwarded if via_proxy else self.direct)(environ, start_response)


def init_app(app: Flask) -> None:
    """The key check on every request, and the WebSocket tickets it accepts."""
    app.extensions["ws_tickets"] = TicketBook(app.extensions["hub"].config.api_keys)
    app.before_request(check_api_key)
