"""Who is calling: an administrator, or a scoped API key that sees only some sessions.

hub/auth.py decides it once per request (`g.caller`); services ask `current_caller()` instead of
looking at keys or paths themselves. Outside a request (start-up, scheduler jobs, the dispatcher)
the caller is the hub itself, an administrator.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import g, has_request_context

from hub.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Caller:
    """An administrator (`sessions` None: every session) or a scoped key limited to `sessions`."""

    key_id: str | None = None  # the scoped key's id (its listeners are filed under it)
    sessions: frozenset[str] | None = None
    rate_limit: str | None = None  # the key's own limit (README: "Keys and scopes"), None: the default

    @property
    def is_admin(self) -> bool:
        return self.sessions is None

    def sees(self, session_id: str | None) -> bool:
        """Whether this caller may know that the session exists."""
        return self.sessions is None or session_id in self.sessions

    def visible(self, session_ids: Iterable[str]) -> list[str]:
        """The given session ids this caller sees, in their order."""
        return [session_id for session_id in session_ids if self.sees(session_id)]

    def require_session(self, session_id: str) -> None:
        """404 session_not_found for a session outside the scope: to a scoped key it does not exist."""
        if not self.sees(session_id):
            raise NotFound(f"Session '{session_id}' does not exist.", code="session_not_found")

    def require_admin(self, action: str) -> None:
        """403 admin_required unless this caller is an administrator."""
        if not self.is_admin:
            raise Forbidden(f"Only an administrator key (HUB_API_KEY) may {action}; this key is limited to "
                            f"sessions {', '.join(sorted(self.sessions))}.", code="admin_required")

    @property
    def endpoint_keys(self) -> tuple[str, ...] | None:
        """The `session_key`s of the endpoints this caller sees: its listeners and its sessions' webhooks."""
        return None if self.sessions is None else (self.key_id or "", *sorted(self.sessions))


ADMIN = Caller()


def current_caller() -> Caller:
    """The caller of the current request; the hub itself (an administrator) outside a request."""
    if has_request_context():
        return g.get("caller", ADMIN)
    return ADMIN
