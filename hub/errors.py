"""HubError and its kinds: what a service raises when a caller asked for something it cannot have.

No HTTP here (the engines, JID parsing and the URL guard raise these too): each class carries
the status and snake_case code the API answers with; hub/api/errors.py turns them into the one
JSON shape.
"""
from __future__ import annotations


class HubError(Exception):
    """An error the API reports to its caller as-is."""

    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds, for a Retry-After header (a 503 worth retrying soon)

    def __init__(self, message: str, code: str | None = None, status: int | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status
        self.extra = extra


class BadRequest(HubError):
    status, code = 400, "bad_request"


class Forbidden(HubError):
    status, code = 403, "forbidden"


class NotFound(HubError):
    status, code = 404, "not_found"


class Conflict(HubError):
    status, code = 409, "conflict"


class PayloadTooLarge(HubError):
    status, code = 413, "payload_too_large"


class BodyTooLarge(PayloadTooLarge):
    """A request body over its route's limit (refused before it is read)."""

    code = "body_too_large"

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than this route accepts ({describe_size(limit)}).",
                         limit=limit)


class InvalidJson(BadRequest):
    code = "invalid_json"


class Unavailable(HubError):
    status, code = 503, "unavailable"


def describe_size(size: int) -> str:
    """'1 MB', '90.4 MB', '512 bytes': a limit as people read it."""
    if size < 1024 * 1024:
        return f"{size} bytes"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def error_body(code: str, message: str, **extra) -> dict:
    """The one error shape: HTTP answers (hub/api/errors.py), Socket.IO refusals and `error` events."""
    return {"success": False, "error": code, "message": message, **extra}
