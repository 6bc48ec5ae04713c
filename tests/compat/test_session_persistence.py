"""The session-persistence update's clients against the hub (tests/compat/js/persistence.cjs, axios).

Written from issue 12 and README.md ("Moving from the older services") (the service's docs are not
in this repository): it polls /api/status/<id> (200 `connected: false` for an id that does not
exist yet), links with /api/connect/<id> + /api/qr/<id>, lists /api/sessions, and expects a linked
session to come back connected by itself after a restart (`session_exists_on_disk`), then deletes
it.
"""
from __future__ import annotations

from tests.compat.node import require_node, run_client
from tests.integration.hubproc import API_KEY, HubProcess


def test_persistence_client_links_survives_a_restart_and_deletes(tmp_path):
    require_node()
    hub = HubProcess(tmp_path)
    with hub:
        assert run_client("persistence.cjs", hub.url, HUB_KEY=API_KEY, PHASE="link") == {"linked": True}
    with hub:
        assert run_client("persistence.cjs", hub.url, HUB_KEY=API_KEY, PHASE="after") == {
            "reconnected": True, "deleted": True}
        assert hub.get("/api/sessions").json()["sessions"] == []
