"""GET /api/cluster: the hub processes sharing this database and the sessions each holds."""
from __future__ import annotations

from hub.api.common import blueprint, hub
from hub.api.responses import answers, ok_model
from hub.cluster.view import cluster_view

bp = blueprint("cluster", "The hub processes (scale-out on PostgreSQL)")


@bp.get("/cluster", responses=answers(ok_model("Cluster", clustered=bool, nodeId=str, leaseTtlSeconds=float,
                                               nodes=list[dict], unheld=list[str])))
def cluster():
    """Every process (id, host, pid, started, last heartbeat, live, sessions held) and the sessions nobody holds."""
    return {"success": True, **cluster_view(hub())}
