"""Events across processes on PostgreSQL: recorded/s with and without the NOTIFY announcement, and peer latency.

    .venv/bin/python bench/broadcast.py [--events 1000] [--rounds 3] [--postgres URL]

Two hubs' contexts (as two processes would have) on one database — a throwaway PostgreSQL unless
--postgres names a server (postgresql+psycopg://user@host:port, a database is created on it). The
baseline is hub `a` recording events with the announcement callback removed; then the same with it
(announcements queued after each commit, sent in transactions of their own). The ratio is with /
without. Peer latency:
from `record` returning on `a` to the envelope on `b`'s bus (median, p99).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.app import create_app  # noqa: E402
from hub.cluster.broadcast import CHANNEL  # noqa: E402
from hub.config import Config  # noqa: E402
from tests import postgres as pg  # noqa: E402


def hub(url: str, node_id: str):
    directory = Path(tempfile.mkdtemp(prefix=f"bench-broadcast-{node_id}-"))
    return create_app(Config.for_tests(directory, database_url=url, node_id=node_id)).extensions["hub"]


def recorded_per_second(context, events: int, batch: int) -> float:
    """Events stored per second, `batch` per transaction (group commit shares one among waiting writes)."""
    began = time.perf_counter()
    for start in range(0, events, batch):
        context.events.record_many([("message-received", "shop", {"text": f"bench {number}"}, False)
                                    for number in range(start, min(start + batch, events))])
    return events / (time.perf_counter() - began)


def peer_latencies(a, b, events: int) -> list[float]:
    """Seconds from calling `record` on a to the envelope on b's bus, one event at a time."""
    inbox, latencies = b.bus.subscribe(maxsize=events + 10), []
    for number in range(events):
        began = time.perf_counter()
        envelope = a.events.record("message-received", "shop", {"text": f"latency {number}"})
        while (got := inbox.get(timeout=5)) is not None and got["id"] != envelope["id"]:
            pass
        latencies.append(time.perf_counter() - began)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres")
    args = parser.parse_args()
    with ExitStack() as stack:
        server = stack.enter_context(nullcontext(args.postgres) if args.postgres else pg.cluster())
        url = pg.create_database(server, template=pg.migrated_template(server))
        a, b = hub(url, "a"), hub(url, "b")
        announce = next(callback for callback in a.bus._callbacks if getattr(callback, "__name__", "") == "announce")
        figures = {batch: compare(a, announce, args.events, batch, args.rounds) for batch in (1, 20)}
        b.listener.start()
        stack.callback(b.listener.stop)
        while not b.listener.is_listening(CHANNEL):
            time.sleep(0.05)
        latencies = sorted(peer_latencies(a, b, min(args.events, 500)))
    print(f"events recorded, {args.events} per run, median of {args.rounds} alternated runs, PostgreSQL:")
    for batch, (without, with_notify) in figures.items():
        print(f"  {batch:2d} per transaction: without announcement (baseline) {without:7.0f}/s, with NOTIFY "
              f"{with_notify:7.0f}/s, ratio {with_notify / without:.2f}")
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"peer latency (record called on a -> b's bus), {len(latencies)} events: median "
          f"{statistics.median(latencies) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")


def compare(a, announce, events: int, batch: int, rounds: int) -> tuple[float, float]:
    """Median events/s without and with the announcement hook, runs alternated (the machine's load drifts)."""
    runs: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for announced in (False, True):
            if announced:
                a.bus._callbacks.append(announce)
            else:
                a.bus._callbacks.remove(announce)
            runs[announced].append(recorded_per_second(a, events, batch))
    return statistics.median(runs[False]), statistics.median(runs[True])


if __name__ == "__main__":
    main()
