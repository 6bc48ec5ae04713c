"""What routing a call to the process holding its session costs (PostgreSQL, two real gunicorn processes).

A throwaway PostgreSQL, two hub processes, one connected sandbox session per process. Each case
runs the same requests through the process holding the session (the baseline, measured in the
same run) and through the other one (the call goes through `cluster_commands` / the send queue
with NOTIFY wake-ups): requests/s and p50/p99 latency, and the ratio routed / local.
Cases: a send (`POST /api/whatsapp/send`, 200 sent) and a contact look-up (a command; the
profile cache is off so every look-up asks the engine).

    .venv/bin/python bench/routing.py [--requests 300] [--concurrency 10]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from pathlib import Path  # noqa: E402

import urllib3  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.send import run  # noqa: E402
from tests.integration.hubproc import HubProcess  # noqa: E402
from tests.postgres import cluster, create_database  # noqa: E402

CUSTOMER = "51911122233"


def bring_up(hubs: dict[str, HubProcess]) -> dict[str, str]:
    """One connected session per process: {session id: the node holding it}."""
    first = hubs["node0"]
    for name in ("bench0", "bench1"):
        assert first.post("/api/sessions", json={"sessionId": name, "engine": "sandbox", "start": True}).ok

    def views():
        return {view["sessionId"]: view for view in first.get("/api/sessions").json()["sessions"]}
    def spread():  # both waiting for a scan, one on each process (the second process takes its share)
        seen = views().values()
        return all(view["status"] == "qr" for view in seen) and len({view["owner"] for view in seen} - {None}) == 2
    first.wait_for(spread, timeout=60, interval=0.2)
    for name in ("bench0", "bench1"):
        first.wait_for(lambda name=name: hubs[views()[name]["owner"]].post(f"/api/sandbox/{name}/scan", json={}).ok,
                       timeout=30, interval=0.5)
    first.wait_for(lambda: all(view["status"] == "connected" for view in views().values()), timeout=30)
    return {name: view["owner"] for name, view in views().items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    with cluster() as postgres, ExitStack() as stack, tempfile.TemporaryDirectory() as directory:
        url, base = create_database(postgres), Path(directory)
        hubs = {}
        for node in ("node0", "node1"):
            (base / node).mkdir()
            hubs[node] = stack.enter_context(HubProcess(
                base / node, HUB_DATABASE_URL=url, HUB_NODE_ID=node, HUB_SESSIONS_DIR=str(base / "sessions"),
                HUB_LOG_LEVEL="WARNING", HUB_CONTACT_CACHE_TTL="0", HUB_RATE_LIMIT="off"))
        owners = bring_up(hubs)
        session, holder = next(iter(owners.items()))
        other = next(node for node in hubs if node != holder)
        http = urllib3.PoolManager(maxsize=args.concurrency)
        cases = {"send": ("POST", "/api/whatsapp/send", {"sessionId": session, "to": CUSTOMER, "message": "bench"}),
                 "contact look-up": ("GET", f"/api/sessions/{session}/contacts/{CUSTOMER}", None)}
        print(f"{args.requests} requests per case, concurrency {args.concurrency}; session held by {holder}")
        for name, (method, path, body) in cases.items():
            run(http, hubs[other].url + path, method, body, 20, 2)  # warm both paths up
            local = run(http, hubs[holder].url + path, method, body, args.requests, args.concurrency)
            routed = run(http, hubs[other].url + path, method, body, args.requests, args.concurrency)
            for label, result in (("through the holder", local), ("through the other", routed)):
                print(f"{name:16} {label:19} {result['rate']:7.1f}/s  p50 {result['p50']:6.1f} ms  "
                      f"p99 {result['p99']:6.1f} ms  {result['statuses']}")
            print(f"{name:16} ratio routed/local: rate {routed['rate'] / local['rate']:.2f}, "
                  f"p50 {routed['p50'] / local['p50']:.2f}x")


if __name__ == "__main__":
    main()
