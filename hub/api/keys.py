"""Scoped API keys (administrators only): create (the key is shown once), list, delete."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from hub import keys
from hub.api.common import Model, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.rules import SESSION_ID_PATTERN

bp = blueprint("keys", "API keys limited to some sessions (administrators only)")

SessionId = Annotated[str, Field(pattern=SESSION_ID_PATTERN)]


class CreateKey(Model):
    name: str = Field(min_length=1, max_length=100, description="What the key is for (shown in listings)")
    sessions: list[SessionId] = Field(min_length=1, max_length=1000,
                                      description="The sessions the key may use (to it, no other session exists)")
    rate_limit: str | None = Field(None, alias="rateLimit", max_length=64,
                                   description="This key's API rate limit, e.g. '50/s burst 100' "
                                               "(default: HUB_RATE_LIMIT)")


class KeyView(BaseModel):
    id: str = Field(description="key_…")
    name: str
    prefix: str = Field(description="The key's first characters (enough to recognise it, not to use it)")
    sessions: list[str]
    rateLimit: str | None
    createdAt: str


class NewKeyView(KeyView):
    key: str = Field(description="The key itself: shown in this answer only (the hub keeps only its hash)")


class KeyPath(Model):
    key_id: str = Field(max_length=40, description="A key's id (key_…)")


@bp.post("/keys", responses=answers({201: ok_model("KeyCreated", key=NewKeyView)}))
def create_key(body: CreateKey):
    """Create a key limited to `sessions`; the answer's `key` is shown this once (only its hash is stored)."""
    return ok(key=keys.create_key(hub(), body.name, body.sessions, body.rate_limit)), 201


@bp.get("/keys", responses=answers(ok_model("KeyList", keys=list[KeyView])))
def list_keys():
    """Every scoped key (id, name, prefix, sessions, rate limit); never the keys themselves."""
    return ok(keys=keys.list_keys(hub()))


@bp.delete("/keys/<key_id>", responses=answers(ok_model("KeyDeleted", deleted=KeyView), 404))
def delete_key(path: KeyPath):
    """Revoke a key at once; the listeners it registered are removed with it."""
    return ok(deleted=keys.delete_key(hub(), path.key_id))
