"""GET /metrics: Prometheus exposition (needs the API key like the API; Prometheus sends it as a bearer token)."""
from __future__ import annotations

from flask import Response, request

from hub.api.common import blueprint, hub
from hub.api.responses import answers, content

bp = blueprint("metrics", "Prometheus metrics", url_prefix="")


@bp.get("/metrics", responses=answers({200: content("text/plain", "Prometheus text format")}))
def metrics():
    """Sessions, events, deliveries, queues, attempt latency and media, in Prometheus text format."""
    body, content_type = hub().metrics.exposition(request.headers.get("Accept"))
    return Response(body, content_type=content_type, headers={"X-Hub-Node": hub().node.node_id})
