"""Request models and helpers shared by the blueprints."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from flask import current_app
from flask_openapi3 import APIBlueprint, Tag
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hub.api.responses import COMMON_ERRORS, PUBLIC_ERRORS, URI_TOO_LONG, error_responses
from hub.context import HubContext
from hub.errors import BadRequest
from hub.rules import PHONE_PATTERN, RECIPIENT_NUMBER, RECIPIENT_PATTERN, SESSION_ID_PATTERN, URL_PATTERN, integral

SECURITY = [{"apiKey": []}, {"bearer": []}, {"apiKeyQuery": []}]
# Every integer a caller sends ends up in SQL: beyond a signed 64-bit integer SQLite raises (a 500).
INT64_MAX = 2**63 - 1


def as_utc(value: datetime) -> datetime:
    """A caller's datetime as aware UTC: one without an offset is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

# A phone number or JID, checked by sessions/jids.normalise_jid (invalid_recipient); a number as digits.
Recipient = str | Annotated[int, Field(ge=RECIPIENT_NUMBER["minimum"], le=RECIPIENT_NUMBER["maximum"]),
                            BeforeValidator(integral)]
RECIPIENT_SCHEMA = {"pattern": RECIPIENT_PATTERN}
PHONE_SCHEMA = {"pattern": PHONE_PATTERN}  # checked by contacts/numbers.phone_digits (invalid_phone)
URL_SCHEMA = {"pattern": URL_PATTERN}  # checked by urlguard.parse (invalid_url)


def hub() -> HubContext:
    """The current app's components (inside a request or app context)."""
    return current_app.extensions["hub"]


def blueprint(name: str, description: str, url_prefix: str = "/api", public: bool = False) -> APIBlueprint:
    """A blueprint whose routes are documented under one tag and need the API key (unless public).

    Its routes document the errors every route can give; each route adds its own with
    `responses=answers(...)` (hub/api/responses.py).
    """
    return APIBlueprint(name, __name__, url_prefix=url_prefix, abp_tags=[Tag(name=name, description=description)],
                        abp_security=[] if public else SECURITY,
                        abp_responses={**error_responses(*(PUBLIC_ERRORS if public else COMMON_ERRORS)),
                                       **URI_TOO_LONG})


# Seconds a call that starts a session waits for its first outcome (a QR, connected, or why not).
START_SETTLE = 5.0


class Model(BaseModel):
    """Request models ignore unknown fields (older clients send extras) and never coerce types."""

    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_body_is_empty(cls, data):
        """A request without a body validates like `{}`: bodies whose fields are all optional need none."""
        return {} if data is None else data


class SessionPath(Model):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, description="Session id")


class Page(Model):
    model_config = ConfigDict(extra="ignore", strict=False)

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=INT64_MAX)


def check_range(since: datetime | None, until: datetime | None) -> None:
    """400 unless `until` is later than `since` (when both are given)."""
    if since is not None and until is not None and until <= since:
        raise BadRequest("until must be later than since.", code="invalid_range")


def ok(**fields) -> dict:
    """A success body: {"success": true, ...}."""
    return {"success": True, **fields}
