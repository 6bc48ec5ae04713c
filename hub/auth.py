"""API-key check: X-API-Key, Authorization: Bearer, or ?apiKey=. Keys are compared in constant time.

Public routes are an explicit list of Flask endpoints, never a path prefix: a prefix such as
`/api/health` also matched `/api/healthbot/webhook`, every route of a session named `healthbot`.
Unknown paths (no endpoint) need a key too, so nothing answers 404 vs 401 differently for a guess.

WebSockets also accept a single-use `?ticket=` (hub/tickets.py) instead of the key, and refuse a
browser whose Origin is not this hub (another site's page must not ride a user's ticket or key).
Behind a proxy, X-Forwarded-For is honoured only from the proxies' own addresses
(HUB_PROXY_ADDRESSES): a client that reaches the hub directly cannot claim a trusted address.

The check decides who the caller is, once (`g.caller`, hub/caller.py): an administrator (a
HUB_API_KEY key, or a trusted-network request that shows no scoped key) or a scoped key. To a
scoped key every other session does not exist: a request naming one in its path (`<session_id>`),
its query or its JSON body (`sessionId`) is a 404 before any view runs; services filter listings
and refuse administrator-only actions through the same caller.
"""
from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from hub import body, request_limits
from hub.api.errors import error_response
from hub.caller import ADMIN, Caller, current_caller
from hub.keys import caller_for_id, caller_for_key
from hub.tickets import TicketBook

# Endpoints anyone may call: health, media files, the API docs and their assets, the dashboard
# shell and its static files (every data call the dashboard makes needs a key).
PUBLIC_ENDPOINTS = frozenset({
    "health.health", "media.uploaded_file",
    "openapi_json", "api_docs", "openapi.openapi", "openapi.doc_url", "openapi.static",
    "swagger.swagger", "swagger.static", "swagger.oauth2-redirect",
    "web.index", "web.dashboard", "web.static", "static",
})

# Endpoints only administrators may call: a scoped key gets 403 admin_required, whatever it names.
ADMIN_ENDPOINTS = frozenset({"keys.create_key", "keys.list_keys", "keys.delete_key", "sessions.create_session",
                             "metrics.metrics", "cluster.cluster"})
# Blueprints of the simulated WhatsApp: a route of theirs that names no session changes the network
# every sandbox session shares (a contact's privacy, a number's existence), so it is an administrator's too.
SANDBOX_BLUEPRINTS = ("sandbox",)

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
    return key_index(key, accepted) is not None


def key_index(key: str, accepted: list[str]) -> int | None:
    """The key's position among the accepted keys, compared in constant time against every one."""
    given = key.encode()
    matches = [hmac.compare_digest(given, candidate.encode()) for candidate in accepted]
    return matches.index(True) if any(matches) else None


def bucket_name(caller: Caller, key: str | None, admin_keys: list[str]) -> str:
    """The caller's public name for its rate limit and metrics: a scoped key's id, admin-N, or addr:<client>."""
    if caller.key_id:
        return caller.key_id
    index = key_index(key, admin_keys) if key is not None else None
    return f"admin-{index + 1}" if index is not None else f"addr:{request.remote_addr}"


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
    """403 unless the ticket is genuine, unexpired and unused (None: it authenticates the socket as its holder)."""
    book = current_app.extensions["ws_tickets"]
    holder = book.holder_of(ticket) if book.redeem(ticket) else None
    caller = None if holder is None else caller_for_id(current_app.extensions["hub"], holder) if holder else ADMIN
    if caller is None:
        return error_response(403, "invalid_ticket", "The ticket is unknown, expired or already used; "
                                                     "get a new one from POST /api/ws-ticket.")
    g.caller = caller
    return None


def caller_for(key: str) -> Caller | None:
    """An administrator for a HUB_API_KEY key, the scoped caller of a scoped key, else None."""
    context = current_app.extensions["hub"]
    if key_is_valid(key, context.config.api_keys):
        return ADMIN
    return caller_for_key(context, key)


def check_api_key():
    """before_request hook: 401 without a key, 403 with a wrong one (WebSockets: Origin, then ticket or key)."""
    if request.method == "OPTIONS" or is_public_endpoint(request.endpoint):
        return None
    if request.endpoint in WEBSOCKET_ENDPOINTS:
        refused = refused_origin()
        if refused is not None or "ticket" in request.args:
            return refused or refused_ticket(request.args["ticket"])
    key = presented_key()
    caller = caller_for(key) if key is not None else None
    trusted = current_app.extensions["hub"].config.trusted_networks
    if caller is None and is_trusted_address(request.remote_addr, trusted):
        caller = ADMIN  # the older internal clients send no key: they administer the hub
    if caller is None:
        return refusal(key)
    g.caller = caller
    g.rate_bucket = bucket_name(caller, key, current_app.extensions["hub"].config.api_keys)
    return None


def refusal(key: str | None):
    """401 without a key, 403 with one that is neither HUB_API_KEY nor a scoped key."""
    if key is None:
        return error_response(401, "unauthorized",
                              "An API key is required: send it as X-API-Key, "
                              "Authorization: Bearer <key>, or ?apiKey=<key>.")
    return error_response(403, "forbidden", "The API key is not valid.")


def named_sessions() -> list:
    """The session ids a request names: in its path, its query and its JSON body (`sessionId`)."""
    names = [(request.view_args or {}).get("session_id"), request.args.get("sessionId")]
    if request.is_json and request.method in body.BODY_METHODS:
        given = request.get_json(silent=True)
        names.append(given.get("sessionId") if isinstance(given, dict) else None)
    return [name for name in names if isinstance(name, str) and name]


def is_admin_route(endpoint: str | None, blueprint: str | None, view_args: dict) -> bool:
    """Whether only administrators may call this route (ADMIN_ENDPOINTS, and the shared sandbox network's)."""
    shared_sandbox = (blueprint or "").startswith(SANDBOX_BLUEPRINTS) and "session_id" not in view_args
    return endpoint in ADMIN_ENDPOINTS or shared_sandbox


def check_scope():
    """before_request hook (after the body check): scoped keys get 403 on admin routes, 404 for other sessions."""
    caller = current_caller()
    if caller.is_admin or request.routing_exception is not None:
        return None
    if is_admin_route(request.endpoint, request.blueprint, request.view_args or {}):
        caller.require_admin("call this route")
    for session_id in named_sessions():
        caller.require_session(session_id)
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
    """The key check on every request, its rate limit, and the WebSocket tickets it accepts."""
    app.extensions["ws_tickets"] = TicketBook(app.extensions["hub"].config.api_keys)
    app.before_request(check_api_key)
    app.before_request(request_limits.limit_request)  # a caller is known by now, and no body was read
    app.before_request(body.check_body)  # after the key check: no body is read for 401/403/404/405
    app.before_request(check_scope)
