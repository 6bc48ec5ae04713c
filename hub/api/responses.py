"""What each route answers, as the OpenAPI document shows it: the success body and every error status.

Every route declares its answers in its decorator, next to the request models that validate it:

    @bp.get("/sessions/<session_id>", responses=answers(SessionAnswer, 404))

`answers(success, *statuses)` documents the success body (a model for 200, or `{201: Model, ...}`)
and the error statuses only this route gives; the ones every route of a blueprint can give (400
invalid input, 401/403 the key, 413 a body over the route's limit) come from `blueprint()` in
hub/api/common.py. Every error is the one `Error` shape of hub/api/errors.py, never flask-openapi3's
validation array. tests/api/test_openapi.py fails when a route documents no success answer, and
tests/contract runs schemathesis against a real hub to check that the answers match what it sends.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

ERROR_STATUSES = {400: "Invalid input", 401: "No API key", 403: "Wrong API key, or not allowed",
                  404: "No such resource", 409: "Not possible in the resource's current state",
                  413: "Body over the route's limit", 415: "Unsupported media type",
                  416: "The Range lies outside the file", 429: "Too many requests",
                  503: "A dependency is unavailable; try again"}
# Every route of an API blueprint: invalid input, the key missing or wrong, a body over its limit, too many requests.
COMMON_ERRORS = (400, 401, 403, 413, 429)  # 429: the caller's rate limit (hub/request_limits.py)
PUBLIC_ERRORS = (400, 413)


class Error(BaseModel):
    """The one error shape: {"success": false, "error": "<snake_case_code>", "message": "<human sentence>"}."""

    model_config = ConfigDict(extra="allow", title="Error")

    success: Literal[False]
    error: str = Field(pattern=r"^[a-z0-9_]+$", description="Machine-readable code, snake_case")
    message: str = Field(description="A sentence for people")


class Ok(BaseModel):
    """A success body: {"success": true, ...}; the route's model names its fields."""

    model_config = ConfigDict(extra="allow")

    success: Literal[True]


# gunicorn answers a request line over its limit (4094 bytes: long query values) itself, before the hub.
URI_TOO_LONG = {414: {"description": "Request line too long (answered by gunicorn, as HTML)",
                      "content": {"text/html": {"schema": {"type": "string"}}}}}


def error_responses(*statuses: int) -> dict[int, Any]:
    """The `Error` model under each status, described."""
    return {status: {"description": ERROR_STATUSES.get(status, "Error"), "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}} for status in statuses}


def answers(success: type[BaseModel] | dict[int, Any] = Ok, *statuses: int) -> dict[int, Any]:
    """A route's `responses=`: its success body (a model for 200, or {status: model}) and its own errors."""
    documented = success if isinstance(success, dict) else {200: success}
    return {**documented, **error_responses(*statuses)}


def finish_document(document: dict) -> dict:
    """What flask-openapi3 cannot say: a body whose fields are all optional may be left out (it reads as {})."""
    schemas = document.get("components", {}).get("schemas", {})
    for item in document.get("paths", {}).values():
        for operation in item.values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            name = body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            if name in schemas and not schemas[name].get("required"):
                operation["requestBody"]["required"] = False
    return document


def content(media_type: str, description: str, schema: dict | None = None) -> dict:
    """A success answer that is not JSON (an image, Prometheus text, a file)."""
    return {"description": description, "content": {media_type: {"schema": schema or {"type": "string"}}}}


def ok_model(name: str, **fields: Any) -> type[Ok]:
    """An `Ok` body with these required fields: ok_model("SessionAnswer", session=SessionView)."""
    return create_model(name, __base__=Ok, **{key: (kind, ...) for key, kind in fields.items()})
