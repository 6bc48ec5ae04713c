"""Request bodies: read only after routing and authentication, with a size limit per route.

A body is never read for a path that matched no route (404), a wrong method (405) or a caller
without a valid key (401/403): before this, JSON was parsed ahead of all of that, so anyone could
make the worker hold large bodies. A declared Content-Length over the route's limit is refused with
413 before a byte is read; a chunked body is read up to the limit (and one byte) and then refused.
A JSON body must be an object: a JSON *string* would otherwise be parsed a second time downstream.
"""
from __future__ import annotations

from flask import current_app, request

from hub.errors import BodyTooLarge, InvalidJson

JSON_LIMIT = 1024 * 1024  # bodies without media
# Routes whose body may carry a file as base64 (4/3 of the file) next to its other fields.
MEDIA_ENDPOINTS = frozenset({"send.send", "compat.send_document", "compat.send_pdf", "compat.send_media",
                             "sandbox.inbound"})
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def media_body_limit(max_media_bytes: int) -> int:
    """The largest body that can carry a file of HUB_MAX_MEDIA_MB as base64, plus its other fields."""
    return int(max_media_bytes * 4 / 3) + JSON_LIMIT


def body_limit(endpoint: str | None) -> int:
    """The size limit of the matched route's body."""
    if endpoint in MEDIA_ENDPOINTS:
        return media_body_limit(current_app.extensions["hub"].config.max_media_bytes)
    return JSON_LIMIT


def check_body():
    """before_request hook (after the key check): enforce the route's limit, then require a JSON object."""
    if request.routing_exception is not None:
        return None  # 404/405 follow without touching the body
    limit = body_limit(request.endpoint)
    # werkzeug silently stops reading a chunked body at max_content_length: one byte more tells it was cut.
    request.max_content_length = limit + 1
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit)
    if request.method in BODY_METHODS and request.is_json:
        require_json_object(limit)
    return None


def require_json_object(limit: int) -> None:
    """413 over the limit; 400 unless the body is empty (validates like {}) or one JSON object."""
    data = request.get_data(cache=True)
    if len(data) > limit:
        raise BodyTooLarge(limit)
    if not data:
        return
    parsed = request.get_json(silent=True)
    if parsed is None:
        raise InvalidJson("The request body is not valid JSON.")
    if not isinstance(parsed, dict):
        raise InvalidJson(f"The request body must be a JSON object, not a JSON {type(parsed).__name__}.")

