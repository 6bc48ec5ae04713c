"""GET /api/health (public): is the hub up, and a count of sessions by status."""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select, text

from hub.api.common import blueprint, hub
from hub.api.responses import answers, ok_model
from hub.sessions import converter
from hub.store import Session

bp = blueprint("health", "Liveness and readiness", public=True)
STARTED = time.time()


@bp.get("/health", security=[], responses=answers(ok_model(
    "Health", status=str, uptimeSeconds=float, sessions=dict[str, int], capabilities=dict[str, Any]), 503))
def health():
    """Liveness: the process answers, the database is reachable; what the engine can send."""
    with hub().store.session() as db:
        db.execute(text("SELECT 1"))
        counts = dict(db.execute(select(Session.status, func.count()).group_by(Session.status)).all())
    return {"success": True, "status": "ok", "uptimeSeconds": round(time.time() - STARTED, 1),
            "sessions": counts, "capabilities": converter.capabilities()}
