"""Fan-out benchmark: sandbox messages through the real hub (gunicorn, gevent) to 5 nginx listeners.

    .venv/bin/python bench/fanout.py [--rate 200] [--seconds 5]

Prints, from one run:
  1. ingest->receipt latency p50/p99 at --rate events/s with 5 listeners (live fan-out);
  2. dispatcher throughput: bulk replay of every delivery, drained as fast as the hub can,
     and the same number of plain urllib3 POSTs at the same concurrency (20 = 5 x 4) in a
     gevent process -> ratio; plus requests.Session and geventhttpclient loops for the client choice;
  3. the cost of one blackholed listener (accepts, never answers) for 4 healthy ones;
  4. the flood case (`--flood-rounds`, or alone with `--only-flood`): one listener for two sessions;
     session A is flooded by 6 clients (their own process) while B gets a message every 100 ms.
     Prints B's inject->receipt p50/p95 with A quiet and during A's flood, and the drain rate of
     bulk replays of the listener's deliveries (median of 3) with the worker's CPU per delivery,
     with the fair claim and with the previous claim (each endpoint's oldest due first; the
     private switch BENCH_PREVIOUS_CLAIM=1, with the index it used put back), in alternating hubs
     of the same run -> ratios (the CPU one is the steadier on a shared machine).
nginx (`apt-get install -y nginx`) answers 204 and logs `$msec $http_webhook_id` per request.
"""
from __future__ import annotations

import sys

if __name__ == "__main__" and "--baseline" in sys.argv:  # the baseline runs in its own gevent process
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LISTENERS = 5
PER_ENDPOINT = 4  # hub/delivery/dispatcher.py PER_ENDPOINT
BODY = json.dumps({"id": "evt_01M81E6DGS98S07Y48XHJ6ZWRB", "seq": 6, "type": "message-received",
                   "sessionId": "bench", "timestamp": "2026-11-22T10:52:54.682Z", "sandbox": True,
                   "data": {"messageId": "3EB027FBE7FBB2CDEBA8EB", "chatId": "51999111222@s.whatsapp.net",
                            "from": "51999111222@s.whatsapp.net", "type": "text", "text": "hola 123"}}).encode()


# -- baseline (own process, gevent) ----------------------------------------------------------
def baseline(total: int, concurrency: int, urls: list[str]) -> dict:
    """POST `total` bodies round-robin to `urls` with `concurrency` greenlets: urllib3, requests, geventhttpclient."""
    import gevent
    import requests
    import urllib3
    from geventhttpclient import HTTPClient

    pool = urllib3.PoolManager(maxsize=concurrency, retries=False)
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))
    clients = {url: HTTPClient.from_url(url, concurrency=concurrency) for url in urls}

    def run(post) -> float:
        counter = iter(range(total))

        def worker():
            for n in counter:
                post(urls[n % len(urls)])
        started = time.perf_counter()
        gevent.joinall([gevent.spawn(worker) for _ in range(concurrency)])
        return total / (time.perf_counter() - started)
    headers = {"content-type": "application/json", "webhook-id": "evt_x"}
    return {"urllib3": run(lambda url: pool.request("POST", url, body=BODY, headers=headers, redirect=False)),
            "requests": run(lambda url: session.post(url, data=BODY, headers=headers, allow_redirects=False)),
            "geventhttpclient": run(lambda url: clients[url].request("POST", "/hook", body=BODY,
                                                                     headers=headers).read())}


# -- receivers -------------------------------------------------------------------------------
class Nginx:
    """nginx answering 204 on LISTENERS ports, one access log per port."""

    def __init__(self, directory: Path, ports: list[int]):
        self.directory, self.ports = directory, ports
        servers = "\n".join(f"server {{ listen 127.0.0.1:{port} backlog=4096; access_log {directory}/{port}.log bench; "
                            f"location / {{ return 204; }} }}" for port in ports)
        (directory / "nginx.conf").write_text(f"""
worker_processes 1; pid {directory}/nginx.pid; error_log {directory}/error.log warn; daemon off;
events {{ worker_connections 4096; }}
http {{ log_format bench '$msec $http_webhook_id'; keepalive_requests 1000000; keepalive_timeout 60s;
        client_body_temp_path {directory}; {servers} }}""")
        self.process = subprocess.Popen(["nginx", "-c", str(directory / "nginx.conf")])
        time.sleep(0.5)

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/hook"

    def receipts(self, port: int) -> list[tuple[float, str]]:
        path = self.directory / f"{port}.log"
        lines = path.read_text().split("\n") if path.exists() else []
        return [(float(at), webhook_id) for at, webhook_id in (line.split() for line in lines if line.strip())]

    def count(self, port: int) -> int:
        path = self.directory / f"{port}.log"
        return path.read_bytes().count(b"\n") if path.exists() else 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def blackhole() -> socket.socket:
    """A port that accepts connections (kernel backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    return sock


def free_ports(n: int) -> list[int]:
    from tests.integration.hubproc import free_port

    return [free_port() for _ in range(n)]


# -- driving the hub -------------------------------------------------------------------------
def drive(hub, rate: float, seconds: float) -> int:
    """Send rate*seconds sandbox inbound messages at a steady pace (8 client threads)."""
    import requests

    total = int(rate * seconds)
    started = time.perf_counter()
    counter = iter(range(total))
    lock = threading.Lock()

    def client():
        http = requests.Session()
        http.headers["X-API-Key"] = hub.http.headers["X-API-Key"]
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            http.post(f"{hub.url}/api/sandbox/bench/inbound", json={"from": "51999111222", "text": f"m{n}"}, timeout=30)
    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total


def wait_counts(nginx: Nginx, ports: list[int], expected: int, timeout: float = 120) -> float:
    """Wait until every port has logged `expected` requests; returns the last receipt time."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(nginx.count(port) >= expected for port in ports):
            return max(nginx.receipts(port)[-1][0] for port in ports)
        time.sleep(0.05)
    raise TimeoutError(f"receipts: {[nginx.count(p) for p in ports]} of {expected}")


def event_times(hub) -> dict[str, float]:
    """Every message-received event's record time (epoch seconds) by id."""
    times, after = {}, 0
    while True:
        params = {"type": "message-received", "afterSeq": after, "limit": 500}
        events = hub.get("/api/events", params=params).json()["events"]
        if not events:
            return times
        for event in events:
            times[event["id"]] = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
        after = events[-1]["seq"]


def replay(hub, endpoint_ids: list[str], since: datetime, until: datetime) -> int:
    return sum(hub.post("/api/deliveries/replay", json={"endpointId": endpoint_id, "since": since.isoformat(),
                                                        "until": until.isoformat()}).json()["count"]
               for endpoint_id in endpoint_ids)


def drain_rate(hub, nginx, ports, ids, since, until) -> float:
    """Bulk-replay these endpoints' deliveries; deliveries/s until the last one is received."""
    before = {port: nginx.count(port) for port in ports}
    started = time.time()
    count = replay(hub, ids, since, until)
    per_endpoint = count // len(ids)
    deadline = time.time() + 120
    while any(nginx.count(port) - before[port] < per_endpoint for port in ports):
        if time.time() > deadline:
            raise TimeoutError("replay did not drain")
        time.sleep(0.02)
    last = max(nginx.receipts(port)[-1][0] for port in ports)
    return count / (last - started)


# -- 4. the flood case ------------------------------------------------------------------------
PROBE_EVERY = 0.1
TICKS = os.sysconf("SC_CLK_TCK")
FLOOD_CLIENTS = 6
DRAINS = 3  # bulk replays per hub (the median is kept: this machine is noisy)


def previous_claim_schema(database: Path) -> None:
    """The index the previous claim scanned, instead of the fair claim's (the bench's switch only)."""
    import sqlite3

    with sqlite3.connect(database, timeout=30) as connection:
        connection.execute("CREATE INDEX IF NOT EXISTS ix_deliveries_due ON deliveries (endpoint_id, next_attempt_at)")
        connection.execute("DROP INDEX IF EXISTS ix_deliveries_queue")


def probe(hub, seconds: float, tag: str, sent: dict) -> None:
    """Session B receives a message every PROBE_EVERY seconds; inject times by text into `sent`."""
    for n in range(int(seconds / PROBE_EVERY)):
        text, started = f"{tag}{n}", time.time()
        sent[text] = started
        hub.post("/api/sandbox/B/inbound", json={"from": "51988000222", "text": text})
        time.sleep(max(0.0, started + PROBE_EVERY - time.time()))


def probe_latencies(hub, nginx: Nginx, port: int, sent: dict, tag: str) -> list[float]:
    """Inject -> receipt (ms) of B's probes tagged `tag`."""
    texts, after = {}, 0
    while events := hub.get("/api/events", params={"sessionId": "B", "type": "message-received", "afterSeq": after,
                                                   "limit": 500}).json()["events"]:
        texts.update({event["id"]: event["data"]["text"] for event in events})
        after = events[-1]["seq"]
    received = {texts[webhook_id]: at for at, webhook_id in nginx.receipts(port) if webhook_id in texts}
    return [(received[text] - at) * 1000 for text, at in sent.items() if text.startswith(tag) and text in received]


def wait_drained(hub, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while any(hub.get("/api/deliveries", params={"status": status, "limit": 1}).json()["total"]
              for status in ("pending", "delivering", "failed")):
        if time.time() > deadline:
            raise TimeoutError("the flood's deliveries did not drain")
        time.sleep(0.2)


def worker_cpu(hub) -> float:
    """CPU seconds (user + system) the hub's worker has used so far."""
    fields = Path(f"/proc/{hub.worker_pid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def drain_cost(hub, nginx, port: int, endpoint_id: str, since, until) -> tuple[float, float]:
    """One bulk replay: (deliveries/s by the clock, worker CPU ms per 1,000 deliveries).

    The CPU figure hardly moves with what else runs on the machine; the rate does, a lot.
    """
    cpu = worker_cpu(hub)
    count = hub.get("/api/deliveries", params={"endpointId": endpoint_id, "limit": 1}).json()["total"]
    rate = drain_rate(hub, nginx, [port], [endpoint_id], since, until)
    return rate, (worker_cpu(hub) - cpu) * 1000 / count * 1000


def flood_round(directory: Path, previous: bool, seconds: float) -> dict:
    """One hub: B quiet, B during A's flood, then the drain rate of bulk replays (median); figures in ms and /s."""
    import multiprocessing

    from tests.delivery.live import drain, flood
    from tests.integration.hubproc import HubProcess

    directory.mkdir(parents=True)
    [port] = free_ports(1)
    nginx = Nginx(directory, [port])
    hub = HubProcess(directory, HUB_LOG_LEVEL="WARNING", **({"BENCH_PREVIOUS_CLAIM": "1"} if previous else {}))
    try:
        hub.start()
        if previous:
            previous_claim_schema(directory / "hub.db")
        for session_id in ("A", "B"):
            assert hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True}).ok
            assert hub.post(f"/api/sandbox/{session_id}/scan", json={}).ok
        endpoint_id = hub.post("/api/whatsapp/register-listener", json={
            "callbackUrl": nginx.url(port), "events": ["message-received", "session-status"]}).json()["listener"]["id"]
        since, sent = datetime.now(UTC) - timedelta(seconds=1), {}
        probe(hub, 3.0, "quiet", sent)
        processes = multiprocessing.get_context("spawn")
        stop, injected = processes.Event(), processes.Queue()
        flooder = processes.Process(target=flood, args=(hub.url, "A", FLOOD_CLIENTS, stop, injected))
        flooder.start()
        time.sleep(1.5)  # the process starts, A's backlog builds up
        probe(hub, seconds, "busy", sent)
        stop.set()
        flooded = len(drain(injected))
        flooder.join(30)
        wait_drained(hub)
        quiet, busy = (probe_latencies(hub, nginx, port, sent, tag) for tag in ("quiet", "busy"))
        until = datetime.now(UTC) + timedelta(seconds=1)
        drains = [drain_cost(hub, nginx, port, endpoint_id, since, until) for _ in range(DRAINS)]
        rate, cpu = (statistics.median(drain[i] for drain in drains) for i in (0, 1))
        return {"quiet": quiet, "busy": busy, "lost": len([t for t in sent if t.startswith("busy")]) - len(busy),
                "flooded": flooded, "drain": rate, "cpu": cpu}
    finally:
        hub.stop()
        nginx.stop()


def flood_case(directory: Path, rounds: int, seconds: float) -> None:
    """Fair and previous claim in alternating hubs; B's latency and the drain rate of each, then the ratio."""
    runs = {"previous": [], "fair": []}
    for n in range(rounds):
        for claim in ("previous", "fair"):
            run = flood_round(directory / f"flood-{claim}-{n}", claim == "previous", seconds)
            runs[claim].append(run)
            print(f"flood round {n + 1} {claim:>8} claim: A flooded with {run['flooded']} messages; B inject->receipt "
                  f"quiet p50 {percentile(run['quiet'], 50):.0f} ms p95 {percentile(run['quiet'], 95):.0f} ms, during "
                  f"A's flood p50 {fmt(run['busy'], 50)} p95 {fmt(run['busy'], 95)}"
                  f"{f' ({lost} probes lost)' if (lost := run['lost']) else ''}; "
                  f"drain {run['drain']:.0f} deliveries/s, "
                  f"worker CPU {run['cpu']:.0f} ms per 1,000",
                  flush=True)
    fair, old = (statistics.mean(run["drain"] for run in runs[claim]) for claim in ("fair", "previous"))
    fair_cpu, old_cpu = (statistics.mean(run["cpu"] for run in runs[claim]) for claim in ("fair", "previous"))
    print(f"flood: drain rate fair {fair:.0f}/s vs previous claim {old:.0f}/s -> ratio {fair / old:.3f}; worker CPU "
          f"per delivery fair {fair_cpu / 1000:.3f} ms vs previous {old_cpu / 1000:.3f} ms -> throughput ratio on "
          f"a free core {old_cpu / fair_cpu:.3f} (target within 5 %: >= 0.95)")


def fmt(values: list[float], q: int) -> str:
    return f"{percentile(values, q):.0f} ms" if values else "n/a"


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--flood-rounds", type=int, default=2, help="hubs per claim in the flood case (0: skip it)")
    parser.add_argument("--only-flood", action="store_true", help="run the flood case only")
    args = parser.parse_args()
    if not shutil.which("nginx"):
        sys.exit("nginx is needed: apt-get install -y nginx")
    from tests.integration.hubproc import HubProcess

    directory = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    if args.only_flood:
        try:
            flood_case(directory, args.flood_rounds, args.seconds)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    ports = free_ports(LISTENERS)
    nginx = Nginx(directory, ports)
    hole = blackhole()
    hub = HubProcess(directory, HUB_LOG_LEVEL="WARNING", HUB_WEBHOOK_TIMEOUT="2")
    try:
        hub.start()
        assert hub.post("/api/sessions", json={"sessionId": "bench", "engine": "sandbox", "start": True}).ok
        assert hub.post("/api/sandbox/bench/scan", json={}).ok
        ids = [hub.post("/api/whatsapp/register-listener",
                        json={"callbackUrl": nginx.url(port), "events": ["message-received"]}).json()["listener"]["id"]
               for port in ports]

        # 1. live fan-out latency
        since = datetime.now(UTC) - timedelta(seconds=1)
        started = time.time()
        total = drive(hub, args.rate, args.seconds)
        sent_for = time.time() - started
        wait_counts(nginx, ports, total)
        until = datetime.now(UTC) + timedelta(seconds=1)
        recorded = event_times(hub)
        latencies = [(at - recorded[webhook_id]) * 1000 for port in ports for at, webhook_id in nginx.receipts(port)]
        print(f"live: {total} events in {sent_for:.1f} s ({total / sent_for:.0f} events/s) x {LISTENERS} listeners "
              f"= {len(latencies)} deliveries; ingest->receipt p50 {percentile(latencies, 50):.1f} ms, "
              f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies):.1f} ms")

        # 2. dispatcher throughput vs plain urllib3 at the same concurrency
        hub_rate = drain_rate(hub, nginx, ports, ids, since, until)
        out = subprocess.run([sys.executable, __file__, "--baseline", str(total * LISTENERS),
                              str(PER_ENDPOINT * LISTENERS), *[nginx.url(p) for p in ports]],
                             capture_output=True, text=True, check=True)
        plain = json.loads(out.stdout)
        print(f"throughput: hub {hub_rate:.0f} deliveries/s (signed, logged, {PER_ENDPOINT * LISTENERS} in flight); "
              f"plain urllib3 loop {plain['urllib3']:.0f} POST/s -> ratio {hub_rate / plain['urllib3']:.2f}; "
              f"requests.Session loop {plain['requests']:.0f} POST/s; geventhttpclient loop "
              f"{plain['geventhttpclient']:.0f} POST/s (the hub's client under gevent; ratio to it "
              f"{hub_rate / plain['geventhttpclient']:.2f})")

        # 3. one blackholed listener among 5: throughput of the 4 healthy ones, without and with it
        healthy_ports, healthy_ids = ports[:4], ids[:4]
        alone = drain_rate(hub, nginx, healthy_ports, healthy_ids, since, until)
        hub.post("/api/whatsapp/unregister-listener", json={"callbackUrl": nginx.url(ports[4])})
        hub.post("/api/whatsapp/register-listener", json={"callbackUrl": f"http://127.0.0.1:{hole.getsockname()[1]}/hook",
                                                          "events": ["message-received"]})
        backlog = drive(hub, args.rate, 1)  # the blackhole now has a backlog and 4 hanging POSTs
        wait_counts(nginx, healthy_ports, total * 3 + backlog)
        beside = drain_rate(hub, nginx, healthy_ports, healthy_ids, since, until)
        print(f"blackhole: 4 healthy listeners drain {alone:.0f} deliveries/s alone, {beside:.0f} beside a "
              f"blackholed one -> cost {max(0.0, 1 - beside / alone) * 100:.1f} %")
    finally:
        hub.stop()
        nginx.stop()
        hole.close()
    try:
        if args.flood_rounds:
            flood_case(directory, args.flood_rounds, args.seconds)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    if "--baseline" in sys.argv:
        position = sys.argv.index("--baseline")
        total, concurrency, *urls = sys.argv[position + 1:]
        print(json.dumps(baseline(int(total), int(concurrency), urls)))
    else:
        main()
