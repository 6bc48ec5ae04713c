"""Reading the send queue for the API: one accepted send's state."""
from __future__ import annotations

from hub.caller import current_caller
from hub.context import HubContext
from hub.errors import NotFound
from hub.store import Outbound


def get(context: HubContext, outbound_id: str) -> dict:
    """One accepted send's state; 404 if unknown."""
    with context.store.session() as db:
        row = Outbound.by_id(db, outbound_id)
        if row is None or not current_caller().sees(row.session_id):
            raise NotFound(f"Outbound message '{outbound_id}' does not exist.", code="outbound_not_found")
        return row.to_dict()
