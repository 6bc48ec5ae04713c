"""The simulated servers count a device connected while another live hub process holds its socket."""
from __future__ import annotations

import socket
import subprocess

import pytest
from sqlalchemy import select, update

from hub.store.sandbox import SandboxDevice


def reconnect_with_socket_held_by(client, hub, holder: str) -> int:
    """Stop the session, let `holder` hold its device's socket, connect again; the device's double connections."""
    assert client.post("/api/sessions/shop/stop").status_code == 200
    with hub.store.session() as db:
        db.execute(update(SandboxDevice).values(connected_by=holder))
    assert client.post("/api/sessions/shop/connect", json={}).status_code in (200, 202)
    assert hub.sessions.settled("shop", 10)["status"] == "connected"
    with hub.store.session() as db:
        return db.scalar(select(SandboxDevice.double_connections))


@pytest.fixture
def other_process():
    sleeper = subprocess.Popen(["sleep", "60"])
    yield sleeper.pid
    sleeper.kill()
    sleeper.wait()


def test_a_device_whose_socket_another_live_process_holds_counts_a_double_connection(client, hub, sandbox_session,
                                                                                    other_process):
    assert reconnect_with_socket_held_by(client, hub, f"{socket.gethostname()} {other_process}") == 1


def test_the_socket_of_a_dead_process_is_closed_so_it_is_no_double_connection(client, hub, sandbox_session):
    ended = subprocess.Popen(["true"])
    ended.wait()  # reaped: its pid names no process any more
    assert reconnect_with_socket_held_by(client, hub, f"{socket.gethostname()} {ended.pid}") == 0
