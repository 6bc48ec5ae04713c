"""Many real neonize sessions in one gunicorn gevent worker (offline: every dial fails on DNS).

    .venv/bin/python bench/sessions.py [--sessions 200] [--sample 50]

Prints, from one run of the real hub (HUB_ENGINE=neonize):
  1. RSS and thread count of the worker with 0, --sample and --sessions sessions started, and
     the increment per session against the 0-session baseline measured first in the same run;
  2. the time from process start to every one of --sessions *restored* sessions (stores with a
     linked device, nobody calling connect) having started its first dial, and having it come
     back failed; baseline: the same number of concurrent DNS lookups of WhatsApp's host (here
     the DNS server drops queries, and a dropped one costs 5 s: that, not the hub, bounds it).
  3. --connected N sandbox sessions *connected* to the simulated WhatsApp (the real engine, a
     Neonize thread each): the worker's RSS and threads per connected session against 0, and the
     simulator's own state reported apart (its database rows and bytes).
Targets (issue 3): <= 150 MB at 0, <= 1 MB per extra idle session, 200 restored in < 5 s;
(issue 10): <= 1 MB per connected sandbox session beyond the simulator's own state.
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.hubproc import HubProcess  # noqa: E402
from tests.sessions.neonize_helpers import add_linked_device  # noqa: E402

MB = 1024 * 1024


def worker_usage(hub: HubProcess) -> tuple[float, int]:
    """(RSS in MB, threads) of the gunicorn worker, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{hub.worker_pid()}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def retrying(hub: HubProcess, count: int) -> bool:
    """`count` sessions have each made at least one (failed) connect attempt."""
    sessions = hub.get("/api/sessions").json()["sessions"]
    return sum(1 for view in sessions if view["reconnect"]["attempts"] >= 1) >= count


def start_sessions(hub: HubProcess, session_ids: list[str]) -> None:
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda s: hub.post("/api/sessions", json={"sessionId": s, "start": True}),
                                session_ids))
    assert {reply.status_code for reply in replies} == {201}, {reply.text for reply in replies}


def settled_usage(hub: HubProcess, count: int) -> tuple[float, int]:
    """Usage once `count` sessions have dialled and the first retries have begun."""
    hub.wait_for(lambda: retrying(hub, count), timeout=120, interval=0.2)
    time.sleep(3)  # past the first retries (2 s backoff), so per-dial threads have come and gone
    return worker_usage(hub)


def measure_started(hub: HubProcess, total: int, sample: int) -> list[tuple[int, float, int]]:
    rows = [(0, *worker_usage(hub))]
    ids = [f"s{i:03d}" for i in range(total)]
    start_sessions(hub, ids[:sample])
    rows.append((sample, *settled_usage(hub, sample)))
    start_sessions(hub, ids[sample:])
    rows.append((total, *settled_usage(hub, total)))
    return rows


def measure_restore(hub: HubProcess, directory: Path, total: int) -> tuple[float, float]:
    """Link every store, restart the hub: seconds from process start until restore had started
    every dial (its log line), and until every dial had come back failed (attempts >= 1)."""
    hub.stop()
    for store in (directory / "sessions").glob("*/whatsapp.db"):
        add_linked_device(store)
    started_wall, started = time.time(), time.perf_counter()
    hub.start()
    hub.wait_for(lambda: retrying(hub, total), timeout=180, interval=0.1)
    failed = time.perf_counter() - started
    line = [entry for entry in map(json.loads, filter(None, hub.logs().splitlines()[-2000:]))
            if entry["message"].startswith(f"sessions: {total} restored")][-1]
    dialled = datetime.fromisoformat(line["time"]).timestamp() - started_wall
    return dialled, failed


def dns_baseline(count: int) -> float:
    """Seconds for `count` concurrent lookups of WhatsApp's host: what every first dial must do."""
    def lookup(_):
        try:
            socket.getaddrinfo("web.whatsapp.com", 443)
        except OSError:
            pass
    started = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(lookup, range(count)))
    return time.perf_counter() - started


def connect_sandbox(hub: HubProcess, session_ids: list[str]) -> None:
    """Create, start and scan sandbox sessions (20 at a time)."""
    def link(session_id):
        hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True})
        return hub.post(f"/api/sandbox/{session_id}/scan", json={}, timeout=60).json()["session"]["status"]
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(link, session_ids))
    assert set(statuses) == {"connected"}, statuses


def simulator_state(directory: Path) -> tuple[int, int]:
    """(rows, bytes) of the simulated WhatsApp's tables in the hub's SQLite file."""
    import sqlite3

    with sqlite3.connect(directory / "hub.db") as db:
        tables = ("sandbox_devices", "sandbox_queue", "sandbox_media", "sandbox_sent")
        rows = sum(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables)
        size = sum(db.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'sandbox%'").fetchone())
    return rows, size


def measure_connected(count: int) -> None:
    """RSS and threads per connected sandbox session (the real engine over the simulated WhatsApp)."""
    with tempfile.TemporaryDirectory() as directory, HubProcess(Path(directory), HUB_LOG_LEVEL="WARNING") as hub:
        time.sleep(2)
        base_rss, base_threads = worker_usage(hub)
        connect_sandbox(hub, [f"sb{n:04d}" for n in range(count)])
        time.sleep(3)
        rss, threads = worker_usage(hub)
        rows, size = simulator_state(Path(directory))
    print(f"{count} connected sandbox sessions: worker {base_rss:.1f} -> {rss:.1f} MB "
          f"({(rss - base_rss) / count:.2f} MB/session; target <= 1), threads {base_threads} -> {threads} "
          f"({(threads - base_threads) / count:.2f}/session); simulator state apart: {rows} rows, "
          f"{size / 1024:.0f} KB in the database; ratio RSS {rss / base_rss:.2f}x the 0-session baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--connected", type=int, default=200, help="connected sandbox sessions (0: skip)")
    parser.add_argument("--only-connected", action="store_true", help="skip the neonize (DNS) part")
    args = parser.parse_args()
    if args.connected:
        measure_connected(args.connected)
    if args.only_connected:
        return
    with tempfile.TemporaryDirectory() as directory:
        hub = HubProcess(Path(directory), HUB_ENGINE="neonize")
        with hub:
            rows = measure_started(hub, args.sessions, args.sample)
            dialled, failed = measure_restore(hub, Path(directory), args.sessions)
            restored_rss, restored_threads = worker_usage(hub)
    dns = dns_baseline(args.sessions)
    base_rss, base_threads = rows[0][1], rows[0][2]
    print("neonize sessions in one gunicorn gevent worker (offline, every dial fails on DNS)")
    print(f"{'sessions':>8} {'RSS MB':>8} {'threads':>8} {'MB/session vs 0':>16}")
    for count, rss, threads in rows:
        per_session = f"{(rss - base_rss) / count:.2f}" if count else "baseline"
        print(f"{count:>8} {rss:>8.1f} {threads:>8} {per_session:>16}")
    print(f"restore: {args.sessions} linked sessions: every dial started {dialled:.2f} s after process start "
          f"(target < 5 s); every dial failed and visible {failed:.2f} s after it; "
          f"worker then {restored_rss:.1f} MB, {restored_threads} threads")
    print(f"baseline: {args.sessions} concurrent DNS lookups of web.whatsapp.com from plain Python take "
          f"{dns:.2f} s on this machine -> restore/DNS = {failed / dns:.2f}")
    print(f"ratio: {args.sessions} sessions use {rows[-1][1] / base_rss:.2f}x the baseline RSS and "
          f"{rows[-1][2] / base_threads:.2f}x its threads")


if __name__ == "__main__":
    main()
