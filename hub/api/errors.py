"""The Flask error handlers: every error leaves the API in one JSON shape,
{"success": false, "error": "<snake_case_code>", "message": "<human sentence>"}."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from hub.errors import HubError, error_body

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, **extra):
    """The one JSON error shape, as a Flask response."""
    return jsonify(error_body(code, message, **extra)), status


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One readable sentence naming each invalid field."""
    parts = []
    for err in exc.errors()[:5]:
        location = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{prefix}{location or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def validation_error_response(exc: ValidationError):
    """Used by the OpenAPI layer (which aborts with it) for request models that fail validation."""
    response, status = error_response(400, "validation_error", describe_validation_error(exc))
    response.status_code = status
    return response


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
               429: "too_many_requests"}


def drop_tracebacks(exc: BaseException | None) -> None:
    """Unlink an answered exception (and the ones it chains) from its stack frames.

    The frames hold the request and the parsed body, and the exception is itself a local of some of
    them: a reference cycle that kept every body answered with an error alive until a full GC.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__


def answered(handler):
    """Flask's exception handling, dropping the exception's tracebacks once it has answered (and logged) it."""
    def handle(exc):
        response = handler(exc)  # an exception it re-raises keeps its traceback for the next handler
        drop_tracebacks(exc)
        return response
    return handle


def register_error_handlers(app: Flask) -> None:
    """Map HubError, HTTP errors, validation errors and crashes to the JSON shape."""
    app.handle_user_exception = answered(app.handle_user_exception)
    app.handle_exception = answered(app.handle_exception)

    @app.errorhandler(HubError)
    def hub_error(exc: HubError):
        response, status = error_response(exc.status, exc.code, exc.message, **exc.extra)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @app.errorhandler(ValidationError)
    def pydantic_error(exc: ValidationError):
        return error_response(400, "validation_error", describe_validation_error(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.response is not None:  # abort(response): the response is already in our shape
            return exc.response
        code = _HTTP_CODES.get(exc.code, "http_error")
        response = error_response(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:
            response[0].headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        # The database is down or unreachable (or a SQLite file stayed locked): nothing was changed.
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
        response, status = error_response(503, "database_unavailable",
                                          "The database is unreachable right now; nothing was changed. Try again.")
        response.headers["Retry-After"] = "5"
        return response, status

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "The hub hit an internal error; it was logged.")
