"""Accepted sends per second through real gunicorn (sandbox engine), with p50/p99 latency.

Cases: `connected` (each request sends at once: 200 with the WhatsApp id), `queued` (the
session is stopped, so every send is stored durably and answered 202; the same path as `"async": true`)
and `mixed` (connected; the requests rotate over text, a reply quoting a message from the history
with a mention, a reaction when the hub has the reaction route, a PNG image and a WAV voice note,
which is probed and converted to ogg/opus by ffmpeg): accepted/s and p99 per kind.
Baseline in the same run: GET /api/health at the same concurrency, so the ratio says what a send
costs compared with the cheapest request. The machines are noisy (run to run the baseline alone
varies by a third), so each case runs in several rounds, interleaved with the baseline, and the
report gives medians and each round's ratio to the baseline measured just before it.
The client is one gevent process with urllib3 (about 2,200 requests/s on this kind of machine).

    .venv/bin/python bench/send.py [--requests 3000] [--concurrency 20] [--rounds 3] [--mixed-requests 1000]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import urllib3  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.hubproc import API_KEY, HubProcess  # noqa: E402

TARGET_RATE, TARGET_P99_MS = 1000, 50
BASELINE = "baseline GET /api/health"


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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mixed-requests", type=int, default=1000, help="requests per round of the mixed case")
    args = parser.parse_args()
    http = urllib3.PoolManager(maxsize=args.concurrency)
    with tempfile.TemporaryDirectory() as directory, HubProcess(Path(directory), HUB_LOG_LEVEL="WARNING") as hub:
        hub.post("/api/sessions", json={"sessionId": "bench", "engine": "sandbox", "start": True})
        hub.post("/api/sandbox/bench/scan", json={})
        send_url = hub.url + "/api/whatsapp/send"
        text = {"sessionId": "bench", "to": "+51 987 654 321", "message": "Su pedido 1234 está listo"}
        health = lambda: run(http, hub.url + "/api/health", "GET", None, args.requests, args.concurrency)  # noqa: E731
        sends = lambda: run(http, send_url, "POST", text, args.requests, args.concurrency)  # noqa: E731
        run(http, hub.url + "/api/health", "GET", None, 500, args.concurrency)  # warm-up
        rounds = {BASELINE: [], "send, connected (200 sent)": [], "send, offline (202 queued)": []}
        for _ in range(args.rounds):
            rounds[BASELINE].append(health())
            rounds["send, connected (200 sent)"].append(with_grouping(hub, sends, rounds[BASELINE][-1]))
        mixed_rounds = mixed_case(http, hub, args, health, rounds[BASELINE])
        hub.post("/api/sessions/bench/stop")
        for _ in range(args.rounds):
            rounds[BASELINE].append(health())
            rounds["send, offline (202 queued)"].append(with_grouping(hub, sends, rounds[BASELINE][-1]))
        queued = args.requests * args.rounds
        drain_rate = drain(hub, already_sent=queued, queued=queued)
    report(rounds, args)
    report_mixed(mixed_rounds, args)
    print(f"  queue drain after reconnect: {queued} queued messages sent in order at {drain_rate:.0f}/s")


def mixed_bodies(hub: HubProcess) -> dict[str, tuple[str, str, dict]]:
    """kind -> (method, URL, body) of the mixed case; `reaction` only when the hub has the route."""
    from tests.media_samples import png, wav

    asked = hub.post("/api/sandbox/bench/inbound", json={"from": "51987654321", "text": "¿Tienen talla M?"})
    message_id = asked.json()["messageId"]
    base = {"sessionId": "bench", "to": "51987654321"}
    send_url = hub.url + "/api/whatsapp/send"
    bodies = {"text": ("POST", send_url, {**base, "message": "Su pedido 1234 está listo"}),
              "reply": ("POST", send_url, {**base, "message": "Sí, @51987654321", "replyTo": message_id,
                                           "mentions": ["51987654321"]})}
    reaction = f"/api/sessions/bench/messages/{message_id}/reaction"
    if "/api/sessions/{session_id}/messages/{message_id}/reaction" in hub.get("/openapi.json").json()["paths"]:
        bodies["reaction"] = ("POST", hub.url + reaction, {"emoji": "👍"})
    bodies["image"] = ("POST", send_url, {**base, "media": {"base64": b64(png(64)), "mimetype": "image/png"}})
    bodies["voice"] = ("POST", send_url, {**base, "media": {"base64": b64(wav(2.0)), "mimetype": "audio/wav",
                                                            "voice": True}})
    return bodies


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def run_kinds(http, bodies: dict, counts: dict, concurrency: int) -> dict:
    """counts[kind] requests of each kind (rotating when several); per kind: accepted (2xx) per second, p99."""
    headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
    order = [kind for n in range(max(counts.values())) for kind in counts if n < counts[kind]]
    payloads = {kind: json.dumps(bodies[kind][2]).encode() for kind in counts}
    latencies, accepted = {kind: [] for kind in counts}, dict.fromkeys(counts, 0)
    remaining = iter(order)

    def client():
        for kind in remaining:
            method, url, _ = bodies[kind]
            started = time.perf_counter()
            response = http.request(method, url, body=payloads[kind], headers=headers, retries=False)
            latencies[kind].append(time.perf_counter() - started)
            accepted[kind] += 200 <= response.status < 300

    started = time.perf_counter()
    gevent.joinall([gevent.spawn(client) for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    return {"rate": sum(accepted.values()) / elapsed, "kinds": {
        kind: {"rate": accepted[kind] / elapsed, "p99": sorted(values)[max(0, int(len(values) * 0.99) - 1)] * 1000,
               "accepted": accepted[kind], "sent": len(values)} for kind, values in latencies.items()}}


def kind_counts(bodies: dict, total: int) -> dict:
    """Requests per kind: `total` for the cheap kinds, a fifth for image and voice (PIL, ffmpeg)."""
    return {kind: total if kind not in ("image", "voice") else max(20, total // 5) for kind in bodies}


def mixed_case(http, hub: HubProcess, args, health, baselines: list) -> list[dict]:
    """Per round: a baseline, each kind alone (its accepted/s and p99, ratio to that baseline), then all
    kinds interleaved (the p99 each kind gets while the others run)."""
    bodies = mixed_bodies(hub)
    counts = kind_counts(bodies, args.mixed_requests)
    results = []
    for _ in range(args.rounds):
        baselines.append(health())
        alone = {kind: run_kinds(http, bodies, {kind: count}, args.concurrency)["kinds"][kind]
                 for kind, count in counts.items()}
        mixed = run_kinds(http, bodies, counts, args.concurrency)
        results.append({"baseline": baselines[-1]["rate"], "alone": alone, "mixed": mixed})
    return results


def report_mixed(results: list[dict], args) -> None:
    kinds = list(results[0]["alone"])
    median = lambda values: statistics.median(list(values))  # noqa: E731
    print(f"  send by kind ({args.mixed_requests} requests per kind, a fifth for image and voice; medians of "
          f"{len(results)} round(s); ratio = accepted/s / GET /api/health/s of the same round)")
    for kind in kinds:
        alone = [r["alone"][kind] for r in results]
        ratios = ", ".join(f"{a['rate'] / r['baseline']:.2f}" for a, r in zip(alone, results, strict=True))
        mixed_p99 = median(r["mixed"]["kinds"][kind]["p99"] for r in results)
        print(f"    {kind:9s} alone {median(a['rate'] for a in alone):6.0f} accepted/s  p99 "
              f"{median(a['p99'] for a in alone):7.1f} ms  ratio [{ratios}]  | mixed p99 {mixed_p99:7.1f} ms")
    ratios = ", ".join(f"{r['mixed']['rate'] / r['baseline']:.2f}" for r in results)
    print(f"    mixed     {median(r['mixed']['rate'] for r in results):6.0f} accepted/s in all, ratio [{ratios}]")
    if "reaction" not in kinds:
        print("    reaction  skipped: this hub has no POST /api/sessions/<id>/messages/<id>/reaction yet")


def group_commit_counters(hub: HubProcess) -> tuple[float, float]:
    """(transactions, writes) of the hub's group-commit writer so far, from /metrics."""
    text = hub.get("/metrics").text
    return tuple(float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))
                 for name in ("hub_db_group_commits_total", "hub_db_group_writes_total"))


def with_grouping(hub: HubProcess, case, baseline: dict) -> dict:
    """Run a case; its result with its ratio to `baseline` and the mean writes per commit during it."""
    commits, writes = group_commit_counters(hub)
    result = case()
    time.sleep(1)  # the receipts of the last sends land (they are writes too)
    commits_after, writes_after = group_commit_counters(hub)
    result["writes_per_commit"] = (writes_after - writes) / max(1.0, commits_after - commits)
    result["ratio"] = result["rate"] / baseline["rate"]
    return result


def drain(hub: HubProcess, already_sent: int, queued: int) -> float:
    """Reconnect the session and time until the worker has sent every queued message."""
    started = time.perf_counter()
    hub.post("/api/sessions/bench/connect")
    hub.wait_for(lambda: len(hub.sandbox_sent("bench")) >= already_sent + queued,
                 timeout=300, interval=0.5)
    return queued / (time.perf_counter() - started)


def report(rounds: dict, args) -> None:
    print(f"bench/send.py: {args.requests} requests per round, {args.rounds} rounds per case, concurrency "
          f"{args.concurrency}, gunicorn 1 gevent worker, SQLite, sandbox engine (medians; rounds in brackets)")
    for name, results in rounds.items():
        median = {key: statistics.median(result[key] for result in results) for key in ("rate", "p50", "p99")}
        statuses = sorted({status for result in results for status in result["statuses"]})
        each_rate = ", ".join(f"{result['rate']:.0f}" for result in results)
        print(f"  {name:28s} {median['rate']:6.0f}/s [{each_rate}]  p50 {median['p50']:5.1f} ms  "
              f"p99 {median['p99']:5.1f} ms  statuses {statuses}")
        if name != BASELINE:
            met = median["rate"] >= TARGET_RATE and median["p99"] <= TARGET_P99_MS
            each_ratio = ", ".join(f"{result['ratio']:.2f}" for result in results)
            per_commit = statistics.median(result["writes_per_commit"] for result in results)
            print(f"  {'':28s} ratio to the baseline of its round [{each_ratio}]  writes per commit "
                  f"{per_commit:.1f}  target >= {TARGET_RATE}/s, p99 <= {TARGET_P99_MS} ms: "
                  f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
