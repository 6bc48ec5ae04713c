"""What /api/cluster shows: the processes, their heartbeats and the sessions each holds."""
from __future__ import annotations

from datetime import timedelta

from hub.cluster import leases
from hub.cluster.coordinator import members
from hub.context import HubContext
from hub.store.models import utcnow


def cluster_view(context: HubContext) -> dict:
    """This process's id and every process with its sessions; on SQLite, this one process holding every running one."""
    node = context.node
    if not node.clustered:
        running = sorted(view["sessionId"] for view in context.sessions.list() if view["owner"])
        return {"clustered": False, "nodeId": node.node_id, "leaseTtlSeconds": node.lease_ttl, "unheld": [],
                "nodes": [{"nodeId": node.node_id, "host": node.host, "pid": node.pid, "live": True,
                           "startedAt": None, "heartbeatAt": None, "sessions": running}]}
    now = utcnow()
    with context.store.session() as db:
        rows, held = members(db), leases.all_leases(db)
        wanted = set(leases.wanted_sessions(db))
    live_after = now - timedelta(seconds=node.lease_ttl)
    nodes = [{**row.to_dict(), "live": row.heartbeat_at > live_after,
              "sessions": sorted(sid for sid, lease in held.items() if lease.owner == row.node_id and lease.live(now))}
             for row in rows]
    unheld = sorted(sid for sid in wanted if sid not in held or not held[sid].live(now))
    return {"clustered": True, "nodeId": node.node_id, "leaseTtlSeconds": node.lease_ttl, "nodes": nodes,
            "unheld": unheld}
