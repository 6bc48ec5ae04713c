"""What a scoped key costs per request, against an administrator key, on the real hub (gunicorn).

    .venv/bin/python bench/keys.py [--requests 2000] [--threads 8] [--rounds 3]

An administrator key is checked in memory; a scoped key (hubk_…) is looked up by its SHA-256 in
the database, then remembered for 2 seconds (hub/keys.py KeyCache). Prints
requests/s of GET /api/sessions/shop with each key, in alternating rounds of the same run, and
the scoped rate as a ratio of the administrator's (the baseline).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.hubproc import API_KEY, HubProcess  # noqa: E402


def rate(hub: HubProcess, key: str, count: int, threads: int) -> float:
    """Requests per second of `count` GETs of one session's view with `key`, over `threads` connections."""
    sessions = [requests.Session() for _ in range(threads)]
    for http in sessions:
        http.headers["X-API-Key"] = key

    def run(index: int) -> None:
        http = sessions[index % threads]
        answer = http.get(f"{hub.url}/api/sessions/shop", timeout=30)
        assert answer.status_code == 200, answer.text

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(count)))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, HubProcess(Path(directory)) as hub:
        assert hub.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"}).status_code == 201
        scoped = hub.post("/api/keys", json={"name": "bench", "sessions": ["shop"]}).json()["key"]["key"]
        rate(hub, API_KEY, 200, args.threads)  # warm-up
        admin, limited = [], []
        for _ in range(args.rounds):
            admin.append(rate(hub, API_KEY, args.requests, args.threads))
            limited.append(rate(hub, scoped, args.requests, args.threads))
    print(f"administrator key: {' '.join(f'{r:.0f}' for r in admin)} requests/s")
    print(f"scoped key:        {' '.join(f'{r:.0f}' for r in limited)} requests/s")
    print(f"scoped / administrator (median of {args.rounds} rounds): "
          f"{statistics.median(limited) / statistics.median(admin):.2f}")


if __name__ == "__main__":
    main()
