"""Accepted sends per second through real gunicorn (sandbox engine), with p50/p99 latency.

Cases: `connected` (each request sends at once: 200 with the WhatsApp id) and `queued`
(`"async": true`: stored durably, 202). Baseline in the same run: GET /api/health at the same
concurrency, so the ratio says what a send costs compared with the cheapest request.
The client is one gevent process with urllib3 (about 2,200 requests/s on this kind of machine).

    .venv/bin/python bench/send.py [--requests 3000] [--concurrency 20]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import urllib3  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.hubproc import API_KEY, HubProcess  # noqa: E402

TARGET_RATE, TARGET_P99_MS = 1000, 50


def run(http, url: str, method: str, body: dict | None, total: int, concurrency: int) -> dict:
    """`total` requests from `concurrency` greenlets; rate and latency percentiles."""
    headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
    payload = json.dumps(body).encode() if body is not None else None
    latencies, statuses = [], {}
    remaining = iter(range(total))

    def client():
        for _ in remaining:
            started = time.perf_counter()
            response = http.request(method, url, body=payload, headers=headers, retries=False)
            latencies.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1

    started = time.perf_counter()
    gevent.joinall([gevent.spawn(client) for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rate": total / elapsed, "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    http = urllib3.PoolManager(maxsize=args.concurrency)
    with tempfile.TemporaryDirectory() as directory, HubProcess(Path(directory), HUB_LOG_LEVEL="WARNING") as hub:
        hub.post("/api/sessions", json={"sessionId": "bench", "engine": "sandbox", "start": True})
        hub.post("/api/sandbox/bench/scan", json={})
        send_url = hub.url + "/api/whatsapp/send"
        text = {"sessionId": "bench", "to": "+51 987 654 321", "message": "Su pedido 1234 está listo"}
        run(http, hub.url + "/api/health", "GET", None, 500, args.concurrency)  # warm-up
        cases = {
            "baseline GET /api/health": run(http, hub.url + "/api/health", "GET", None, args.requests, args.concurrency),
            "send, connected (200 sent)": run(http, send_url, "POST", text, args.requests, args.concurrency),
        }
        hub.post("/api/sessions/bench/stop")
        cases["send, offline (202 queued)"] = run(http, send_url, "POST", text, args.requests, args.concurrency)
        drain_rate = drain(hub, already_sent=args.requests, queued=args.requests)
    report(cases, args)
    print(f"  queue drain after reconnect: {args.requests} queued messages sent at {drain_rate:.0f}/s")


def drain(hub: HubProcess, already_sent: int, queued: int) -> float:
    """Reconnect the session and time until the worker has sent every queued message."""
    started = time.perf_counter()
    hub.post("/api/sessions/bench/connect")
    hub.wait_for(lambda: len(hub.get("/api/sandbox/bench/sent").json()["messages"]) >= already_sent + queued,
                 timeout=300, interval=0.5)
    return queued / (time.perf_counter() - started)


def report(cases: dict, args) -> None:
    baseline = cases["baseline GET /api/health"]["rate"]
    print(f"bench/send.py: {args.requests} requests per case, concurrency {args.concurrency}, "
          "gunicorn 1 gevent worker, SQLite, sandbox engine")
    for name, result in cases.items():
        verdict = ""
        if name.startswith("send"):
            met = result["rate"] >= TARGET_RATE and result["p99"] <= TARGET_P99_MS
            verdict = f"  target >= {TARGET_RATE}/s, p99 <= {TARGET_P99_MS} ms: {'met' if met else 'NOT met'}"
        print(f"  {name:28s} {result['rate']:7.0f}/s  p50 {result['p50']:5.1f} ms  p99 {result['p99']:5.1f} ms  "
              f"ratio to baseline {result['rate'] / baseline:4.2f}  statuses {result['statuses']}{verdict}")


if __name__ == "__main__":
    main()
