"""sessions.config.json: the sessions a hub creates (when missing) and starts at every boot.

The file holds a list, or `{"sessions": [...]}`; an entry is a session id, or an object with
`sessionId` (or `id`) and optionally `description` and `engine`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SessionEntry:
    """One session listed in the file."""

    session_id: str
    description: str = ""
    engine: str | None = None


def read_entries(path: str) -> list[SessionEntry]:
    """The sessions the file lists; none when it does not exist."""
    file = Path(path)
    if not file.exists():
        return []
    entries = json.loads(file.read_text())
    entries = entries.get("sessions", []) if isinstance(entries, dict) else entries
    return [_entry({"sessionId": entry} if isinstance(entry, str) else entry) for entry in entries]


def _entry(entry: dict) -> SessionEntry:
    return SessionEntry(entry.get("sessionId") or entry.get("id"), entry.get("description", ""), entry.get("engine"))
