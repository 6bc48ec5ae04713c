"""Cluster benchmark on a throwaway PostgreSQL: HUB_WORKERS=1 against HUB_WORKERS=2 in the same run, and failover.

    .venv/bin/python bench/cluster.py [--sends 3000] [--concurrency 20] [--events 600] [--rounds 2]
                                      [--failovers 5] [--sessions 12] [--ttl 15]

Prints, from one run:
  1. sends accepted/s: POST /api/whatsapp/send with `"async": true` (stored durably and answered 202,
     sent by the session's holder in the background) from one gevent client (urllib3), against a
     hub with 1 worker and one with 2, in alternating rounds -> medians and the ratio 2/1, with the
     workers' CPU per send (from /proc: whether a second worker costs more per send or only lacks a core);
  2. fan-out deliveries/s: --events inbound messages to 5 nginx listeners (204), then a bulk replay of
     every delivery, drained as fast as the hub can (the cap of 4 POSTs per listener is held for
     the whole cluster) -> medians and the ratio 2/1;
  3. failover: 3 hub processes (one worker each, lease TTL --ttl), --sessions sandbox sessions; kill -9
     of one -> seconds until every session is connected again on the two others; median and max of
     --failovers runs (the killed process is started again between runs and gets its share back).
nginx (`apt-get install -y nginx`) answers the listeners' POSTs; PostgreSQL from tests/postgres.py.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import urllib3  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.fanout import LISTENERS, TICKS, Nginx, drain_rate, free_ports, wait_drained  # noqa: E402
from bench.send import run  # noqa: E402
from tests import postgres  # noqa: E402
from tests.cluster.test_cluster_pg import Cluster, bring_up  # noqa: E402
from tests.integration.hubproc import HubProcess  # noqa: E402

TARGET_RATIO = 1.5


def connect(hub: HubProcess, session_id: str = "bench") -> None:
    """Create and scan a sandbox session (with 2 workers a scan may reach the one not holding it: retried)."""
    assert hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True}).ok
    status = lambda: hub.get(f"/api/sessions/{session_id}").json()["session"]["status"]  # noqa: E731
    hub.wait_for(lambda: status() == "qr", timeout=60, interval=0.2)
    hub.wait_for(lambda: hub.post(f"/api/sandbox/{session_id}/scan", json={}).ok, timeout=30, interval=0.2)
    hub.wait_for(lambda: status() == "connected", timeout=30, interval=0.2)


def inject(hub: HubProcess, nginx: Nginx, ports: list[int], events: int) -> None:
    """`events` inbound messages, each delivered to every listener (waited for)."""
    for n in range(events):
        hub.post("/api/sandbox/bench/inbound", json={"from": "51999111222", "text": f"m{n}"})
    hub.wait_for(lambda: all(nginx.count(port) >= events for port in ports), timeout=180, interval=0.2)
    wait_drained(hub)


def workers_cpu(hub: HubProcess) -> float:
    """CPU seconds (user + system) all of the hub's workers have used so far."""
    master = hub.process.pid
    total = 0
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def measure(directory: Path, base_url: str, template: str, workers: int, nginx: Nginx, ports: list[int],
            args) -> dict:
    """One hub with `workers` workers on a fresh database: its fan-out drain rate, then its accepted sends/s."""
    url = postgres.create_database(base_url, template)
    for port in ports:  # every hub starts with empty access logs (nginx appends: truncating is enough)
        (nginx.directory / f"{port}.log").write_text("")
    hub = HubProcess(directory / f"w{workers}-{time.monotonic_ns()}", HUB_DATABASE_URL=url, HUB_WORKERS=workers,
                     HUB_LOG_LEVEL="WARNING")
    hub.directory.mkdir()
    with hub:
        connect(hub)
        ids = [hub.post("/api/whatsapp/register-listener", json={
            "callbackUrl": nginx.url(port), "events": ["message-received"]}).json()["listener"]["id"] for port in ports]
        since = datetime.now(UTC) - timedelta(seconds=1)
        inject(hub, nginx, ports, args.events)
        cpu = workers_cpu(hub)
        fanout = drain_rate(hub, nginx, ports, ids, since, datetime.now(UTC) + timedelta(seconds=1))
        fanout_cpu, cpu = (workers_cpu(hub) - cpu) * 1000 / (args.events * LISTENERS), workers_cpu(hub)
        http = urllib3.PoolManager(maxsize=args.concurrency)
        send = {"sessionId": "bench", "to": "+51 987 654 321", "message": "Su pedido 1234 está listo", "async": True}
        sends = run(http, hub.url + "/api/whatsapp/send", "POST", send, args.sends, args.concurrency)
        sends_cpu = (workers_cpu(hub) - cpu) * 1000 / args.sends
    postgres.drop_database(url)
    assert set(sends["statuses"]) == {202}, sends["statuses"]
    return {"sends": sends["rate"], "fanout": fanout, "sends_cpu": sends_cpu, "fanout_cpu": fanout_cpu}


def throughput(directory: Path, base_url: str, template: str, args) -> None:
    ports = free_ports(LISTENERS)
    nginx = Nginx(directory, ports)
    rates = {1: [], 2: []}
    try:
        for _ in range(args.rounds):
            for workers in (1, 2):
                rates[workers].append(measure(directory, base_url, template, workers, nginx, ports, args))
    finally:
        nginx.stop()
    print(f"throughput on PostgreSQL, {args.rounds} rounds (medians; each round's figures in brackets):")
    for key, label in (("sends", "sends accepted/s (async, 202)"), ("fanout", "fan-out deliveries/s (5 listeners)")):
        one, two = ([round(r[key]) for r in rates[w]] for w in (1, 2))
        ratio = statistics.median(two) / statistics.median(one)
        cpu = [statistics.median(r[f"{key}_cpu"] for r in rates[w]) for w in (1, 2)]
        print(f"  {label:38} 1 worker {statistics.median(one):6.0f} {one}  2 workers {statistics.median(two):6.0f} "
              f"{two}  ratio {ratio:.2f} (target {TARGET_RATIO}); workers' CPU ms each: {cpu[0]:.2f} / {cpu[1]:.2f}")
    print(f"  load average while measured: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")


class Trio(Cluster):
    """Three hub processes with the benchmark's lease TTL."""

    ttl = 15.0

    def _hub(self, node_id: str) -> HubProcess:
        hub = super()._hub(node_id)
        hub.extra_env["HUB_LEASE_TTL"] = f"{self.ttl}s"
        return hub


def evenly_connected(cluster: Cluster, sessions: int) -> bool:
    views = cluster.sessions().values()
    per_owner = {}
    for view in views:
        per_owner[view["owner"]] = per_owner.get(view["owner"], 0) + 1
    return all(view["status"] == "connected" for view in views) and sorted(per_owner.values()) == [sessions // 3] * 3


def restart(hub: HubProcess, timeout: float = 60) -> None:
    """Start a killed member again (refused while its old heartbeat is younger than a TTL: retried)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            hub.start()
            return
        except (RuntimeError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def failover(directory: Path, base_url: str, template: str, args) -> None:
    Trio.ttl = args.ttl
    url = postgres.create_database(base_url, template)
    times = []
    with ExitStack() as stack:
        (directory / "failover").mkdir()
        cluster = Trio(stack, directory / "failover", url, 3)
        bring_up(cluster, [f"shop{i:02d}" for i in range(args.sessions)])
        for n in range(args.failovers):
            cluster.any().wait_for(lambda: evenly_connected(cluster, args.sessions), timeout=90, interval=0.2)
            victim = f"node{n % 3}"
            cluster.hubs[victim].kill()
            times.append(cluster.wait_all_connected(set(cluster.hubs) - {victim}, timeout=args.ttl * 2 + 30))
            restart(cluster.hubs[victim])
        double = cluster.double_connections()
    print(f"failover (3 processes, {args.sessions} sandbox sessions, lease TTL {args.ttl:g} s): kill -9 -> every "
          f"moved session connected again: median {statistics.median(times):.1f} s, max {max(times):.1f} s "
          f"({', '.join(f'{t:.1f}' for t in times)}); double connections: {double}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--events", type=int, default=600, help="inbound messages (x5 deliveries) per hub")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--failovers", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--ttl", type=float, default=15.0, help="HUB_LEASE_TTL of the failover case, seconds")
    parser.add_argument("--skip", choices=["throughput", "failover"], help="leave one part out")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, postgres.cluster() as base_url:
        template = postgres.migrated_template(base_url)
        if args.skip != "throughput":
            throughput(Path(directory), base_url, template, args)
        if args.skip != "failover":
            failover(Path(directory), base_url, template, args)


if __name__ == "__main__":
    main()
