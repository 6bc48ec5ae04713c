"""What one /metrics scrape costs as the tables grow (in-process Flask client, SQLite file).

    .venv/bin/python bench/metrics.py [--rows 100000]

Fills events, deliveries, attempts, outbound and media rows, then times scrapes (the first one
ingests the attempt history into the latency histogram, 20,000 rows per scrape; later ones only
new attempts). Baseline in the same run: GET /api/health (one COUNT per session status), so the
ratio says what a scrape costs compared with the cheapest database-backed request. A scrape holds
the hub's one SQLite connection for that long, once per scrape interval.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import insert

from hub.app import create_app
from hub.config import Config
from hub.store import Attempt, Delivery, Endpoint, Event, MediaFile, Outbound, utcnow

AUTH = {"X-API-Key": "test-key"}


def fill(store, rows: int) -> None:
    """`rows` events, each with one delivery and one attempt; rows/10 sends and media files."""
    now = utcnow()
    statuses = ("delivered",) * 8 + ("failed", "pending")
    with store.session() as db:
        db.add(Endpoint(id="ep_bench", kind="listener", url="http://127.0.0.1:9/hook", secret="whsec_x"))
        db.flush()
        db.execute(insert(Event), [{"id": f"evt_{i}", "type": "message-received", "session_id": "shop",
                                    "timestamp": now, "data": {}} for i in range(rows)])
        db.execute(insert(Delivery), [{"id": f"dlv_{i}", "event_id": f"evt_{i}", "endpoint_id": "ep_bench",
                                       "event_type": "message-received", "session_id": "shop",
                                       "url": "http://127.0.0.1:9/hook", "status": statuses[i % 10],
                                       "created_at": now - timedelta(seconds=i)} for i in range(rows)])
        db.execute(insert(Attempt), [{"delivery_id": f"dlv_{i}", "at": now, "status_code": 200,
                                      "success": True, "latency_ms": 1 + i % 300} for i in range(rows)])
        db.execute(insert(Outbound), [{"id": f"out_{i}", "session_id": "shop", "to": "51999000111@s.whatsapp.net",
                                       "type": "text", "status": "queued" if i % 2 else "sent"}
                                      for i in range(rows // 10)])
        db.execute(insert(MediaFile), [{"id": f"med_{i}", "session_id": "shop", "message_row_id": "none",
                                        "status": "stored", "kind": "image", "file_size": 1000,
                                        "event_type": "message-received"} for i in range(rows // 10)])


def timed(client, path: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert client.get(path, headers=AUTH).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    app = create_app(Config.for_tests(tempfile.mkdtemp()))
    store = app.extensions["hub"].store
    with store.engine.connect() as connection:  # media rows point at no message: skip the FK check
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    started = time.perf_counter()
    fill(store, args.rows)
    print(f"filled {args.rows:,} events/deliveries/attempts in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    first = timed(client, "/metrics", (args.rows + 19_999) // 20_000)
    print(f"first scrapes (ingesting the attempt history): {', '.join(f'{t:.0f}' for t in first)} ms")
    scrape = statistics.median(timed(client, "/metrics", args.runs))
    health = statistics.median(timed(client, "/api/health", args.runs))
    print(f"/metrics median {scrape:.1f} ms; /api/health median {health:.1f} ms; ratio {scrape / health:.1f}x")


if __name__ == "__main__":
    main()
