"""Throughput of POST /api/sessions/<id>/contacts/check (numbers per second) on the real hub.

    .venv/bin/python bench/contacts_check.py [--requests 40] [--concurrency 4] [--batch 50]

One gunicorn gevent worker (tests/integration/hubproc.py) with a connected sandbox session; the
simulated WhatsApp answers IsOnWhatsApp and GetLIDFromPN from its database, as WhatsApp would over
the network (without the network's latency: this measures the hub). Prints, measured in the same
run and alternating: requests/s of GET /api/health (the baseline: a bare keyed HTTP round trip), and
checks/s and numbers/s of checks of --batch fresh numbers each (first time: LIDs looked up and
stored) and of the same numbers again (LIDs known); the ratio check/health.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from tests.integration.hubproc import API_KEY, HubProcess  # noqa: E402

_local = threading.local()


def http() -> requests.Session:
    """One keep-alive session per client thread (a shared one is not thread-safe)."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.headers["X-API-Key"] = API_KEY
    return _local.session


def rate(call, count: int, concurrency: int) -> float:
    """Calls per second of `call(n)` for n in range(count), `concurrency` at a time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        assert all(pool.map(call, range(count)))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, HubProcess(Path(directory), HUB_LOG_LEVEL="WARNING") as hub:
        assert hub.post("/api/sessions", json={"sessionId": "bench", "engine": "sandbox", "start": True}).ok
        assert hub.post("/api/sandbox/bench/scan", json={}).ok

        def health(_):
            return http().get(hub.url + "/api/health", timeout=30).ok

        def check(offset):
            def call(n):
                phones = [f"5197{offset + n:05d}{i:03d}" for i in range(args.batch)]
                reply = http().post(hub.url + "/api/sessions/bench/contacts/check", json={"phones": phones},
                                    timeout=60)
                return reply.ok and len(reply.json()["results"]) == args.batch
            return call

        health_rates, fresh_rates, known_rates = [], [], []
        for round_ in range(args.rounds):
            offset = round_ * args.requests
            health_rates.append(rate(health, args.requests * 5, args.concurrency))
            fresh_rates.append(rate(check(offset), args.requests, args.concurrency))
            known_rates.append(rate(check(offset), args.requests, args.concurrency))
    health_rate, fresh, known = (statistics.median(r) for r in (health_rates, fresh_rates, known_rates))
    print(f"GET /api/health (baseline)      {health_rate:9.1f} requests/s (median of {args.rounds})")
    print(f"contacts/check, new numbers     {fresh:9.1f} checks/s = {fresh * args.batch:8.0f} numbers/s")
    print(f"contacts/check, LIDs known      {known:9.1f} checks/s = {known * args.batch:8.0f} numbers/s")
    print(f"ratio check/health requests     {fresh / health_rate:9.3f} (new)   {known / health_rate:.3f} (known)")


if __name__ == "__main__":
    main()
