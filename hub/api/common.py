"""Request models and helpers shared by the blueprints."""
from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.rules import SESSION_ID_PATTERN

SECURITY = [{"apiKey": []}, {"bearer": []}, {"apiKeyQuery": []}]


def blueprint(name: str, description: str, url_prefix: str = "/api") -> APIBlueprint:
    """A blueprint whose routes are documented under one tag and need the API key."""
    return APIBlueprint(name, __name__, url_prefix=url_prefix, abp_tags=[Tag(name=name, description=description)],
                        abp_security=SECURITY)


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
    offset: int = Field(0, ge=0)


def ok(**fields) -> dict:
    """A success body: {"success": true, ...}."""
    return {"success": True, **fields}
