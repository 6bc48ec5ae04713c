"""Two real gunicorn hub processes on one PostgreSQL: events reach every process's clients; metrics and the
dashboard's Cluster view tell the processes apart."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest
import websocket

from tests import postgres as pg
from tests.browser.test_dashboard import DESKTOP, browser, open_dashboard, screenshot  # noqa: F401  (a fixture)
from tests.compat.sio import Client
from tests.integration.hubproc import API_KEY, HubProcess

SESSIONS = ("shop", "other")


class Pair:
    """Two hub processes sharing one database, and the sessions each holds."""

    def __init__(self, directory, url: str):
        self.hubs = {}
        for node_id in ("node0", "node1"):
            (directory / node_id).mkdir()
            self.hubs[node_id] = HubProcess(directory / node_id, HUB_DATABASE_URL=url, HUB_NODE_ID=node_id,
                                            HUB_LEASE_TTL="10s", HUB_SESSIONS_DIR=str(directory / "sessions"),
                                            HUB_LOG_LEVEL="WARNING")

    def __enter__(self) -> Pair:
        """Both start at once (a gunicorn start takes seconds on a loaded machine)."""
        for hub in self.hubs.values():
            hub.launch()
        for hub in self.hubs.values():
            hub.wait_healthy(60)
        return self

    def __exit__(self, *exc) -> None:
        for hub in self.hubs.values():
            if hub.process.poll() is None:
                os.killpg(hub.process.pid, signal.SIGTERM)  # both leave at once: nothing is handed over
        for hub in self.hubs.values():
            hub.stop()

    def owners(self, status: str = "connected") -> dict[str, str | None]:
        """The process holding each session, when it is in `status`."""
        views = self.hubs["node0"].get("/api/sessions").json()["sessions"]
        return {view["sessionId"]: view["owner"] if view["status"] == status else None for view in views}

    def holder(self, session_id: str) -> HubProcess:
        return self.hubs[self.owners()[session_id]]

    def elsewhere(self, session_id: str) -> HubProcess:
        """A process that does not hold the session."""
        return next(hub for node_id, hub in self.hubs.items() if node_id != self.owners()[session_id])


@pytest.fixture(scope="module")
def pair(postgres, tmp_path_factory):
    with Pair(tmp_path_factory.mktemp("pair"), pg.create_database(postgres)) as pair:
        first = pair.hubs["node0"]
        for session_id, hub in zip(SESSIONS, pair.hubs.values(), strict=True):  # one each: nothing to rebalance
            created = hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True})
            assert created.status_code == 201, created.text
        showing = first.wait_for(lambda: pair.owners(status="qr") if all(pair.owners(status="qr").values()) else None,
                                 timeout=30)
        for session_id, owner in showing.items():
            assert pair.hubs[owner].post(f"/api/sandbox/{session_id}/scan", json={}).status_code == 200
        first.wait_for(lambda: all(pair.owners().values()), timeout=30)
        yield pair


@pytest.fixture(scope="module")
def other_key(pair) -> str:
    created = pair.hubs["node0"].post("/api/keys", json={"name": "other bot", "sessions": ["other"]})
    assert created.status_code == 201, created.text
    return created.json()["key"]["key"]


def inbound(pair: Pair, session_id: str, text: str) -> str:
    """A customer's message to the session, through the process that holds it; its message id."""
    answer = pair.holder(session_id).post(f"/api/sandbox/{session_id}/inbound",
                                          json={"from": "51987654321", "text": text})
    assert answer.status_code == 200, answer.text
    return answer.json()["messageId"]


def messages_until(next_event, marker: str) -> list[tuple[str, str]]:
    """(session, message id) of each message-received event, up to and including the one with id `marker`."""
    seen, deadline = [], time.monotonic() + 20
    while not seen or seen[-1][1] != marker:
        assert time.monotonic() < deadline, f"no event {marker} after 20 s; messages seen: {seen}"
        event = next_event()
        if event.get("type") == "message-received":
            seen.append((event["sessionId"], event["data"]["messageId"]))
    return seen


def test_websocket_and_socket_io_clients_of_one_process_see_inbound_messages_of_sessions_held_by_another(
        pair, other_key):
    remote = pair.elsewhere("shop")
    streams = {key: websocket.create_connection(f"ws://127.0.0.1:{remote.port}/ws/events?apiKey={key}", timeout=5)
               for key in (API_KEY, other_key)}
    client = Client().connect(remote, auth={"apiKey": API_KEY})
    try:
        for session_id in SESSIONS:
            assert client.sio.call("subscribe", {"sessionId": session_id}, timeout=10)["success"]
        warm_up = inbound(pair, "shop", "hola")  # the remote process listens: its clients get this one
        assert messages_until(lambda: json.loads(streams[API_KEY].recv()), warm_up)[-1] == ("shop", warm_up)
        assert messages_until(lambda: client.next("message-received"), warm_up)[-1] == ("shop", warm_up)
        shop = [("shop", inbound(pair, "shop", f"pedido {number}")) for number in range(5)]
        assert messages_until(lambda: json.loads(streams[API_KEY].recv()), shop[-1][1]) == shop  # in order, once
        assert messages_until(lambda: client.next("message-received"), shop[-1][1]) == shop
        # Every shop event reached this process's bus (above) before this one: the scoped stream skipped them.
        marker = inbound(pair, "other", "fin")
        assert messages_until(lambda: json.loads(streams[other_key].recv()), marker) == [("other", marker)]
    finally:
        client.close()
        for stream in streams.values():
            stream.close()


def recorded(hub: HubProcess, node_id: str) -> float:
    """This process's `hub_events_recorded_total` of message-received, read from its /metrics."""
    answer = hub.get("/metrics")
    assert answer.headers["X-Hub-Node"] == node_id
    sample = f'hub_events_recorded_total{{node="{node_id}",type="message-received"}} '
    return float(next(line for line in answer.text.splitlines() if line.startswith(sample)).split()[-1])


def test_each_process_answers_metrics_as_itself_and_counts_only_the_events_it_recorded(pair):
    holder, remote = pair.owners()["shop"], next(node for node in pair.hubs if node != pair.owners()["shop"])
    for node_id, hub in pair.hubs.items():
        text = hub.get("/metrics").text
        assert 'hub_process_info{host="' in text and f'node="{node_id}",pid="{hub.worker_pid()}"}} 1.0' in text
        assert f'process_resident_memory_bytes{{node="{node_id}"}}' in text
    before = {node_id: recorded(hub, node_id) for node_id, hub in pair.hubs.items()}
    inbound(pair, "shop", "uno más")
    pair.hubs[holder].wait_for(lambda: recorded(pair.hubs[holder], holder) == before[holder] + 1)
    assert recorded(pair.hubs[remote], remote) == before[remote]


def test_the_dashboards_cluster_view_shows_each_process_and_the_sessions_it_holds(browser, pair):  # noqa: F811
    from playwright.sync_api import expect

    owners = pair.owners()
    page = open_dashboard(browser, pair.hubs["node1"], DESKTOP)
    page.click("a[data-view=cluster]")
    rows = page.locator("#cluster-rows tr")
    expect(rows).to_have_count(2)
    for node_id, hub in pair.hubs.items():
        row = page.locator(f"#cluster-rows tr[data-node={node_id}]")
        expect(row).to_have_attribute("data-live", "true")
        expect(row.locator("td[data-label=PID]")).to_have_text(str(hub.worker_pid()))
        held = sorted(session_id for session_id, owner in owners.items() if owner == node_id)
        expect(row.locator("td[data-label='Sessions held']")).to_have_text(
            f"{len(held)}: {', '.join(held)}" if held else "none")
    expect(page.locator("#cluster-summary")).to_contain_text("2 of 2 processes live")
    expect(page.locator("#cluster-summary")).to_contain_text("this page from node1")
    screenshot(page, "desktop-cluster")
    page.close()
