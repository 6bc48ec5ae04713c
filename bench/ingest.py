"""Inbound through the real engine over the simulated WhatsApp: accepted/s and stored/s, against health/s.

    .venv/bin/python bench/ingest.py [--seconds 4] [--clients 6]

One real hub (gunicorn, one gevent worker, SQLite), one connected sandbox session. For --seconds,
--clients threads hand messages to the simulated WhatsApp (`inbound` with `wait: false`: answered
once WhatsApp holds it); the figure is how fast the phone side accepts them, and how fast the
session takes them end to end (each acknowledged only once its event is stored). The baseline is
GET /api/health from the same clients against the same process, measured first.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.hubproc import API_KEY, HubProcess  # noqa: E402


def hammer(seconds: float, clients: int, call) -> list:
    """`call(session)` from `clients` threads for `seconds`; everything they returned."""
    results, stop = [], time.monotonic() + seconds

    def client():
        http = requests.Session()
        http.headers["X-API-Key"] = API_KEY
        while time.monotonic() < stop:
            results.append(call(http))
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, HubProcess(Path(directory), HUB_LOG_LEVEL="WARNING") as hub:
        hub.post("/api/sessions", json={"sessionId": "A", "engine": "sandbox", "start": True})
        hub.wait_for(lambda: hub.get("/api/sessions/A/qr").status_code == 200, timeout=15)
        hub.post("/api/sandbox/A/scan", json={})
        health = len(hammer(args.seconds, args.clients, lambda http: http.get(hub.url + "/api/health"))) / args.seconds
        started = time.monotonic()
        ids = hammer(args.seconds, args.clients, lambda http: http.post(
            hub.url + "/api/sandbox/A/inbound", json={"from": "51977000111", "text": "x", "wait": False}
        ).json()["messageId"])
        accepted = len(ids) / (time.monotonic() - started)
        hub.wait_for(lambda: len(hub.get("/api/sandbox/A/acknowledged").json()["messageIds"]) >= len(ids),
                     timeout=300, interval=0.2)
        stored = len(ids) / (time.monotonic() - started)
    print(f"baseline GET /api/health: {health:.0f}/s ({args.clients} clients)")
    print(f"inbound accepted by the simulated WhatsApp: {accepted:.0f}/s (ratio {accepted / health:.2f})")
    print(f"inbound stored by the session, end to end: {stored:.0f}/s (ratio {stored / health:.2f}; "
          f"{len(ids)} messages)")


if __name__ == "__main__":
    main()
