"""The API rate limiter's overhead: a keyed route that does no work, with and without the limiter, same run.

Two hubs run side by side (real gunicorn, one gevent worker each): one with HUB_RATE_LIMIT=off, one
with a rate nothing reaches and the default's burst (`1000/s burst 100`), so the difference is the
cost of taking a token (on PostgreSQL: batches of 10, as for the default `50/s burst 100`). Health is
not limited, hence a keyed route: GET /api/no-such-route (authenticated, limited, then 404 without
touching the database), where the limiter's share of a request is the largest. Rounds alternate
between the two hubs, in turn first (the machines are noisy); the report gives medians, each
round's ratio, and the overhead. Target: under 5 %.
With --postgres URL (postgresql+psycopg://...) both hubs use that database: the buckets are then
rows, charged a batch of tokens per round trip (the cluster-wide limit).

    .venv/bin/python bench/ratelimit.py [--requests 2000] [--concurrency 20] [--rounds 9] [--postgres URL]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from pathlib import Path  # noqa: E402

import urllib3  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from send import run  # noqa: E402  (the same client loop as bench/send.py)

from hub.ratelimit.buckets import MemoryBuckets  # noqa: E402
from hub.rates import RateLimit  # noqa: E402
from tests.integration.hubproc import HubProcess  # noqa: E402

TARGET_OVERHEAD = 0.05
ROUTE = "/api/no-such-route"
CASES = {"limiter off": "off", "limiter on": "1000/s burst 100"}


def start_hubs(stack: ExitStack, postgres: str | None) -> dict[str, HubProcess]:
    """One hub per case, each in its own temp dir."""
    hubs = {}
    for name, limit in CASES.items():
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = {"HUB_LOG_LEVEL": "WARNING", "HUB_RATE_LIMIT": limit}
        if postgres:
            env["HUB_DATABASE_URL"] = postgres
        hubs[name] = stack.enter_context(HubProcess(directory, **env))
    return hubs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--postgres", help="a PostgreSQL URL both hubs use (default: SQLite, in-memory buckets)")
    args = parser.parse_args()
    http = urllib3.PoolManager(maxsize=args.concurrency)
    rounds: dict[str, list[dict]] = {name: [] for name in CASES}
    with ExitStack() as stack:
        hubs = start_hubs(stack, args.postgres)
        for hub in hubs.values():
            run(http, hub.url + ROUTE, "GET", None, 500, args.concurrency)  # warm-up
        for index in range(args.rounds):
            for name, hub in sorted(hubs.items(), reverse=bool(index % 2)):
                rounds[name].append(run(http, hub.url + ROUTE, "GET", None, args.requests, args.concurrency))
    report(rounds, args)
    if not args.postgres:
        per_take = microseconds_per_take()
        service = 1e6 / statistics.median(result["rate"] for result in rounds["limiter off"])
        print(f"  in process: {per_take:.2f} µs per token taken (MemoryBuckets.take, 100 callers) = "
              f"{per_take / service:.2%} of a request's {service:.0f} µs (the worker serves one at a time)")


def microseconds_per_take(count: int = 200_000) -> float:
    """The steady cost of one decision of the in-memory buckets, outside any noise of HTTP."""
    buckets, rate = MemoryBuckets(), RateLimit(10**8, 1.0, 10**8)
    callers = [f"addr:10.0.0.{index}" for index in range(100)]
    started = time.perf_counter()
    for index in range(count):
        buckets.take(callers[index % 100], rate)
    return (time.perf_counter() - started) / count * 1e6


def report(rounds: dict, args) -> None:
    store = "PostgreSQL (buckets in the database)" if args.postgres else "SQLite (buckets in memory)"
    print(f"bench/ratelimit.py: GET {ROUTE} (keyed, 404), {args.requests} requests per round, {args.rounds} rounds, "
          f"concurrency {args.concurrency}, gunicorn 1 gevent worker, {store}")
    for name, results in rounds.items():
        rates = [result["rate"] for result in results]
        statuses = sorted({status for result in results for status in result["statuses"]})
        print(f"  {name:12s} {statistics.median(rates):6.0f}/s [{', '.join(f'{rate:.0f}' for rate in rates)}]  "
              f"p50 {statistics.median(r['p50'] for r in results):5.1f} ms  statuses {statuses}")
    off, on = ([result["rate"] for result in rounds[name]] for name in CASES)
    ratios = [limited / free for limited, free in zip(on, off, strict=True)]
    overhead = 1 - statistics.median(ratios)
    print(f"  ratio on/off per round [{', '.join(f'{ratio:.3f}' for ratio in ratios)}]  overhead {overhead:+.1%}  "
          f"target < {TARGET_OVERHEAD:.0%}: {'met' if overhead < TARGET_OVERHEAD else 'NOT met'}")


if __name__ == "__main__":
    main()
