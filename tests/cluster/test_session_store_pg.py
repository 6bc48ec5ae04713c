"""HUB_SESSION_STORE=database: a sandbox session's device lives in PostgreSQL, not in a process's directory.

Real gunicorn hubs on one throwaway PostgreSQL, each with a sessions directory of its own: a linked
session comes back connected after a restart without a new QR, and a second hub takes it over after
a kill -9 of the first and connects the same device (no new link, no double connection); a logout
deletes the device from the store. Without the database store the second hub would have nothing to
connect with: its directory is empty.
"""
from __future__ import annotations

import psycopg
import pytest

from tests import postgres as pg
from tests.integration.hubproc import HubProcess

TTL = 3.0  # the shortest lease the config allows: the take-over waits for it to expire
DIAL = 15.0  # a sandbox dial takes well under a second; the margin is for a loaded 2-core machine


@pytest.fixture(scope="module")
def database(postgres, pg_template):
    url = pg.create_database(postgres, pg_template)
    yield url
    pg.drop_database(url)


def hub_on(tmp_path, url: str, node_id: str) -> HubProcess:
    (tmp_path / node_id).mkdir(exist_ok=True)
    return HubProcess(tmp_path / node_id, HUB_DATABASE_URL=url, HUB_SESSION_STORE="database", HUB_NODE_ID=node_id,
                      HUB_LEASE_TTL=f"{TTL}s", HUB_LOG_LEVEL="WARNING")


def query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as db:
        return db.execute(sql).fetchall()


def stored_devices(url: str) -> list[tuple]:
    """(sessions.device_jid, whatsmeow_device.jid) of every session: the hub's record and the store's row."""
    return query(url, "SELECT s.device_jid, d.jid FROM sessions s "
                      "LEFT JOIN whatsmeow_sandbox.whatsmeow_device d ON d.jid = s.device_jid")


def qr_events(hub: HubProcess) -> int:
    return len(hub.get("/api/events?sessionId=shop&type=qr&limit=500").json()["events"])


def connected_on(hub: HubProcess, node_id: str, timeout: float) -> dict:
    """The session's view once it is connected and held by `node_id`."""
    def view():
        [session] = hub.get("/api/sessions").json()["sessions"]
        return session if session["status"] == "connected" and session["owner"] == node_id else None
    return hub.wait_for(view, timeout=timeout, interval=0.1)


def test_a_linked_session_survives_a_restart_and_moves_to_another_hub_with_its_device(database, tmp_path):
    first, second = hub_on(tmp_path, database, "node0"), hub_on(tmp_path, database, "node1")
    try:
        first.start()
        assert first.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True}).ok
        first.wait_for(lambda: first.get("/api/sessions/shop").json()["session"]["status"] == "qr", timeout=DIAL)
        assert first.post("/api/sandbox/shop/scan", json={}).status_code == 200
        linked = connected_on(first, "node0", DIAL)
        [(device, row)] = stored_devices(database)
        assert device == row and device.startswith(f"{linked['phone']}:")  # number:device@s.whatsapp.net
        assert not list((tmp_path / "node0").rglob("whatsapp.db"))  # nothing in the process's directory
        codes = qr_events(first)

        first.restart()
        restarted = connected_on(first, "node0", DIAL)
        assert restarted["connectedAt"] > linked["connectedAt"]  # connected again by the new process ...
        assert qr_events(first) == codes  # ... with the stored device: no QR

        second.start()
        first.kill()  # kill -9: its lease expires, the second hub takes the session over
        moved = connected_on(second, "node1", TTL + DIAL)
        assert moved["owner"] == "node1" and moved["jid"] == linked["jid"]
        assert qr_events(second) == codes
        assert stored_devices(database) == [(device, device)]
        assert query(database, "SELECT count(*), coalesce(sum(double_connections), 0) FROM sandbox_devices") == [(1, 0)]

        assert second.post("/api/sessions/shop/logout").status_code == 200
        assert stored_devices(database) == [(None, None)]  # whatsmeow's row deleted, the record cleared
    finally:
        first.kill()
        second.kill()
