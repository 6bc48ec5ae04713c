"""POST /api/ws-ticket: a single-use ticket for opening a WebSocket without the key in its URL."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from hub.api.common import blueprint, ok
from hub.api.responses import answers, ok_model
from hub.caller import current_caller

bp = blueprint("websocket", "Tickets for /ws/events and /ws/session/<id>")


@bp.post("/ws-ticket", responses=answers(ok_model("WsTicket", ticket=str, expiresAt=str)))
def ws_ticket():
    """A ticket for one WebSocket (`?ticket=`), valid once within about 30 seconds."""
    ticket, expires = current_app.extensions["ws_tickets"].issue(holder=current_caller().key_id or "")
    return ok(ticket=ticket, expiresAt=datetime.fromtimestamp(expires, UTC).isoformat())
