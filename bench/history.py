"""A 10,000-message history sync: time to store and emit it, and live inbound latency during it vs quiet.

    .venv/bin/python bench/history.py [--messages 10000] [--chats 50] [--quiet 200]

One real hub (gunicorn, one gevent worker, SQLite), one sandbox session with `syncHistory`. The
baseline is measured first in the same process: `--quiet` live messages, one after another, each
timed from the phone side's POST until its event is stored (`/api/sandbox/<id>/inbound` answers
then). Then the session links and the simulated phone sends the history (whatsmeow HistorySync
chunks); the same live messages keep going until the session's `history.done`, i.e. until every
history message is stored and its `message-history` event recorded.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.hubproc import HubProcess  # noqa: E402


def live(hub: HubProcess, index: int) -> float:
    """Seconds until one live customer message is stored."""
    started = time.monotonic()
    answer = hub.post("/api/sandbox/H/inbound", json={"from": "51977700007", "text": f"live {index}"})
    assert answer.status_code == 200, answer.text
    return time.monotonic() - started


def p99(samples: list[float]) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * 0.99))]


def describe(name: str, samples: list[float]) -> str:
    return (f"{name}: p50 {statistics.median(samples) * 1000:.0f} ms, p99 {p99(samples) * 1000:.0f} ms "
            f"({len(samples)} messages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--quiet", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, HubProcess(Path(directory), HUB_LOG_LEVEL="WARNING") as hub:
        hub.post("/api/sessions", json={"sessionId": "H"})
        hub.request("PATCH", "/api/sessions/H", json={"settings": {"syncHistory": True}})
        hub.post("/api/sessions/H/connect")
        hub.wait_for(lambda: hub.get("/api/sessions/H/qr").status_code == 200, timeout=15)
        # A first link without history gives the quiet baseline on the same session and process.
        hub.post("/api/sandbox/H/scan", json={"history": {"chats": 1, "messages": 0}})
        quiet = [live(hub, index) for index in range(args.quiet)]
        hub.post("/api/sessions/H/logout")
        hub.post("/api/sessions/H/connect")
        hub.wait_for(lambda: hub.get("/api/sessions/H/qr").status_code == 200, timeout=15)
        started = time.monotonic()
        hub.post("/api/sandbox/H/scan", json={"history": {"chats": args.chats, "messages": args.messages}})
        during = []
        while not (hub.get("/api/sessions/H").json()["session"]["history"] or {}).get("done"):
            during.append(live(hub, len(during)))
        took = time.monotonic() - started
        stored = hub.get("/api/sessions/H").json()["session"]["history"]["messages"]
    print(f"history sync of {stored} messages in {args.chats} chats: stored and emitted in {took:.1f} s "
          f"({stored / took:.0f} messages/s)")
    print(describe("live inbound, quiet", quiet))
    print(describe("live inbound, during the sync", during))
    print(f"ratio during/quiet: p50 {statistics.median(during) / statistics.median(quiet):.2f}, "
          f"p99 {p99(during) / p99(quiet):.2f}")


if __name__ == "__main__":
    main()
