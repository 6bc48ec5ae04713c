"""What happens to a mapped message or receipt: it becomes a stored hub event.

Inbound media (download to uploads/, `media.fileUrl`) and the message history hook in here.
"""
from __future__ import annotations

from hub.sessions.mapping import HubEventDraft


def ingest(manager, session_id: str, draft: HubEventDraft) -> dict:
    """Record the event for `draft`; returns its envelope."""
    live = manager.live.get(session_id)
    sandbox = live is not None and live.engine.name == "sandbox"
    return manager.events.record(draft.type, session_id, draft.data, sandbox=sandbox)
