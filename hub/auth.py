"""API-key check: X-API-Key, Authorization: Bearer, or ?apiKey=. Keys are compared in constant time.

Public routes are an explicit list of Flask endpoints, never a path prefix: a prefix such as
`/api/health` also matched `/api/healthbot/webhook`, every route of a session named `healthbot`.
Unknown paths (no endpoint) need a key too, so nothing answers 404 vs 401 differently for a guess.
"""
from __future__ import annotations

import hmac
import ipaddress

from flask import Flask, current_app, request

from hub.api.errors import error_response

# Endpoints anyone may call: health, media files, the API docs and their assets, the dashboard
# shell and its static files (every data call the dashboard makes needs a key).
PUBLIC_ENDPOINTS = frozenset({
    "health.health", "media.uploaded_file",
    "openapi_json", "api_docs", "openapi.openapi", "openapi.doc_url", "openapi.static",
    "swagger.swagger", "swagger.static", "swagger.oauth2-redirect",
    "web.index", "web.dashboard", "web.static", "static",
})


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


def check_api_key():
    """before_request hook: 401 without a key, 403 with a wrong one."""
    if request.method == "OPTIONS" or is_public_endpoint(request.endpoint):
        return None
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


def init_app(app: Flask) -> None:
    app.before_request(check_api_key)
