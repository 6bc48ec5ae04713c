"""Three real gunicorn hub processes on one throwaway PostgreSQL share the sandbox sessions.

Sessions spread evenly; a message the phone side injects through one process reaches the session
connected in another at once (the simulated servers' push); a kill -9 moves the dead process's
sessions to the others within a lease TTL plus a dial while sends go through every process and
messages arrive on every session (each accepted send sent exactly once, each inbound message
delivered); SIGTERM hands each session over in under 2 s; the simulated WhatsApp never sees a
device connected twice; a database outage stops every session before its lease could expire and
they come back with the database.
"""
from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from contextlib import ExitStack
from datetime import datetime

import psycopg
import pytest

from tests.cluster.load import Load, outbound_states, sent_on_whatsapp
from tests.cluster.pg import pg  # noqa: F401 (a fixture)
from tests.integration.hubproc import HubProcess
from tests.receivers import Receiver

SESSIONS = 60
TTL = 10.0
DIAL = 10.0  # a sandbox dial takes well under a second; the margin is for a loaded 2-core machine
HANDOVER = 2.0  # seconds from a session's stop on the leaving process to connected on the next (issue 15): each
PUSH = 1.0  # seconds for a message injected through one process to be stored by the session's holder
PUSH_MEDIAN = 0.15


class Cluster:
    """The hub processes of one test, by node id."""

    def __init__(self, stack: ExitStack, tmp_path, url: str, count: int):
        self.tmp_path, self.url = tmp_path, url
        self.hubs = {f"node{i}": self._hub(f"node{i}") for i in range(count)}
        for hub in self.hubs.values():
            stack.enter_context(hub)

    def _hub(self, node_id: str) -> HubProcess:
        (self.tmp_path / node_id).mkdir()
        return HubProcess(self.tmp_path / node_id, HUB_DATABASE_URL=self.url, HUB_NODE_ID=node_id,
                          HUB_LEASE_TTL=f"{TTL}s", HUB_SESSIONS_DIR=str(self.tmp_path / "sessions"),
                          HUB_SEND_WAIT="2s",  # a send for a dead holder's session answers 202 soon: the load goes on
                          HUB_LOG_LEVEL="WARNING")

    def any(self) -> HubProcess:
        return next(hub for hub in self.hubs.values() if hub.process and hub.process.poll() is None)

    def sessions(self) -> dict[str, dict]:
        return {view["sessionId"]: view for view in self.any().get("/api/sessions").json()["sessions"]}

    def owner_of(self, session_id: str) -> HubProcess:
        return self.hubs[self.sessions()[session_id]["owner"]]

    def all_connected(self, among: set[str]) -> bool:
        views = self.sessions().values()
        return all(view["status"] == "connected" and view["owner"] in among for view in views)

    def wait_all_connected(self, among: set[str], timeout: float) -> float:
        """Seconds until every session is connected on one of `among`; the states seen when it times out."""
        began = time.monotonic()
        try:
            self.any().wait_for(lambda: self.all_connected(among), timeout=timeout, interval=0.1)
        except TimeoutError:
            views = self.sessions().values()
            seen = Counter((view["status"], view["owner"]) for view in views)
            down = {view["sessionId"]: self.timeline(view["sessionId"]) for view in views
                    if view["status"] != "connected"}
            raise AssertionError(f"not all connected on {sorted(among)} after {timeout} s: {dict(seen)}; "
                                 f"the others' statuses: {down}") from None
        return time.monotonic() - began

    def timeline(self, session_id: str) -> list[tuple]:
        """The session's last status changes (time, status, reason), oldest first."""
        events = self.any().get("/api/events", params={"sessionId": session_id, "type": "session-status",
                                                        "limit": 8}).json()["events"]
        return [(e["timestamp"][11:23], e["data"]["status"], e["data"].get("reason"))
                for e in sorted(events, key=lambda event: event["seq"])]

    def double_connections(self) -> int:
        with psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql")) as db:
            return db.execute("SELECT coalesce(sum(double_connections), 0) FROM sandbox_devices").fetchone()[0]


def bring_up(cluster: Cluster, names: list[str]) -> None:
    """Create, start (through every process in turn) and scan each session on the process that holds it."""
    hubs = list(cluster.hubs.values())
    for index, name in enumerate(names):
        created = hubs[index % len(hubs)].post("/api/sessions", json={"sessionId": name, "engine": "sandbox",
                                                                      "start": True})
        assert created.status_code == 201, created.text
    cluster.any().wait_for(lambda: all(view["status"] == "qr" and view["owner"]
                                       for view in cluster.sessions().values()), timeout=60, interval=0.5)
    for name in names:
        assert cluster.owner_of(name).post(f"/api/sandbox/{name}/scan", json={}).status_code == 200
    cluster.wait_all_connected(set(cluster.hubs), timeout=60)


def inject(cluster: Cluster, names: list[str], text: str) -> None:
    for name in names:
        answer = cluster.owner_of(name).post(f"/api/sandbox/{name}/inbound",
                                             json={"from": "51987654321", "text": f"{text} {name}"})
        assert answer.status_code in (200, 202), answer.text  # 202: sent by the phone, not stored yet


def inject_elsewhere(cluster: Cluster, names: list[str], text: str) -> list[float]:
    """A message for each session through a process that does not hold it; seconds until its holder stored it."""
    views, took = cluster.sessions(), []
    for name in names:
        other = next(hub for node, hub in cluster.hubs.items() if node != views[name]["owner"])
        began = time.monotonic()
        answer = other.post(f"/api/sandbox/{name}/inbound", json={"from": "51987654321", "text": f"{text} {name}"})
        took.append(time.monotonic() - began)
        assert answer.status_code == 200 and answer.json()["stored"], answer.text  # 200: the holder stored it
    return took


def received(receiver: Receiver) -> set[str]:
    return {json.loads(request["body"])["data"].get("text") for request in receiver.requests}


def test_sessions_spread_move_on_kill_9_and_hand_over_on_sigterm_without_double_connections(pg, tmp_path):  # noqa: F811
    names = [f"shop{i:02d}" for i in range(SESSIONS)]
    with ExitStack() as stack, Receiver() as receiver:
        cluster = Cluster(stack, tmp_path, pg.new_database(), 3)
        assert cluster.any().post("/api/whatsapp/register-listener", json={
            "callbackUrl": receiver.url, "events": ["message-received"]}).ok
        bring_up(cluster, names)
        spread = Counter(view["owner"] for view in cluster.sessions().values())
        assert sorted(spread.values()) == [SESSIONS // 3] * 3, spread
        pushed = inject_elsewhere(cluster, names, "before")

        victim = cluster.hubs["node2"]
        moved = [name for name, view in cluster.sessions().items() if view["owner"] == "node2"]
        with Load(list(cluster.hubs.values()), names) as load:
            time.sleep(1)  # traffic through all three before the kill
            victim.kill()
            failover = cluster.wait_all_connected({"node0", "node1"}, timeout=TTL + DIAL)
        inject(cluster, moved, "after kill")

        leaving = cluster.hubs["node1"]
        handed = [name for name, view in cluster.sessions().items() if view["owner"] == "node1"]
        leaving.stop()  # SIGTERM: node1 announces each hand-over, stops it and releases its lease
        cluster.wait_all_connected({"node0"}, timeout=TTL + DIAL)
        phases = {name: handover_phases(cluster.any(), name) for name in handed}
        handovers = [connected for _taken, connected in phases.values()]
        inject(cluster, handed, "after sigterm")

        expected = {f"before {n}" for n in names} | {f"after kill {n}" for n in moved} | {
            f"after sigterm {n}" for n in handed} | set(load.inbound)
        cluster.any().wait_for(lambda: expected <= received(receiver), timeout=30, interval=0.5)
        try:
            cluster.any().wait_for(lambda: set(load.sends) <= set(sent_on_whatsapp(cluster.url)), timeout=30,
                                   interval=0.5)
        except TimeoutError:
            pass  # the assertion below says which are missing and why
        sent = sent_on_whatsapp(cluster.url)
        missing = set(load.sends) - set(sent)
        assert not missing, outbound_states(cluster.url, missing)
        assert cluster.double_connections() == 0
        twice = Counter(text.rsplit(" ", 1)[1] for text in load.sends if sent[text] > 1)
        print(f"\nsent twice after the kill: {sum(twice.values())}; "
              f"push across processes: median {statistics.median(pushed):.2f} s, max {max(pushed):.2f} s; "
              f"failover after kill -9: {failover:.1f} s for {len(moved)} sessions (TTL {TTL} s), under a load of "
              f"{len(load.sends)} sends and {len(load.inbound)} inbound messages; SIGTERM hand-over of "
              f"{len(handed)} sessions: median {statistics.median(handovers):.2f} s, max {max(handovers):.2f} s "
              f"(taken by the next process after median {statistics.median(t for t, _ in phases.values()):.2f} s)")
        assert failover <= TTL + DIAL
        assert max(pushed) < PUSH
        assert statistics.median(pushed) < PUSH_MEDIAN  # announced, not found by a look once a second
        # Each accepted send reached WhatsApp once. The one exception neonize 0.5.2 leaves: a send the killed
        # process had handed to WhatsApp but not yet recorded as sent goes out again from the new holder (its
        # SendMessage takes no message id to repeat): at most one per moved session, whose queue drains in order.
        assert all(sent[text] <= 2 for text in load.sends) and set(twice) <= set(moved), twice
        assert max(twice.values(), default=0) <= 1, twice
        assert len(load.sends) > 20 and len(load.inbound) > 100 and not load.refused, load.refused
        # The target: each session handed over in under 2 s (quiet machine: max 0.6-0.7 s; under the
        # load of six other suites on 2 cores the slowest took up to 3.6 s: README, "Scaling out").
        slowest = sorted(phases.items(), key=lambda item: item[1][1])[-3:]  # (taken, connected) after the stop
        assert max(handovers) < HANDOVER, slowest


def handover_phases(hub: HubProcess, session_id: str) -> tuple[float, float]:
    """Seconds from the old holder's "handed over" event to the new holder's "starting" and "connected"."""
    events = hub.get("/api/events", params={"sessionId": session_id, "type": "session-status", "limit": 20}).json()
    timeline = sorted(events["events"], key=lambda event: event["seq"])
    handed = [e for e in timeline if e["data"].get("reason") == "handed over to another hub process"][-1]
    after = [e for e in timeline if e["seq"] > handed["seq"]]
    starting = next(e for e in after if e["data"]["status"] == "starting")
    connected = next(e for e in after if e["data"]["status"] == "connected")
    return tuple(round((iso(e["timestamp"]) - iso(handed["timestamp"])).total_seconds(), 2)
                 for e in (starting, connected))


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_database_outage_stops_every_session_before_its_lease_expires_and_they_come_back(pg, tmp_path):  # noqa: F811
    names = [f"desk{i}" for i in range(6)]
    with ExitStack() as stack:
        cluster = Cluster(stack, tmp_path, pg.new_database(), 2)
        bring_up(cluster, names)
        pg.stop()
        try:
            time.sleep(TTL * 2)
            for hub in cluster.hubs.values():
                assert "stopping" in hub.logs() and "leases not renewed" in hub.logs()
                assert hub.get("/api/health").status_code == 503
        finally:
            pg.start()
        cluster.wait_all_connected(set(cluster.hubs), timeout=TTL * 2 + DIAL)
        assert cluster.double_connections() == 0


def test_a_second_process_with_the_same_node_id_refuses_to_start(pg, tmp_path):  # noqa: F811
    url = pg.new_database()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with HubProcess(tmp_path / "a", HUB_DATABASE_URL=url, HUB_NODE_ID="twin"):
        twin = HubProcess(tmp_path / "b", HUB_DATABASE_URL=url, HUB_NODE_ID="twin")
        with pytest.raises((RuntimeError, TimeoutError)):
            twin.start(timeout=20)
        twin.stop()
        assert "HUB_NODE_ID='twin' is in use by a live hub process" in twin.logs()
