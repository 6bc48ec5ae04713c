"""Any process answers any call: two real gunicorn hub processes on one throwaway PostgreSQL.

A call through the process that does not hold the session (a send, QR, contact look-up, reaction,
stop, logout) is answered by the holder as if it had been made there; with the holder paused a
send answers 202 after HUB_SEND_WAIT and is sent exactly once once the session moved; a command
for a session whose holder died answers 503 owner_unavailable while the lease lingers, and is
answered by the new holder once it took the session over.
"""
from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC

import psycopg
import pytest

from tests.integration.hubproc import HubProcess
from tests.postgres import create_database

TTL = 8.0
SEND_WAIT = 4.0
CONNECTED = ["shop0", "shop1", "shop2", "shop3"]
CUSTOMER = "51911122233"


class Pair:
    """Two hub processes on one database."""

    def __init__(self, stack: ExitStack, tmp_path, url: str):
        self.url = url
        self.hubs = {name: stack.enter_context(self._hub(tmp_path, name)) for name in ("node0", "node1")}

    def _hub(self, tmp_path, node_id: str) -> HubProcess:
        (tmp_path / node_id).mkdir()
        return HubProcess(tmp_path / node_id, HUB_DATABASE_URL=self.url, HUB_NODE_ID=node_id,
                          HUB_LEASE_TTL=f"{TTL}s", HUB_SEND_WAIT=f"{SEND_WAIT}s",
                          HUB_SESSIONS_DIR=str(tmp_path / "sessions"), HUB_LOG_LEVEL="WARNING")

    def view(self, session_id: str) -> dict:
        return self.any().get(f"/api/sessions/{session_id}").json()["session"]

    def any(self) -> HubProcess:
        return next(hub for hub in self.hubs.values() if hub.process and hub.process.poll() is None
                    and not getattr(hub, "paused", False))

    def owner(self, session_id: str) -> HubProcess:
        """The holder; waits out a hand-over in flight (the lease is free between two holders)."""
        return self.hubs[self.any().wait_for(lambda: self.view(session_id)["owner"], timeout=2 * TTL)]

    def balanced(self, names: list[str]) -> bool:
        """Every session held, and neither process holds more than one more than the other."""
        owners = [self.view(name)["owner"] for name in names]
        counts = [owners.count(node) for node in self.hubs]
        return None not in owners and max(counts) - min(counts) <= 1

    def other(self, session_id: str) -> HubProcess:
        """The process that does not hold the session."""
        owner = self.view(session_id)["owner"]
        return next(hub for name, hub in self.hubs.items() if name != owner)

    def sql(self, query: str, *params):
        with psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql")) as db:
            return db.execute(query, params).fetchall()

    def times_sent(self, text: str) -> int:
        return self.sql("SELECT count(*) FROM sandbox_sent WHERE summary::jsonb->>'text' = %s", text)[0][0]

    def lease_expiry(self, session_id: str) -> float:
        expires = self.sql("SELECT expires_at FROM session_leases WHERE session_id = %s", session_id)[0][0]
        return expires.replace(tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def pair(postgres, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("routing")
    with ExitStack() as stack:
        hubs = Pair(stack, tmp_path, create_database(postgres))
        first = hubs.hubs["node0"]
        for name in [*CONNECTED, "waiting"]:
            assert first.post("/api/sessions", json={"sessionId": name, "engine": "sandbox", "start": True}).ok
        # Scan once the two processes have split the sessions: a scan during a hand-over lands on neither.
        first.wait_for(lambda: hubs.balanced([*CONNECTED, "waiting"]) and all(
            hubs.view(name)["status"] == "qr" for name in [*CONNECTED, "waiting"]), timeout=60, interval=0.2)
        for name in CONNECTED:
            assert hubs.owner(name).post(f"/api/sandbox/{name}/scan", json={}).status_code == 200
        first.wait_for(lambda: all(hubs.view(name)["status"] == "connected" for name in CONNECTED),
                       timeout=30, interval=0.1)
        yield hubs


def send(hub: HubProcess, session_id: str, text: str):
    return hub.post("/api/whatsapp/send", json={"sessionId": session_id, "to": CUSTOMER, "message": text})


def test_a_send_through_the_other_process_answers_the_holders_outcome(pair):
    for name in CONNECTED[:2]:
        answer = send(pair.other(name), name, f"routed {name}")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "sent" and answer.json()["messageId"]
        assert pair.times_sent(f"routed {name}") == 1


def test_qr_contacts_groups_and_a_reaction_through_the_other_process(pair):
    through, holder = pair.other("waiting"), pair.owner("waiting")
    qr = through.get("/api/sessions/waiting/qr")
    assert qr.status_code == 200, qr.text
    assert qr.json()["qr"] == holder.get("/api/sessions/waiting/qr").json()["qr"]
    assert through.get("/api/sessions/waiting/qr?format=svg").headers["Content-Type"].startswith("image/svg")

    name = "shop1"
    through = pair.other(name)
    contact = through.get(f"/api/sessions/{name}/contacts/{CUSTOMER}")
    assert contact.status_code == 200, contact.text
    assert contact.json()["contact"]["jid"] == f"{CUSTOMER}@s.whatsapp.net"
    assert through.get(f"/api/sessions/{name}/groups").status_code == 200
    no_qr = through.get(f"/api/qr/{name}")  # the seeds' shape: a holder's 409 no_qr is `qr: null` here too
    assert no_qr.status_code == 200 and no_qr.json()["qr"] is None, no_qr.text
    sent = send(pair.owner(name), name, "react to me").json()["messageId"]
    reaction = through.post(f"/api/sessions/{name}/messages/{sent}/reaction",
                            json={"emoji": "👍", "chatId": f"{CUSTOMER}@s.whatsapp.net"})
    assert reaction.status_code == 200, reaction.text
    assert reaction.json()["status"] == "sent"


def test_logout_and_stop_through_the_other_process_act_on_the_holder(pair):
    # Logout first: either call leaves the processes unbalanced, and a hand-over it starts would race the other.
    logged_out = pair.other("shop3").post("/api/sessions/shop3/logout")
    assert logged_out.status_code == 200, logged_out.text
    assert logged_out.json()["session"]["status"] == "logged_out", logged_out.text
    stopped = pair.other("shop2").post("/api/sessions/shop2/stop")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["session"]["status"] == "stopped"
    assert stopped.json()["session"]["owner"] is None, stopped.text  # the holder stopped it, handed the lease back


def test_with_the_holder_paused_a_send_is_queued_then_sent_exactly_once_by_the_new_holder(pair):
    name = "shop0"
    holder, through = pair.owner(name), pair.other(name)
    os.kill(holder.worker_pid(), signal.SIGSTOP)  # its lease lingers until it expires
    holder.paused = True
    try:
        began = time.monotonic()
        with ThreadPoolExecutor(2) as calls:  # at once: both wait HUB_SEND_WAIT, well within the lease left
            sending = calls.submit(send, through, name, "while paused")
            look_up = calls.submit(through.get, f"/api/sessions/{name}/contacts/{CUSTOMER}").result()
            answer = sending.result()
        waited = time.monotonic() - began
        assert answer.status_code == 202, answer.text
        assert SEND_WAIT - 0.5 <= waited < TTL, waited
        assert look_up.status_code == 503 and look_up.json()["error"] == "owner_unavailable", look_up.text
        assert look_up.headers["Retry-After"] == "5"
        outbound = answer.json()["id"]
        through.wait_for(lambda: through.get(f"/api/outbound/{outbound}").json()["outbound"]["status"] == "sent",
                         timeout=TTL + 10, interval=0.2)
    finally:
        os.kill(holder.worker_pid(), signal.SIGCONT)
        holder.paused = False
    time.sleep(2)  # the resumed process's queue worker polls: it must not send it again
    assert pair.times_sent("while paused") == 1


def test_a_command_for_a_session_whose_holder_died_is_answered_by_the_new_holder(pair):
    name = "shop1"
    pair.any().wait_for(lambda: pair.view(name)["status"] == "connected", timeout=TTL + 10, interval=0.2)
    victim, through = pair.owner(name), pair.other(name)
    victim.kill()
    early = through.get(f"/api/sessions/{name}/contacts/{CUSTOMER}")
    assert early.status_code == 503 and early.json()["error"] == "owner_unavailable", early.text
    time.sleep(max(0.0, pair.lease_expiry(name) - time.time() - 1.0))  # the lease expires while it waits
    late = through.get(f"/api/sessions/{name}/contacts/{CUSTOMER}")
    assert late.status_code == 200, late.text
    assert pair.view(name)["owner"] == [node for node, hub in pair.hubs.items() if hub is through][0]
