"""Traffic for the cluster tests: sends through every hub process and inbound messages on every session.

Each process gets its own sender and its own phone-side thread (plain `requests`, one connection
each); a request a killed process never answered is not counted as accepted.
"""
from __future__ import annotations

import itertools
import threading
from collections import Counter

import psycopg
import requests

from tests.integration.hubproc import API_KEY, HubProcess

CUSTOMER = "51987654321"
PACE = 0.1  # seconds between one thread's requests: a steady load, not a flood that starves the hubs' own work


class Load:
    """`with Load(hubs, names) as load: ...`: what each process accepted is in `sends` and `inbound`."""

    def __init__(self, hubs: list[HubProcess], names: list[str]):
        self.hubs, self.names = hubs, names
        self.sends: list[str] = []  # texts of the sends a process accepted (200 sent or 202 queued)
        self.inbound: list[str] = []  # texts of the inbound messages the simulated WhatsApp took
        self.refused: Counter = Counter()  # answers other than accepted (a 5xx would show here)
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=work, args=(hub,), daemon=True)
                         for hub in hubs for work in (self._send_through, self._inbound_through)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _loop(self, hub: HubProcess, kind: str, request, accepted: list[str]) -> None:
        http = requests.Session()
        http.headers["X-API-Key"] = API_KEY
        offset = self.hubs.index(hub) * 7  # each process starts at another session
        for count in itertools.count():
            if self._stopping.is_set():
                return
            name = self.names[(offset + count) % len(self.names)]
            text = f"{kind} {hub.extra_env['HUB_NODE_ID']} {count} {name}"
            try:
                answer = request(http, hub, name, text)
            except requests.RequestException:
                if hub.process.poll() is not None:
                    return  # killed: nothing it did not answer counts
                continue
            if answer.status_code in (200, 202):
                accepted.append(text)
            else:
                self.refused[answer.status_code] += 1
            self._stopping.wait(PACE)

    def _send_through(self, hub: HubProcess) -> None:
        def send(http, hub, name, text):
            return http.post(hub.url + "/api/whatsapp/send", json={"sessionId": name, "to": CUSTOMER,
                                                                    "message": text}, timeout=30)
        self._loop(hub, "load send", send, self.sends)

    def _inbound_through(self, hub: HubProcess) -> None:
        def inbound(http, hub, name, text):
            return http.post(hub.url + f"/api/sandbox/{name}/inbound", json={"from": CUSTOMER, "text": text,
                                                                            "wait": False}, timeout=30)
        self._loop(hub, "load inbound", inbound, self.inbound)


def sent_on_whatsapp(url: str) -> Counter:
    """How many times the simulated WhatsApp received each text the sessions sent."""
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as db:
        return Counter(row[0] for row in db.execute("SELECT summary->>'text' FROM sandbox_sent"))


def outbound_states(url: str, texts: set[str]) -> Counter:
    """(session, status, error) of the hub's outbound rows with these texts: why they did not reach WhatsApp."""
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as db:
        rows = db.execute("SELECT session_id, status, error FROM outbound WHERE text = ANY(%s)", [list(texts)])
        return Counter(tuple(row) for row in rows)
