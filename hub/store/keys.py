"""Scoped API keys: only a SHA-256 of each key is stored; the key itself is shown once, at creation."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy.orm import Mapped, mapped_column

from hub.caller import Caller
from hub.store.ids import new_id
from hub.store.models import Base, CleanString, isoformat, utcnow

KEY_PREFIX = "hubk_"  # recognisable in a config file or a leak report, and tells scoped keys from HUB_API_KEY
HINT_LENGTH = len(KEY_PREFIX) + 6  # what listings show of a key: enough to tell keys apart, useless to call with


def key_hash(key: str) -> str:
    """The stored form of a key (hex SHA-256: 256 random bits need no slow hash)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(Base):
    """A key limited to some sessions (administrators use HUB_API_KEY)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(CleanString(40), primary_key=True, default=lambda: new_id("key"))
    name: Mapped[str] = mapped_column(CleanString(100))
    hint: Mapped[str] = mapped_column(CleanString(16))
    hash: Mapped[str] = mapped_column(CleanString(64), unique=True)
    sessions: Mapped[list] = mapped_column(JSON)
    rate_limit: Mapped[str | None] = mapped_column(CleanString(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def issue(cls, name: str, sessions: list[str], rate_limit: str | None) -> tuple[ApiKey, str]:
        """A new key row and the key itself (which is not stored)."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        return cls(name=name, hint=key[:HINT_LENGTH], hash=key_hash(key), sessions=sorted(set(sessions)),
                   rate_limit=rate_limit), key

    def caller(self) -> Caller:
        """The caller this key stands for (hub/caller.py)."""
        return Caller(key_id=self.id, sessions=frozenset(self.sessions), rate_limit=self.rate_limit)

    def to_dict(self) -> dict:
        """The key's public view (never the key or its hash)."""
        return {"id": self.id, "name": self.name, "prefix": self.hint, "sessions": list(self.sessions),
                "rateLimit": self.rate_limit, "createdAt": isoformat(self.created_at)}
